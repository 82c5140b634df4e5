// Following files: order, no loss or duplicates under live appends, partial lines, discovery, parsing, errors.
import { appendFile, chmod, mkdir, open, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeLogGroup, encodeLogGroup } from '../../agent/wire/loggroup.js';
import { FileInput, InputConfigError } from '../../agent/input/index.js';
import { contentOf, FAST, offsetsGrowPerFile, tagOf, useInputFixture, until } from './harness.js';

const fixture = useInputFixture();
const harness = fixture.harness;

describe('FileInput: reading', () => {
  it('reuses the memory of the runs one read() handed out for the runs of a later read()', async () => {
    const file = path.join(fixture.dir, 'app.log');
    const lines = Array.from({ length: 3000 }, (_, i) => `line ${i} ${'y'.repeat(i % 40)}`);
    await writeFile(file, `${lines.join('\n')}\n`);
    const h = harness([{ paths: [file], ...FAST }], { readChunkBytes: 4096, consume: false });
    const got: string[] = [];
    const buffers = new Set<ArrayBufferLike>();
    let runs = 0;
    while (got.length < lines.length) {
      for (const run of await h.input.read(50)) {
        runs++;
        buffers.add(run.bytes.buffer);
        // Decoded now: once read() is called again, these bytes may be overwritten.
        for (const log of decodeLogGroup(run.bytes).logs) got.push(String(log.contents[0].value));
      }
    }
    expect(got).toEqual(lines);
    expect(runs).toBeGreaterThan(30);
    expect(buffers.size).toBeLessThan(10);
  });

  it('delivers every line of many live appends once, in order, with growing end offsets', async () => {
    const file = path.join(fixture.dir, 'app.log');
    const fh = await open(file, 'a');
    const h = harness([{ paths: [path.join(fixture.dir, '*.log')], ...FAST }], { readChunkBytes: 4096, batch: 97 });
    const total = 20_000;
    let text = '';
    for (let i = 0; i < total; i++) text += `line ${i} ${'x'.repeat(i % 50)}\n`;
    // Write in uneven pieces that cut lines anywhere, yielding so the reader runs in between.
    let seed = 1;
    for (let at = 0; at < text.length; ) {
      seed = (seed * 48271) % 2147483647;
      const n = 1 + (seed % 3000);
      await fh.write(text.slice(at, at + n));
      at += n;
      if (seed % 4 === 0) await new Promise((r) => setImmediate(r));
    }
    await fh.close();
    await h.waitForLines(total);
    const texts = h.texts();
    expect(texts).toHaveLength(total);
    for (let i = 0; i < total; i++) {
      if (texts[i] !== `line ${i} ${'x'.repeat(i % 50)}`) throw new Error(`line ${i} is "${texts[i]}"`);
    }
    expect(offsetsGrowPerFile(h.entries)).toBe(true);
    expect(h.entries.at(-1)!.endOffset).toBe(Buffer.byteLength(text));
    expect(h.input.files()).toMatchObject([{ path: file, offset: Buffer.byteLength(text) }]);
  });

  it('fills entry fields: topic, source, tags with __hostname__ and __path__, static fields, time', async () => {
    const file = path.join(fixture.dir, 'a.log');
    await writeFile(file, 'hello\n');
    const before = Math.floor(Date.now() / 1000);
    const h = harness([
      { paths: [file], topic: 'web', source: '10.0.0.9', fields: { env: 'prod' }, tags: { team: 'core' }, ...FAST },
    ]);
    await h.waitForLines(1);
    const [e] = h.entries;
    expect(e.topic).toBe('web');
    expect(e.source).toBe('10.0.0.9');
    expect(e.tags).toEqual([
      { key: 'team', value: 'core' },
      { key: '__hostname__', value: 'test-host' },
      { key: '__path__', value: file },
    ]);
    expect(e.log.contents.map((c) => c.key)).toEqual(['content', 'env']);
    expect(e.log.contents[1].value).toBe('prod');
    expect(e.log.time).toBeGreaterThanOrEqual(before);
    expect(e.log.timeNs).toBeGreaterThanOrEqual(0);
    expect(e.log.timeNs).toBeLessThan(1e9);
    expect(e.endOffset).toBe(6);
  });

  it('defaults the source to the hostname and the topic to empty', async () => {
    await writeFile(path.join(fixture.dir, 'a.log'), 'x\n');
    const h = harness([{ paths: [path.join(fixture.dir, 'a.log')], ...FAST }]);
    await h.waitForLines(1);
    expect(h.entries[0].source).toBe('test-host');
    expect(h.entries[0].topic).toBe('');
  });

  it('holds a partial line until its newline arrives', async () => {
    const file = path.join(fixture.dir, 'a.log');
    await writeFile(file, '');
    const h = harness([{ paths: [file], ...FAST }]);
    await h.waitForEvent('opened');
    // One small write: the read that yields "first" has seen "second hal" too (the size grows once per write).
    await appendFile(file, 'first\nsecond hal');
    await h.waitForLines(1);
    await appendFile(file, 'f\nthird\n');
    await h.waitForLines(3);
    expect(h.texts()).toEqual(['first', 'second half', 'third']);
    expect(h.entries.map((e) => e.endOffset)).toEqual([6, 18, 24]);
  });

  it.skipIf(process.getuid?.() === 0)('reports a directory that cannot be listed', async () => {
    await mkdir(path.join(fixture.dir, 'locked'));
    await chmod(path.join(fixture.dir, 'locked'), 0o000);
    const h = harness([{ paths: [path.join(fixture.dir, 'locked', '*.log')], ...FAST }]);
    await h.waitForEvent('error');
    expect(h.eventsOf('error')[0].message).toMatch(/^cannot list .*locked: permission denied/);
    await chmod(path.join(fixture.dir, 'locked'), 0o700);
  });

  it('startAt end skips what a file held at startup, but a file created later is read from 0', async () => {
    await writeFile(path.join(fixture.dir, 'old.log'), 'old 1\nold 2\n');
    const h = harness([{ paths: [path.join(fixture.dir, '*.log')], startAt: 'end', ...FAST }]);
    await h.waitForEvent('opened');
    await appendFile(path.join(fixture.dir, 'old.log'), 'old 3\n');
    await writeFile(path.join(fixture.dir, 'new.log'), 'new 1\n');
    await h.waitForLines(2);
    expect(h.texts().sort()).toEqual(['new 1', 'old 3']);
    expect(h.entries.find((e) => contentOf(e) === 'old 3')!.endOffset).toBe(18);
    const started = Object.fromEntries(h.input.files().map((f) => [path.basename(f.path), f.startOffset]));
    expect(started).toEqual({ 'old.log': 12, 'new.log': 0 });
  });

  it('finds files by include/exclude globs and picks up a new matching file', async () => {
    await mkdir(path.join(fixture.dir, 'sub', 'deep'), { recursive: true });
    for (const [f, body] of [
      ['a.log', 'a\n'],
      ['b.txt', 'b\n'],
      ['skip.log', 'skip\n'],
      ['sub/c.log', 'c\n'],
      ['sub/deep/d.log', 'd\n'],
      ['e.bin', 'e\n'],
    ]) {
      await writeFile(path.join(fixture.dir, f), body);
    }
    const h = harness([{ paths: [`${fixture.dir}/**/*.log`, `${fixture.dir}/*.{txt,json}`], exclude: ['skip.log', `${fixture.dir}/**/deep/**`], ...FAST }]);
    await h.waitForLines(3);
    await mkdir(path.join(fixture.dir, 'sub', 'later'));
    await writeFile(path.join(fixture.dir, 'sub', 'later', 'new.log'), 'new\n');
    await writeFile(path.join(fixture.dir, 'z.json'), 'z\n');
    await h.waitForLines(5);
    expect(h.texts().sort()).toEqual(['a', 'b', 'c', 'new', 'z']);
    expect(h.eventsOf('opened')).toHaveLength(5);
  });

  it('gives each file to the first input whose globs match it', async () => {
    await writeFile(path.join(fixture.dir, 'a.log'), 'a\n');
    await writeFile(path.join(fixture.dir, 'b.log'), 'b\n');
    const h = harness([
      { paths: [path.join(fixture.dir, 'a.log')], topic: 'first', ...FAST },
      { paths: [path.join(fixture.dir, '*.log')], topic: 'second', ...FAST },
    ]);
    await h.waitForLines(2);
    expect(Object.fromEntries(h.entries.map((e) => [contentOf(e), e.topic]))).toEqual({ a: 'first', b: 'second' });
  });

  it('reads a file reached through two names (a symlink) once', async () => {
    await writeFile(path.join(fixture.dir, 'real.log'), 'once\n');
    await symlink(path.join(fixture.dir, 'real.log'), path.join(fixture.dir, 'alias.log'));
    const h = harness([{ paths: [path.join(fixture.dir, '*.log')], ...FAST }]);
    await h.waitForLines(1);
    await appendFile(path.join(fixture.dir, 'real.log'), 'twice\n');
    await h.waitForLines(2);
    await h.waitForEvent('opened');
    expect(h.texts()).toEqual(['once', 'twice']);
    expect(h.eventsOf('opened')).toHaveLength(1);
  });

  it('splits a line longer than maxLineBytes into marked pieces and never drops it', async () => {
    const file = path.join(fixture.dir, 'a.log');
    const long = 'abcdefghij'.repeat(2) + 'XYZ';
    await writeFile(file, `short\n${long}\nafter\n`);
    const h = harness([{ paths: [file], maxLineBytes: 10, parser: { type: 'json' }, ...FAST }]);
    await h.waitForLines(5);
    const rows = h.entries.map((e) => [contentOf(e), contentOf(e, '__split__') ?? null, e.endOffset]);
    expect(rows.slice(1, 4)).toEqual([
      ['abcdefghij', '1/?', 16],
      ['abcdefghij', '2/?', 26],
      ['XYZ', '3/3', 30],
    ]);
    // Pieces skip the parser; whole lines still go through it.
    expect(contentOf(h.entries[0], '__parse_error__')).toBeDefined();
    expect(h.entries[1].log.contents.map((c) => c.key)).toEqual(['content', '__split__']);
  });

  it('keeps invalid UTF-8 byte for byte, through the LogGroup codec', async () => {
    const file = path.join(fixture.dir, 'bin.log');
    const bad = Buffer.from([0xff, 0xfe, 0x41, 0xc3, 0x28, 0x80]);
    const good = Buffer.from('ünïcode ✓');
    await writeFile(file, Buffer.concat([bad, Buffer.from('\n'), good, Buffer.from('\n')]));
    const h = harness([{ paths: [file], ...FAST }]);
    await h.waitForLines(2);
    const [first, second] = h.entries.map((e) => e.log.contents[0].value);
    expect(Buffer.from(first as Uint8Array).equals(bad)).toBe(true);
    expect(Buffer.from(second as Uint8Array).equals(good)).toBe(true);
    const decoded = decodeLogGroup(encodeLogGroup({ logs: h.entries.map((e) => e.log), logTags: [] }));
    expect(Buffer.from(decoded.logs[0].contents[0].value as Uint8Array).equals(bad)).toBe(true);
    expect(decoded.logs[1].contents[0].value).toBe('ünïcode ✓');
  });

  it('parses JSON and regex lines, and marks lines that do not parse', async () => {
    await writeFile(path.join(fixture.dir, 'j.log'), '{"level":"info","n":1}\nnot json\n');
    await writeFile(path.join(fixture.dir, 'r.log'), 'GET /a 200\nnonsense\n');
    const h = harness([
      { paths: [path.join(fixture.dir, 'j.log')], parser: { type: 'json' }, ...FAST },
      { paths: [path.join(fixture.dir, 'r.log')], parser: { type: 'regex', pattern: '^(?<method>\\w+) (?<path>\\S+) (?<status>\\d+)$' }, ...FAST },
    ]);
    await h.waitForLines(4);
    const byFile = (f: string) => h.entries.filter((e) => tagOf(e, '__path__') === path.join(fixture.dir, f)).map((e) => e.log.contents);
    expect(byFile('j.log')[0]).toEqual([
      { key: 'level', value: 'info' },
      { key: 'n', value: '1' },
    ]);
    expect(byFile('j.log')[1].map((c) => c.key)).toEqual(['content', '__parse_error__']);
    expect(byFile('r.log')[0]).toEqual([
      { key: 'method', value: 'GET' },
      { key: 'path', value: '/a' },
      { key: 'status', value: '200' },
    ]);
    expect(byFile('r.log')[1]).toEqual([
      { key: 'content', value: 'nonsense' },
      { key: '__parse_error__', value: 'no match' },
    ]);
  });

  it('rejects a bad configuration with a one-line InputConfigError naming the key', () => {
    const make = (cfg: object) => () => new FileInput([cfg as never], { checkpoints: new Map() });
    expect(make({ paths: ['/x'], parser: { type: 'regex', pattern: '(' } })).toThrow(InputConfigError);
    expect(make({ paths: ['/x'], parser: { type: 'regex', pattern: '(' } })).toThrow(/^inputs\[0\]\.parser: [^\n]+$/);
    expect(make({ paths: ['/x'], multiline: { startPattern: '[', flushTimeoutMs: 1 } })).toThrow(/inputs\[0\]\.multiline\.startPattern/);
    expect(make({ paths: [] })).toThrow(/inputs\[0\]\.paths/);
    expect(make({ paths: ['/x'], maxLineBytes: 0 })).toThrow(/maxLineBytes/);
  });
});

describe('FileInput: multiline', () => {
  const multiline = { startPattern: '^\\d{4}-\\d\\d-\\d\\d ', flushTimeoutMs: 150 };

  it('joins continuation lines to their start line; the last event is flushed after quiet', async () => {
    const file = path.join(fixture.dir, 'java.log');
    const text = '2024-01-01 ERROR boom\n  at a.B(C.java:1)\n  at d.E(F.java:2)\n2024-01-01 INFO ok\n2024-01-01 WARN last\n  caused by x\n';
    await writeFile(file, text);
    const h = harness([{ paths: [file], multiline, ...FAST }]);
    await h.waitForLines(2);
    expect(h.texts()).toEqual(['2024-01-01 ERROR boom\n  at a.B(C.java:1)\n  at d.E(F.java:2)', '2024-01-01 INFO ok']);
    expect(h.entries[0].endOffset).toBe(text.indexOf('2024-01-01 INFO'));
    // Nothing follows the last event: it comes out once the file has been quiet for flushTimeoutMs.
    await h.waitForLines(3);
    expect(h.texts()[2]).toBe('2024-01-01 WARN last\n  caused by x');
    expect(h.entries[2].endOffset).toBe(Buffer.byteLength(text));
    expect(h.input.files()[0].offset).toBe(Buffer.byteLength(text));
  });

  it('appends a continuation line that arrives before the quiet time is over', async () => {
    const file = path.join(fixture.dir, 'a.log');
    await writeFile(file, '2024-01-01 start\n');
    const h = harness([{ paths: [file], multiline: { ...multiline, flushTimeoutMs: 5000 }, ...FAST }]);
    await h.waitForEvent('opened');
    await appendFile(file, '  continued\n2024-01-02 next\n');
    await h.waitForLines(1);
    expect(h.texts()).toEqual(['2024-01-01 start\n  continued']);
  });

  it('keeps events and partial lines intact across many small reads into the one reused read buffer', async () => {
    const file = path.join(fixture.dir, 'java.log');
    const events = Array.from({ length: 300 }, (_, i) => `2024-01-01 event ${i} ${'x'.repeat(i % 97)}\n  at frame ${i}\n  at more ${i}`);
    await writeFile(file, `${events.join('\n')}\n`);
    const h = harness([{ paths: [file], multiline: { ...multiline, flushTimeoutMs: 100 }, ...FAST }], { readChunkBytes: 4096, batch: 7 });
    await h.waitForLines(300);
    expect(h.texts()).toEqual(events);
  });

  it('emits an event at maxLines', async () => {
    const file = path.join(fixture.dir, 'a.log');
    await writeFile(file, '2024-01-01 s\n 1\n 2\n 3\n');
    const h = harness([{ paths: [file], multiline: { ...multiline, maxLines: 2, flushTimeoutMs: 5000 }, ...FAST }]);
    await h.waitForLines(2);
    // Both events are complete at two lines; neither waits for the (long) quiet time.
    expect(h.texts()).toEqual(['2024-01-01 s\n 1', ' 2\n 3']);
  });
});

describe('FileInput: errors', () => {
  it('reports an unreadable path as a one-line error event naming it, and keeps following other files', async () => {
    await writeFile(path.join(fixture.dir, 'ok.log'), 'fine\n');
    await symlink('loop.log', path.join(fixture.dir, 'loop.log')); // stat() fails with ELOOP, even for root
    const h = harness([{ paths: [path.join(fixture.dir, '*.log')], ...FAST }]);
    await h.waitForEvent('error');
    await h.waitForLines(1);
    const [err] = h.eventsOf('error');
    expect(err.path).toBe(path.join(fixture.dir, 'loop.log'));
    expect(err.message).toContain(path.join(fixture.dir, 'loop.log'));
    expect(err.message).not.toContain('\n');
    expect(h.texts()).toEqual(['fine']);
    await appendFile(path.join(fixture.dir, 'ok.log'), 'still\n');
    await h.waitForLines(2);
    expect(h.eventsOf('error')).toHaveLength(1); // reported once, not on every scan
  });

  it.skipIf(process.getuid?.() === 0)('reports a file without read permission', async () => {
    const file = path.join(fixture.dir, 'secret.log');
    await writeFile(file, 'x\n');
    await chmod(file, 0o000);
    const h = harness([{ paths: [file], ...FAST }]);
    await h.waitForEvent('error');
    expect(h.eventsOf('error')[0].message).toMatch(/permission denied/);
  });

  it('read() resolves [] after close(), including a read that was waiting', async () => {
    const input = new FileInput([{ paths: [path.join(fixture.dir, '*.log')], ...FAST }], { checkpoints: new Map() });
    const waiting = input.read(10);
    await input.close();
    expect(await waiting).toEqual([]);
    expect(await input.read(10)).toEqual([]);
  });
});
