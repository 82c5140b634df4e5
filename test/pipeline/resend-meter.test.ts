// Lines read again after a restart below the read position the previous run saved with its checkpoint.
import { describe, expect, it } from 'vitest';
import type { PlainBatch } from '../../agent/batch/batcher.js';
import type { FileCheckpoint } from '../../agent/checkpoint/index.js';
import type { InputRun } from '../../agent/input/index.js';
import { Positions, type KnownFile } from '../../agent/pipeline/positions.js';

const file = (offset: number, extra: Partial<FileCheckpoint> = {}): FileCheckpoint => ({
  fileId: 'f', path: '/var/log/app.log', dev: 1, ino: 2, fingerprint: 'ab', fingerprintBytes: 2, offset, ...extra,
});

/** A run of 10-byte lines from `start`. */
function run(start: number, count: number): InputRun {
  const offsets = Float64Array.from({ length: count }, (_, i) => start + 10 * (i + 1));
  return { fileId: 'f', startOffset: start, offsets, count } as unknown as InputRun;
}

function batch(id: number, end: number, count: number): PlainBatch {
  return { id, ends: new Map([['f', end]]), counts: new Map([['f', count]]) } as unknown as PlainBatch;
}

describe('resent lines', () => {
  it('the checkpoint records how far the file was read while lines are unacknowledged, and drops it once they are', () => {
    const p = new Positions(new Map());
    const input: KnownFile = { ...file(100), startOffset: 0 };
    p.read('f', 10);
    p.dispatched(batch(1, 50, 5));
    p.dispatched(batch(2, 100, 5));
    p.acknowledged(batch(1, 50, 5));
    expect(p.snapshot([input])).toEqual([file(50, { readTo: 100 })]);
    p.acknowledged(batch(2, 100, 5));
    expect(p.snapshot([input])).toEqual([file(100)]);
  });

  it('after a restart, counts the lines read below the saved read position, and nothing past it', () => {
    const p = new Positions(new Map([['f', file(100, { readTo: 145 })]]));
    expect(p.resent(run(100, 3))).toBe(3); // lines starting at 100, 110, 120
    expect(p.resent(run(130, 4))).toBe(2); // 130 and 140 start below 145; 150 and 160 do not
    expect(p.resent(run(170, 2))).toBe(0);
  });

  it('a checkpoint without a read position (a clean stop) counts nothing', () => {
    const p = new Positions(new Map([['f', file(100)]]));
    expect(p.resent(run(100, 5))).toBe(0);
  });
});
