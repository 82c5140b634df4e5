// Joining continuation lines into events: start pattern, line and byte limits, and the quiet deadline.
import { describe, expect, it } from 'vitest';
import { MultilineJoiner } from '../../agent/input/multiline.js';

function joiner(o: { maxLines?: number; maxBytes?: number } = {}) {
  const out: { text: string; end: number }[] = [];
  const j = new MultilineJoiner(
    { start: /^\d{4}-/, maxLines: o.maxLines ?? 1000, maxBytes: o.maxBytes ?? 1 << 20, flushTimeoutMs: 500 },
    (buf, s, e, end) => out.push({ text: buf.toString('utf8', s, e), end }),
  );
  let offset = 0;
  const line = (text: string, at = 0) => {
    const buf = Buffer.from(`##${text}##`);
    offset += Buffer.byteLength(text) + 1;
    j.push(buf, 2, buf.length - 2, offset, at);
  };
  return { out, j, line };
}

describe('MultilineJoiner', () => {
  it('appends non-matching lines to the current event and emits it at the next start line', () => {
    const { out, j, line } = joiner();
    line('2024-01-01 boom');
    line('  at a()');
    line('  at b()');
    expect(out).toEqual([]);
    line('2024-01-01 next');
    expect(out).toEqual([{ text: '2024-01-01 boom\n  at a()\n  at b()', end: 34 }]);
    expect(j.pending).toBe(true);
  });

  it('keeps lines before the first start line as an event of their own', () => {
    const { out, j, line } = joiner();
    line('orphan 1');
    line('orphan 2');
    line('2024-01-01 first');
    j.flush();
    expect(out.map((o) => o.text)).toEqual(['orphan 1\norphan 2', '2024-01-01 first']);
  });

  it('reports the quiet deadline from the last appended line', () => {
    const { j, line } = joiner();
    expect(j.deadline()).toBeUndefined();
    line('2024-01-01 a', 100);
    line('  more', 250);
    expect(j.deadline()).toBe(750);
    j.flush();
    expect(j.deadline()).toBeUndefined();
  });

  it('emits an event once it holds maxLines lines', () => {
    const { out, line } = joiner({ maxLines: 2 });
    line('2024-01-01 a');
    line('  1');
    line('  2');
    expect(out.map((o) => o.text)).toEqual(['2024-01-01 a\n  1']);
  });

  it('emits the event before a line would push it past maxBytes', () => {
    const { out, line } = joiner({ maxBytes: 20 });
    line('2024-01-01 a'); // 12 bytes
    line('  1234'); // +1+6 = 19
    line('  5'); // would be 23
    expect(out.map((o) => o.text)).toEqual(['2024-01-01 a\n  1234']);
  });
});
