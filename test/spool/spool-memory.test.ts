// A large spool does not hold its payloads in memory.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Spool } from '../../agent/spool/index.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Heap plus Buffer memory, after a full collection. */
function retained(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const ENTRIES = 200;
const MiB = 2 ** 20;
// The spool may keep a few bodies in memory (the front of the queue), not hundreds.
const BUDGET = 24 * MiB;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'logseal-spool-mem-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Spool memory', () => {
  it(`holds ${ENTRIES} × 1 MiB entries without keeping them in memory`, async () => {
    const before = retained();
    let spool = await Spool.open({ dir, maxBytes: 2 ** 30 });
    for (let i = 0; i < ENTRIES; i++) {
      const body = Buffer.alloc(MiB, i % 251);
      await spool.append({ logstore: 'app', payload: { body, rawSize: 3 * MiB, compressType: 'lz4' }, logCount: i });
    }
    expect(spool.count).toBe(ENTRIES);
    const afterAppend = retained() - before;
    await spool.close();

    // Reopening verifies every checksum, streaming the bodies rather than loading them.
    spool = await Spool.open({ dir, maxBytes: 2 ** 30 });
    expect(spool.count).toBe(ENTRIES);
    const afterReopen = retained() - before;

    let replayed = 0;
    for (let e = spool.oldest(); e; e = spool.oldest()) {
      expect(e.logCount).toBe(replayed);
      expect(e.payload.body[MiB - 1]).toBe(replayed % 251);
      replayed++;
      await spool.remove(e.id);
    }
    const afterDrain = retained() - before;
    await spool.close();

    console.log(`spool memory delta (MiB): after append ${(afterAppend / MiB).toFixed(1)}, after reopen ${(afterReopen / MiB).toFixed(1)}, after drain ${(afterDrain / MiB).toFixed(1)}`);
    expect(replayed).toBe(ENTRIES);
    expect(afterAppend).toBeLessThan(BUDGET);
    expect(afterReopen).toBeLessThan(BUDGET);
    expect(afterDrain).toBeLessThan(BUDGET);
  });
});
