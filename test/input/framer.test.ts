// Line framing: newlines, held partial lines, CRLF, and splitting of over-long lines, whatever the read boundaries.
import { describe, expect, it } from 'vitest';
import { LineFramer } from '../../agent/input/framer.js';
import { canFrameLines, encodeContents, LogWriter } from '../../agent/wire/log-writer.js';
import { decodeLogGroup } from '../../agent/wire/loggroup.js';

interface Framed {
  text: string;
  end: number;
  split?: string;
}

/** Feeds text to `f` as reads would, through bufferFor and consume, tracking the file offset. */
function feeder(f: LineFramer) {
  let offset = 0;
  const feed = (text: string) => {
    const bytes = Buffer.from(text, 'latin1');
    const { buf, at } = f.bufferFor(bytes.length);
    bytes.copy(buf, at);
    f.consume(buf, at + bytes.length, offset - at);
    offset += bytes.length;
  };
  return { feed, offset: () => offset };
}

function framer(maxLineBytes: number) {
  const out: Framed[] = [];
  const f = new LineFramer(maxLineBytes, {
    line: (buf, s, e, end) => out.push({ text: buf.toString('latin1', s, e), end }),
    piece: (buf, s, e, end, split) => out.push({ text: buf.toString('latin1', s, e), end, split }),
  });
  return { out, f, ...feeder(f) };
}

/** A framer whose sink takes lines in bulk (LogWriter.lines: the native framer), read back as Framed entries. */
function bulkFramer(maxLineBytes: number) {
  const writer = new LogWriter('content', encodeContents([]));
  let offsets = new Float64Array(1);
  const offsetsFor = (n: number) => (n > offsets.length ? (offsets = Float64Array.from({ length: n }, (_, i) => offsets[i] ?? 0)) : offsets);
  const f = new LineFramer(maxLineBytes, {
    line: (buf, s, e, end) => {
      writer.line(1, 2, buf, s, e);
      offsetsFor(writer.count)[writer.count - 1] = end;
    },
    piece: (buf, s, e, end, split) => {
      writer.log({ time: 1, contents: [{ key: 'content', value: buf.subarray(s, e) }, { key: '__split__', value: split }], timeNs: 2 });
      offsetsFor(writer.count)[writer.count - 1] = end;
    },
    lines: (buf, s, e, max, at) => writer.lines(1, 2, buf, s, e, max, at, offsetsFor),
  });
  const out = (): Framed[] => {
    const logs = writer.take();
    if (!logs) return [];
    return decodeLogGroup(logs.bytes).logs.map((log, i) => {
      const [content, split] = log.contents;
      const text = typeof content.value === 'string' ? Buffer.from(content.value).toString('latin1') : Buffer.from(content.value).toString('latin1');
      return split ? { text, end: offsets[i], split: String(split.value) } : { text, end: offsets[i] };
    });
  };
  return { out, f, ...feeder(f) };
}

describe('LineFramer', () => {
  it('emits complete lines with the offset after their newline and strips a trailing \\r', () => {
    const { out, feed } = framer(100);
    feed('one\ntwo\r\n\nthree\r\r\n');
    expect(out).toEqual([
      { text: 'one', end: 4 },
      { text: 'two', end: 9 },
      { text: '', end: 10 },
      { text: 'three\r', end: 18 },
    ]);
  });

  it('holds a partial line until its newline arrives, across any number of reads', () => {
    const { out, feed, f } = framer(100);
    feed('par');
    feed('tial li');
    expect(out).toEqual([]);
    expect(f.heldBytes).toBe(10);
    feed('ne\nnext');
    expect(out).toEqual([{ text: 'partial line', end: 13 }]);
    expect(f.heldBytes).toBe(4);
  });

  it('emits the held partial line when flushed (file finished)', () => {
    const { out, feed, f, offset } = framer(100);
    feed('a\nlast words');
    f.flushPartial(offset());
    expect(out).toEqual([
      { text: 'a', end: 2 },
      { text: 'last words', end: 12 },
    ]);
    f.flushPartial(offset());
    expect(out).toHaveLength(2);
  });

  it('splits a line longer than maxLineBytes into exact pieces marked i/? and n/n', () => {
    const { out, feed } = framer(10);
    feed('0123456789abcdefghijKLMNO\nshort\n');
    expect(out).toEqual([
      { text: '0123456789', end: 10, split: '1/?' },
      { text: 'abcdefghij', end: 20, split: '2/?' },
      { text: 'KLMNO', end: 26, split: '3/3' },
      { text: 'short', end: 32 },
    ]);
  });

  it('does not split a line of exactly maxLineBytes, with or without \\r\\n', () => {
    const { out, feed } = framer(5);
    feed('abcde\nfghij\r\n');
    expect(out).toEqual([
      { text: 'abcde', end: 6 },
      { text: 'fghij', end: 13 },
    ]);
  });

  it('emits pieces of a long line before its newline arrives, so memory stays bounded', () => {
    const { out, feed, f } = framer(4);
    feed('aaaabbbbcc');
    expect(out.map((o) => o.split)).toEqual(['1/?', '2/?']);
    expect(f.heldBytes).toBe(2);
    feed('\n');
    expect(out).toEqual([
      { text: 'aaaa', end: 4, split: '1/?' },
      { text: 'bbbb', end: 8, split: '2/?' },
      { text: 'cc', end: 11, split: '3/3' },
    ]);
  });

  it('produces the same lines and pieces whatever the read boundaries', () => {
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let text = '';
    for (let i = 0; i < 400; i++) {
      text += 'x'.repeat(rand(30)) + (rand(5) === 0 ? '\r' : '') + (rand(10) === 0 ? '' : '\n');
    }
    const whole = framer(7);
    whole.feed(text);
    whole.f.flushPartial(whole.offset());
    for (let trial = 0; trial < 20; trial++) {
      const parts = framer(7);
      for (let i = 0; i < text.length; ) {
        const n = 1 + rand(20);
        parts.feed(text.slice(i, i + n));
        i += n;
      }
      parts.f.flushPartial(parts.offset());
      expect(parts.out).toEqual(whole.out);
    }
    // The pieces rebuild the original content exactly.
    const rebuilt: string[] = [];
    let current = '';
    for (const o of whole.out) {
      current += o.text;
      if (!o.split || o.split.endsWith(o.split.split('/')[0])) {
        rebuilt.push(current);
        current = '';
      }
    }
    const expected = text.split('\n').map((l, i, all) => (i < all.length - 1 && l.endsWith('\r') ? l.slice(0, -1) : l));
    if (expected[expected.length - 1] === '') expected.pop();
    expect(rebuilt).toEqual(expected);
  });

  it.skipIf(!canFrameLines)('gives a sink that takes lines in bulk (the native framer) exactly what line() and piece() give, whatever the reads', () => {
    let seed = 11;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let round = 0; round < 10; round++) {
      let text = '';
      for (let i = 0; i < 300; i++) {
        const body = Array.from({ length: rand(round % 2 ? 30 : 12) }, () => String.fromCharCode(rand(4) === 0 ? 0xe9 : 0x61 + rand(26))).join('');
        text += body + (rand(5) === 0 ? '\r' : '') + (rand(10) === 0 ? '' : '\n');
      }
      const plain = framer(9);
      const bulk = bulkFramer(9);
      for (let i = 0; i < text.length; ) {
        const n = 1 + rand(round < 5 ? 40 : 400);
        plain.feed(text.slice(i, i + n));
        bulk.feed(text.slice(i, i + n));
        i += n;
      }
      plain.f.flushPartial(plain.offset());
      bulk.f.flushPartial(bulk.offset());
      expect(bulk.out()).toEqual(plain.out);
    }
  });

  it('continues the piece numbering of a line split before a restart', () => {
    const { out, feed, f } = framer(4);
    f.continueSplitLine(2);
    feed('ccccdd\n');
    expect(out.map((o) => [o.text, o.split])).toEqual([
      ['cccc', '3/?'],
      ['dd', '4/4'],
    ]);
  });
});
