import { describe, expect, it } from 'vitest';
import { Batcher, type BatchRun } from '../../agent/batch/batcher.js';
import { encodeContents, LogWriter } from '../../agent/wire/log-writer.js';
import { decodeLogGroup, encodeLogGroup, type LogTag } from '../../agent/wire/loggroup.js';

const TIME = 1700000000;
const pathTags: LogTag[] = [{ key: '__path__', value: '/var/log/a.log' }];

/** Lines `line <from>` … `line <to - 1>` of one file as the input hands them out; line i ends at offset (i + 1) * 10. */
function run(from: number, to: number, over: Partial<BatchRun> = {}): BatchRun {
  const writer = new LogWriter('content', encodeContents([]));
  for (let i = from; i < to; i++) {
    const line = Buffer.from(`line ${i}`);
    writer.line(TIME + i, 0, line, 0, line.length);
  }
  const logs = writer.take()!;
  const offsets = Float64Array.from({ length: to - from }, (_, k) => (from + k + 1) * 10);
  return { ...logs, offsets, startOffset: from * 10, topic: 'app', source: 'host', tags: pathTags, fileId: 'f1', input: 0, ...over };
}

const texts = (encoded: Uint8Array) => decodeLogGroup(encoded).logs.map((l) => l.contents[0].value);

describe('Batcher', () => {
  it('flushes a group when it reaches maxLogs, keeping log order and the last end offset per file', () => {
    const b = new Batcher({ maxBytes: 1 << 20, maxLogs: 3, lingerMs: 1000 });
    expect(b.add(run(0, 1))).toEqual([]);
    expect(b.add(run(1, 2))).toEqual([]);
    const [batch] = b.add(run(2, 3));
    expect(texts(batch.encoded)).toEqual(['line 0', 'line 1', 'line 2']);
    expect(batch.logCount).toBe(3);
    expect(batch.ends.get('f1')).toBe(30);
    expect(batch.counts.get('f1')).toBe(3);
    const group = decodeLogGroup(batch.encoded);
    expect(group.topic).toBe('app');
    expect(group.source).toBe('host');
    expect(group.logTags).toEqual(pathTags);
    expect(b.openLogs).toBe(0);
  });

  it('cuts a run across batches at maxLogs, each batch ending at its own last log', () => {
    const b = new Batcher({ maxBytes: 1 << 20, maxLogs: 3, lingerMs: 1000 });
    const full = b.add(run(0, 7));
    expect(full.map((x) => texts(x.encoded))).toEqual([
      ['line 0', 'line 1', 'line 2'],
      ['line 3', 'line 4', 'line 5'],
    ]);
    expect(full.map((x) => x.ends.get('f1'))).toEqual([30, 60]);
    expect(b.openLogs).toBe(1);
    const [rest] = b.flushAll();
    expect(texts(rest.encoded)).toEqual(['line 6']);
    expect(rest.ends.get('f1')).toBe(70);
  });

  it('writes exactly the bytes encodeLogGroup writes for the same group, in a buffer that can be moved', () => {
    const b = new Batcher({ maxBytes: 1 << 20, maxLogs: 4096, lingerMs: 1000 });
    b.add(run(0, 2));
    b.add(run(2, 5));
    const [batch] = b.flushAll();
    const logs = Array.from({ length: 5 }, (_, i) => ({
      time: TIME + i,
      contents: [{ key: 'content', value: `line ${i}` }],
      timeNs: 0,
    }));
    const expected = encodeLogGroup({ logs, topic: 'app', source: 'host', logTags: pathTags });
    expect(Buffer.from(batch.encoded).equals(Buffer.from(expected))).toBe(true);
    expect(batch.encoded.byteOffset).toBe(0);
  });

  it('fills a recycled buffer again for a later group, and copies runs as they arrive', () => {
    const b = new Batcher({ maxBytes: 1 << 16, maxLogs: 2, lingerMs: 1000 });
    const [first] = b.add(run(0, 2));
    const buffer = first.encoded.buffer;
    b.recycle(buffer);
    const input = run(2, 4);
    const [second] = b.add(input);
    expect(second.encoded.buffer).toBe(buffer);
    input.bytes.fill(0); // the input reuses a run's memory once read again: the batch must not depend on it
    expect(texts(second.encoded)).toEqual(['line 2', 'line 3']);
    // A buffer of any other size (a one-off for an oversized log) is not kept.
    b.recycle(new ArrayBuffer(10));
    const [third] = b.add(run(4, 6));
    expect(third.encoded.buffer.byteLength).not.toBe(10);
  });

  it('keeps no recycled buffer once told to release them (an agent gone quiet)', () => {
    const b = new Batcher({ maxBytes: 1 << 16, maxLogs: 2, lingerMs: 1000 });
    const [first] = b.add(run(0, 2));
    b.recycle(first.encoded.buffer);
    b.releaseSpares();
    const [second] = b.add(run(2, 4));
    expect(second.encoded.buffer).not.toBe(first.encoded.buffer);
    expect(texts(second.encoded)).toEqual(['line 2', 'line 3']);
  });

  it('flushes before a log would push the group over maxBytes; a log larger than maxBytes travels alone', () => {
    const one = run(0, 1).bytes.length; // every "line N" log with one-digit N has the same size
    const b = new Batcher({ maxBytes: one * 2 + 1, maxLogs: 4096, lingerMs: 1000 });
    const flushed = b.add(run(0, 3));
    expect(flushed).toHaveLength(1);
    expect(texts(flushed[0].encoded)).toEqual(['line 0', 'line 1']);
    expect(flushed[0].bytes).toBe(2 * one);
    expect(b.openLogs).toBe(1);

    const tiny = new Batcher({ maxBytes: 1, maxLogs: 4096, lingerMs: 1000 });
    expect(tiny.add(run(0, 2)).map((x) => texts(x.encoded))).toEqual([['line 0'], ['line 1']]);
  });

  it('keeps separate groups per topic, source and tags', () => {
    const b = new Batcher({ maxBytes: 1 << 20, maxLogs: 10, lingerMs: 1000 });
    b.add(run(0, 1));
    b.add(run(1, 2, { topic: 'other' }));
    b.add(run(2, 3, { tags: [{ key: '__path__', value: '/var/log/b.log' }], fileId: 'f2' }));
    const all = b.flushAll();
    expect(all).toHaveLength(3);
    expect(new Set(all.map((x) => x.id)).size).toBe(3);
    const other = all.find((x) => decodeLogGroup(x.encoded).topic === 'other')!;
    expect(texts(other.encoded)).toEqual(['line 1']);
    const b2 = all.find((x) => x.ends.has('f2'))!;
    expect(decodeLogGroup(b2.encoded).logTags).toEqual([{ key: '__path__', value: '/var/log/b.log' }]);
  });

  it('never puts logs of two outputs in one batch, even with the same topic, source and tags', () => {
    const outputOf = (input: number) => [0, 1, 0][input]!;
    const b = new Batcher({ maxBytes: 1 << 20, maxLogs: 10, lingerMs: 1000 }, Date.now, outputOf);
    b.add(run(0, 2, { input: 0 }));
    b.add(run(2, 4, { input: 1, fileId: 'f2' }));
    b.add(run(4, 5, { input: 2, fileId: 'f3' }));
    const all = b.flushAll();
    expect(all.map((x) => [x.output, texts(x.encoded)])).toEqual([
      [0, ['line 0', 'line 1', 'line 4']],
      [1, ['line 2', 'line 3']],
    ]);
    expect([...all[1]!.counts.keys()]).toEqual(['f2']);
  });

  it('releases groups after their linger time', () => {
    let t = 0;
    const b = new Batcher({ maxBytes: 1 << 20, maxLogs: 10, lingerMs: 500 }, () => t);
    b.add(run(0, 1));
    t = 200;
    b.add(run(1, 2, { topic: 'late' }));
    expect(b.msUntilDue()).toBe(300);
    t = 499;
    expect(b.due()).toEqual([]);
    t = 500;
    const due = b.due();
    expect(due.map((x) => decodeLogGroup(x.encoded).topic)).toEqual(['app']);
    expect(b.msUntilDue()).toBe(200);
  });

  it('refuses a maxLogs above the SLS limit', () => {
    expect(() => new Batcher({ maxBytes: 1, maxLogs: 5000, lingerMs: 1 })).toThrow(/4096/);
  });
});
