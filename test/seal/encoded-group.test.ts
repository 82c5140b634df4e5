// Cutting records from an encoded LogGroup: spans and bounds, chunk bytes equal to encoding the sub-group, layout checks.
import { describe, expect, it } from 'vitest';
import { EncodedGroupLayoutError, chunkBytes, chunkSize, scanBounds, scanGroup } from '../../agent/seal/encoded-group.js';
import { encodeLogGroup, type LogGroup } from '../../agent/wire/loggroup.js';

function randomGroup(seed: number): LogGroup {
  let s = seed;
  const next = (n: number) => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) % n);
  const group: LogGroup = {
    logs: Array.from({ length: 1 + next(40) }, () => {
      const log: LogGroup['logs'][number] = {
        time: next(2) ? next(200) : 4_000_000_000 + next(1000), // one- and five-byte varints
        contents: Array.from({ length: next(4) }, (_, j) => ({
          key: `k${j}`,
          value: next(5) === 0 ? Uint8Array.from({ length: next(300) }, () => next(256)) : 'v'.repeat(next(200)) + 'é',
        })),
      };
      if (next(2)) log.timeNs = next(2) ? next(1000) : 999_999_999;
      return log;
    }),
    logTags: Array.from({ length: next(3) }, (_, i) => ({ key: `t${i}`, value: 'x'.repeat(next(20)) })),
  };
  if (next(2)) group.topic = 'topic';
  if (next(2)) group.source = '10.1.2.3';
  if (next(3) === 0) group.machineUUID = 'm-1';
  return group;
}

describe('scanGroup', () => {
  it('finds each log with its Time, Time_ns and Contents bytes', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const group = randomGroup(seed);
      const bytes = encodeLogGroup(group);
      const scanned = scanGroup(bytes);
      expect(scanned.logs.map((l) => [l.time, l.timeNs])).toEqual(group.logs.map((l) => [l.time, l.timeNs]));
      scanned.logs.forEach((span, i) => {
        const alone = encodeLogGroup({ logs: [{ time: 0, contents: group.logs[i].contents }], logTags: [] });
        // A one-log group is 0x0a, its length, 0x08 0x00, then the Contents entries.
        const prefix = 1 + (alone[1] < 0x80 ? 1 : 2) + 2;
        expect(Buffer.from(bytes.subarray(span.contentsStart, span.contentsEnd)).equals(Buffer.from(alone.subarray(prefix)))).toBe(true);
      });
    }
  });

  it('finds the same logs as columns (scanBounds), in columns reused from one group to the next', () => {
    let previous: ReturnType<typeof scanBounds> | undefined;
    for (let seed = 1; seed <= 200; seed++) {
      const bytes = encodeLogGroup(randomGroup(seed));
      const spans = scanGroup(bytes);
      const bounds = scanBounds(bytes);
      if (previous) expect(bounds.starts).toBe(previous.starts); // the same columns, filled again
      previous = bounds;
      expect(bounds.count).toBe(spans.logs.length);
      expect(bounds.tailStart).toBe(spans.tailStart);
      expect(bounds.bytes).toBe(bytes);
      expect(Array.from(bounds.starts.subarray(0, bounds.count))).toEqual(spans.logs.map((l) => l.start));
      expect(Array.from(bounds.ends.subarray(0, bounds.count))).toEqual(spans.logs.map((l) => l.end));
      expect(Array.from(bounds.times.subarray(0, bounds.count))).toEqual(spans.logs.map((l) => l.time));
    }
    // Past the columns' first size (1024 logs): they grow and keep what was found.
    const many = encodeLogGroup({ logs: Array.from({ length: 3000 }, (_, i) => ({ time: 1_700_000_000 + i, contents: [{ key: 'k', value: `v${i}` }] })), logTags: [] });
    const bounds = scanBounds(many);
    expect(bounds.count).toBe(3000);
    expect(bounds.times[0]).toBe(1_700_000_000);
    expect(bounds.times[2999]).toBe(1_700_002_999);
    expect(bounds.ends[2999]).toBe(bounds.tailStart);
  });

  it('cuts chunks byte-identical to encoding the sub-group', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const group = randomGroup(seed);
      const scanned = scanBounds(encodeLogGroup(group));
      const n = group.logs.length;
      for (const [from, to] of [[0, n], [0, 1], [n - 1, n], [Math.floor(n / 3), Math.max(Math.floor(n / 3) + 1, Math.floor((2 * n) / 3))]]) {
        const expected = encodeLogGroup({ ...group, logs: group.logs.slice(from, to) });
        const got = chunkBytes(scanned, from, to);
        expect(Buffer.from(got).equals(Buffer.from(expected))).toBe(true);
        expect(chunkSize(scanned, from, to)).toBe(expected.length);
      }
    }
  });

  it('handles a group without logs', () => {
    const bytes = encodeLogGroup({ logs: [], topic: 't', logTags: [{ key: 'a', value: 'b' }] });
    expect(scanGroup(bytes)).toEqual({ bytes, logs: [], tailStart: 0 });
    expect(scanBounds(bytes)).toMatchObject({ bytes, count: 0, tailStart: 0 });
  });

  it('refuses bytes not laid out as encodeLogGroup writes them', () => {
    // A Log whose Time_ns comes before its Contents.
    const reordered = Uint8Array.from([0x0a, 0x0d, 0x08, 0x01, 0x25, 1, 0, 0, 0, 0x12, 0x04, 0x0a, 0x00, 0x12, 0x00]);
    expect(() => scanGroup(reordered)).toThrow(EncodedGroupLayoutError);
    // A Log without Time first.
    expect(() => scanGroup(Uint8Array.from([0x0a, 0x02, 0x12, 0x00]))).toThrow(EncodedGroupLayoutError);
    expect(() => scanBounds(Uint8Array.from([0x0a, 0x02, 0x12, 0x00]))).toThrow(EncodedGroupLayoutError);
    // A Log whose length runs past the end.
    expect(() => scanGroup(Uint8Array.from([0x0a, 0x09, 0x08, 0x01]))).toThrow(EncodedGroupLayoutError);
    expect(() => scanBounds(Uint8Array.from([0x0a, 0x09, 0x08, 0x01]))).toThrow(EncodedGroupLayoutError);
  });
});
