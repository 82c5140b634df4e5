// PullLogs bodies as the emulator lays them out: a LogGroupList of the stored groups, compressed, in memory reused
// once an answer is written; an answer not given back is never overwritten.
import { describe, expect, it } from 'vitest';
import { packedLogGroupList } from '../../emulators/sls/pull.js';
import { lz4Bound, lz4CompressInto, lz4Decompress } from '../../agent/wire/lz4.js';
import { decodeLogGroupList, encodeLogGroup, encodeLogGroupList, type LogGroup } from '../../agent/wire/loggroup.js';

const lz4 = (groups: Buffer[]) => packedLogGroupList(groups, lz4Bound, (list, out) => lz4CompressInto(list, out, 0));
const identity = (groups: Buffer[]) => packedLogGroupList(groups, (n) => n, (list, out) => list.copy(out));

function stored(logs: number, seed: number): Buffer {
  const group: LogGroup = { topic: `t${seed}`, logTags: [{ key: 'k', value: 'v'.repeat(seed) }], logs: Array.from({ length: logs }, (_, i) => ({ time: 1_700_000_000 + i, contents: [{ key: 'content', value: `line ${seed} ${i} `.repeat(1 + (i % 7)) }] })) };
  return Buffer.from(encodeLogGroup(group));
}

describe('emulator PullLogs body', () => {
  it('is the LogGroupList of the stored groups, compressed, answer after answer of every size', () => {
    const answers: Array<{ body: Buffer; rawSize: number; groups: Buffer[] }> = [];
    // Lengths around the one- and two-byte varints and pages that grow and shrink, so that the memory is reused.
    for (const sizes of [[0], [1, 2], [3000, 1, 40], [5], [20000, 20000], [2], []]) {
      const groups = sizes.map((n, i) => stored(n, i + n));
      answers.push({ ...lz4(groups), groups });
    }
    for (const { body, rawSize, groups } of answers) {
      const list = lz4Decompress(body, rawSize);
      expect(list.equals(Buffer.from(encodeLogGroupList(groups.map((g) => decodeLogGroupList(Buffer.concat([Buffer.from([0x0a]), varintOf(g.length), g]))[0]!))))).toBe(true);
      expect(decodeLogGroupList(list).length).toBe(groups.length);
    }
  });

  it('lays out the groups byte for byte (tag, length, the stored bytes), not re-encoded', () => {
    const groups = [Buffer.from([0x1a, 0x01, 0x41]), Buffer.alloc(200, 0x00), Buffer.alloc(0)];
    const { body, rawSize } = identity(groups);
    expect(rawSize).toBe(body.length);
    expect([...body]).toEqual([0x0a, 3, 0x1a, 0x01, 0x41, 0x0a, 0xc8, 0x01, ...Buffer.alloc(200, 0), 0x0a, 0]);
    // An answer's memory is not the next one's until it is given back.
    const kept = Buffer.from(body);
    const later = identity([Buffer.alloc(500, 7)]);
    expect(body.equals(kept)).toBe(true);
    expect(later.body.length).toBe(503);
    later.release();
    later.release(); // once is enough
    const again = identity([Buffer.alloc(100, 9)]);
    expect(again.body.buffer).toBe(later.body.buffer);
    expect(identity([Buffer.alloc(100, 9)]).body.buffer).not.toBe(again.body.buffer);
  });
});

function varintOf(n: number): Buffer {
  const b: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 0x80)) b.push((n % 0x80) | 0x80);
  b.push(n);
  return Buffer.from(b);
}
