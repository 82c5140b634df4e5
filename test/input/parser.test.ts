// Line parsers: raw bytes, JSON objects, regex named groups, and what a line that does not parse becomes.
import { describe, expect, it } from 'vitest';
import { createParser } from '../../agent/input/parser.js';

const parse = (config: Parameters<typeof createParser>[0], line: string | Buffer) => {
  const bytes = typeof line === 'string' ? Buffer.from(line) : line;
  const buf = Buffer.concat([Buffer.from('>>'), bytes, Buffer.from('<<')]);
  return createParser(config)(buf, 2, 2 + bytes.length);
};

const text = (v: string | Uint8Array) => (typeof v === 'string' ? v : Buffer.from(v).toString('utf8'));

describe('raw parser', () => {
  it('keeps the line bytes under `content`, exactly, as a view without copying or decoding', () => {
    const [c, ...rest] = parse({ type: 'raw' }, 'héllo');
    expect(rest).toEqual([]);
    expect(c.key).toBe('content');
    expect(c.value).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(c.value as Uint8Array)).toEqual(Buffer.from('héllo'));
  });

  it('is the default', () => {
    expect(text(parse(undefined, 'x')[0].value)).toBe('x');
  });
});

describe('json parser', () => {
  it('turns top-level keys into contents, stringifying non-string values', () => {
    const contents = parse({ type: 'json' }, '{"msg":"hi","n":3,"ok":true,"nil":null,"obj":{"a":[1,2]}}');
    expect(contents).toEqual([
      { key: 'msg', value: 'hi' },
      { key: 'n', value: '3' },
      { key: 'ok', value: 'true' },
      { key: 'nil', value: 'null' },
      { key: 'obj', value: '{"a":[1,2]}' },
    ]);
  });

  it('keeps a line that is not JSON under `content`, with a one-line __parse_error__', () => {
    const contents = parse({ type: 'json' }, '{"broken":');
    expect(contents[0]).toEqual({ key: 'content', value: '{"broken":' });
    expect(contents[1].key).toBe('__parse_error__');
    expect(contents[1].value).not.toContain('\n');
    expect(contents).toHaveLength(2);
  });

  it('treats JSON that is not an object as a parse error', () => {
    expect(parse({ type: 'json' }, '[1,2]')).toEqual([
      { key: 'content', value: '[1,2]' },
      { key: '__parse_error__', value: 'not a JSON object' },
    ]);
  });

  it('keeps invalid UTF-8 as raw bytes rather than decoding it lossily', () => {
    const bad = Buffer.from([0x7b, 0xff, 0x7d]);
    const contents = parse({ type: 'json' }, bad);
    expect(Buffer.from(contents[0].value as Uint8Array)).toEqual(bad);
    expect(contents[1]).toEqual({ key: '__parse_error__', value: 'invalid UTF-8' });
  });
});

describe('regex parser', () => {
  const config = { type: 'regex' as const, pattern: '^(?<ip>\\S+) (?<method>[A-Z]+) (?<path>\\S+)(?: (?<extra>\\S+))?$' };

  it('makes a content of each named group that took part in the match', () => {
    expect(parse(config, '10.0.0.1 GET /index.html')).toEqual([
      { key: 'ip', value: '10.0.0.1' },
      { key: 'method', value: 'GET' },
      { key: 'path', value: '/index.html' },
    ]);
  });

  it('keeps a line that does not match under `content` with __parse_error__', () => {
    expect(parse(config, 'garbage')).toEqual([
      { key: 'content', value: 'garbage' },
      { key: '__parse_error__', value: 'no match' },
    ]);
  });

  it('rejects a pattern without named groups, or one that does not compile', () => {
    expect(() => createParser({ type: 'regex', pattern: '^(\\S+)$' })).toThrow(/named group/);
    expect(() => createParser({ type: 'regex', pattern: '(?<a>' })).toThrow();
  });
});
