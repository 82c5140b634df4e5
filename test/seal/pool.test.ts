// SealPool: batches sealed on worker threads come back as ready PutLogs bodies, in bounded numbers.
import { randomBytes } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SealPool, type SealJob, type SealedBatch } from '../../agent/seal/pool.js';
import { openGroup, type DataKey, type SealTarget } from '../../agent/seal/record.js';
import { decodeLogGroup, encodeLogGroup, type LogGroup } from '../../agent/wire/loggroup.js';
import { lz4Decompress } from '../../agent/wire/lz4.js';

const key: DataKey = { algorithm: 'SM4_128_GCM', plaintext: randomBytes(16), cmkId: 'cmk-1', blob: 'blob-1' };
const target: SealTarget = { project: 'demo', logstore: 'app', mode: 'group', zip: 'lz4' };

function batch(logs: number, tag = 'x'): LogGroup {
  return {
    topic: 'app',
    logTags: [{ key: 'batch', value: tag }],
    logs: Array.from({ length: logs }, (_, i) => ({
      time: 1_700_000_000 + i,
      contents: [{ key: 'content', value: `2024-05-01T10:00:${String(i % 60).padStart(2, '0')}Z INFO request ${i} served in ${i % 97} ms` }],
    })),
  };
}

/** What SLS would do with the body: decompress, decode, then open as a reader would. */
function unseal(sealed: SealedBatch, t: SealTarget = target): LogGroup[] {
  const { body, rawSize, compressType } = sealed.payload;
  const raw = compressType === 'lz4' ? lz4Decompress(body, rawSize) : compressType === 'deflate' ? inflateSync(body) : body;
  expect(raw.length).toBe(rawSize);
  return openGroup(decodeLogGroup(raw), () => key.plaintext, t);
}

let pool: SealPool;
beforeAll(() => {
  pool = new SealPool({ threads: 2, maxQueue: 2, inlineShare: 0 }); // always on worker threads
});
afterAll(async () => {
  await pool.close();
});

describe('SealPool', () => {
  for (const compressType of ['lz4', 'deflate', 'none'] as const) {
    it(`returns a ${compressType} PutLogs body that opens to the batch`, async () => {
      const group = batch(500);
      const sealed = await pool.seal({ group, key, target, compressType });
      expect(sealed.payload.compressType).toBe(compressType);
      expect(sealed.logCount).toBe(500);
      expect(sealed.records).toBe(1);
      expect(sealed.plainBytes).toBeGreaterThan(500 * 40);
      expect(unseal(sealed)).toEqual([group]);
    });
  }

  it('moves an encoded batch to the worker and its buffer back, unchanged in size, for reuse', async () => {
    const group = batch(300);
    const buffer = new ArrayBuffer(1 << 20);
    const bytes = encodeLogGroup(group);
    const encoded = new Uint8Array(buffer, 0, bytes.length);
    encoded.set(bytes);
    const sealed = await pool.seal({ encoded, logCount: 300, key, target, compressType: 'lz4' });
    expect(buffer.byteLength).toBe(0); // moved, not copied
    expect(sealed.logCount).toBe(300);
    expect(sealed.spare.byteLength).toBe(1 << 20);
    expect(unseal(sealed)).toEqual([group]);
  });

  it('seals in mode log and counts one record per log', async () => {
    const group = batch(50);
    const logTarget: SealTarget = { ...target, mode: 'log' };
    const sealed = await pool.seal({ group, key, target: logTarget, compressType: 'lz4' });
    expect(sealed.records).toBe(50);
    expect(unseal(sealed, logTarget)).toEqual([group]);
  });

  it('leaves the caller’s data key intact (only the worker’s copy is wiped)', async () => {
    const before = Buffer.from(key.plaintext).toString('hex');
    await pool.seal({ group: batch(3), key, target, compressType: 'none' });
    expect(Buffer.from(key.plaintext).toString('hex')).toBe(before);
  });

  it('hands back small lz4 bodies that own their memory, and large uncompressed ones whole', async () => {
    const small = await pool.seal({ group: batch(1), key, target, compressType: 'lz4' });
    const large = await pool.seal({ group: batch(20_000), key, target: { ...target, zip: 'none' }, compressType: 'none' });
    expect(small.payload.body.buffer.byteLength).toBe(small.payload.body.byteLength);
    expect(large.payload.body.byteLength).toBeGreaterThan(1 << 20);
    expect(large.records).toBeGreaterThan(1);
    expect(unseal(large, { ...target, zip: 'none' }).flatMap((g) => g.logs)).toHaveLength(20_000);
  });

  it('writes uncompressed bodies into shared memory, which release() hands to a later batch', async () => {
    const own = new SealPool({ threads: 1, inlineShare: 0 });
    try {
      const first = await own.seal({ group: batch(300, 'first'), key, target, compressType: 'none' });
      expect(first.payload.body.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(unseal(first)[0].logTags).toEqual([{ key: 'batch', value: 'first' }]);
      const copy = Buffer.from(first.payload.body);
      expect(own.sharedBodiesFree).toBe(0);
      first.release!();
      expect(own.sharedBodiesFree).toBe(1);
      const second = await own.seal({ group: batch(300, 'second'), key, target, compressType: 'none' });
      expect(own.sharedBodiesFree).toBe(0);
      expect(unseal(second)[0].logTags).toEqual([{ key: 'batch', value: 'second' }]);
      // The same memory: the first body's bytes are now the second's (which is why release waits for delivery).
      expect(Buffer.from(first.payload.body).equals(copy)).toBe(false);
      // A compressed body is the compressor's own buffer, moved back; nothing to release.
      const lz4 = await own.seal({ group: batch(300), key, target, compressType: 'lz4' });
      expect(lz4.payload.body.buffer).toBeInstanceOf(ArrayBuffer);
      expect(lz4.release).toBeUndefined();
    } finally {
      await own.close();
    }
  });

  it('holds jobs beyond threads + maxQueue back, in order, and drains', async () => {
    const jobs: SealJob[] = Array.from({ length: 10 }, (_, i) => ({ group: batch(200, `b${i}`), key, target, compressType: 'lz4' }));
    const finished: number[] = [];
    const results = jobs.map((job, i) => pool.seal(job).then((r) => (finished.push(i), r)));
    // 2 threads + 2 queued are admitted; the other 6 wait in the pool before reaching a worker.
    expect(pool.queueSize).toBe(6);
    const sealed = await Promise.all(results);
    expect(pool.queueSize).toBe(0);
    sealed.forEach((s, i) => expect(unseal(s)[0].logTags).toEqual([{ key: 'batch', value: `b${i}` }]));
    // Waiting jobs are admitted first come, first served: none of the last six finishes before the first four started.
    expect(finished.slice(0, 2).every((i) => i < 4)).toBe(true);
  });

  it('reports a failing job and keeps working', async () => {
    const bad: DataKey = { ...key, plaintext: new Uint8Array(5) };
    await expect(pool.seal({ group: batch(2), key: bad, target, compressType: 'lz4' })).rejects.toThrow(/key must be 16 bytes/);
    const sealed = await pool.seal({ group: batch(2), key, target, compressType: 'lz4' });
    expect(unseal(sealed)[0].logs).toHaveLength(2);
  });

  it('puts index tokens only into batches for the Logstore the index key was made for', async () => {
    const indexed = new SealPool({ threads: 1, inlineShare: 0, index: { key: randomBytes(32), fields: ['content'], blob: 'ik', logstore: 'app' } });
    try {
      const tagsOf = async (logstore: string) => {
        const sealed = await indexed.seal({ group: batch(5), key, target: { ...target, logstore }, compressType: 'none' });
        return decodeLogGroup(sealed.payload.body).logTags.map((t) => t.key);
      };
      expect(await tagsOf('app')).toContain('__seal_bi__');
      expect(await tagsOf('billing')).not.toContain('__seal_bi__');
    } finally {
      await indexed.close();
    }
  });

  it('uses the requested backend', async () => {
    const js = new SealPool({ threads: 1, backend: 'js', inlineShare: 0 });
    try {
      const aesKey: DataKey = { algorithm: 'AES_256_GCM', plaintext: randomBytes(32), cmkId: 'c', blob: 'b' };
      const sealed = await js.seal({ group: batch(10), key: aesKey, target, compressType: 'none' });
      const opened = openGroup(decodeLogGroup(sealed.payload.body), () => aesKey.plaintext, target);
      expect(opened[0].logs).toHaveLength(10);
    } finally {
      await js.close();
    }
  });

  it('finishes accepted jobs on close, then refuses new ones', async () => {
    const own = new SealPool({ threads: 1, maxQueue: 0, inlineShare: 0 });
    const pending = [1, 2, 3].map(() => own.seal({ group: batch(100), key, target, compressType: 'lz4' }));
    await own.close();
    for (const p of pending) expect(unseal(await p)[0].logs).toHaveLength(100);
    await expect(own.seal({ group: batch(1), key, target, compressType: 'lz4' })).rejects.toThrow(/closed/);
  });

  it('seals a job that waits for a thread under the key it was given, though the caller zeroes that key meanwhile', async () => {
    // The DataKeyCache zeroes a replaced key at its next rotation, which may come while jobs queue for a thread.
    const original = Uint8Array.from(key.plaintext);
    const given = { ...key, plaintext: Uint8Array.from(original) };
    const jobs = Array.from({ length: 8 }, (_, i) => pool.seal({ group: batch(200, `q${i}`), key: given, target, compressType: 'none' }));
    given.plaintext.fill(0);
    for (const [i, sealed] of (await Promise.all(jobs)).entries()) {
      const { body } = sealed.payload;
      expect(openGroup(decodeLogGroup(body), () => original, target)).toEqual([batch(200, `q${i}`)]);
    }
  });

  describe('at low load', () => {
    it('writes uncompressed bodies sealed on the main thread into shared memory too, reused once released', async () => {
      const light = new SealPool({ threads: 1 });
      try {
        const first = await light.seal({ group: batch(300, 'first'), key, target, compressType: 'none' });
        expect(light.workerThreads).toBe(0);
        expect(first.payload.body.buffer).toBeInstanceOf(SharedArrayBuffer);
        expect(unseal(first)).toEqual([batch(300, 'first')]);
        const memory = first.payload.body.buffer;
        first.release!();
        expect(light.sharedBodiesFree).toBe(1);
        const second = await light.seal({ group: batch(300, 'second'), key, target, compressType: 'none' });
        expect(second.payload.body.buffer).toBe(memory);
        expect(light.sharedBodiesFree).toBe(0);
        expect(unseal(second)).toEqual([batch(300, 'second')]);
        // Not released (still being sent): the next body gets memory of its own.
        const third = await light.seal({ group: batch(300, 'third'), key, target, compressType: 'none' });
        expect(third.payload.body.buffer).not.toBe(memory);
        expect(unseal(second)).toEqual([batch(300, 'second')]);
        expect(unseal(third)).toEqual([batch(300, 'third')]);
        expect(light.workerThreads).toBe(0);
      } finally {
        await light.close();
      }
    });

    it('seals on the main thread, with the same bodies and the caller’s key intact, and starts no worker', async () => {
      const light = new SealPool({ threads: 2 });
      try {
        const before = Buffer.from(key.plaintext).toString('hex');
        for (let i = 0; i < 3; i++) {
          const group = batch(200, `b${i}`);
          const sealed = await light.seal({ group, key, target, compressType: 'lz4' });
          expect(unseal(sealed)).toEqual([group]);
          expect(sealed.payload.body.buffer.byteLength).toBe(sealed.payload.body.byteLength);
        }
        expect(Buffer.from(key.plaintext).toString('hex')).toBe(before);
        expect(light.workerThreads).toBe(0);
      } finally {
        await light.close();
      }
    });

    it('moves to worker threads once sealing takes a larger share of the main thread, and back when it stops', async () => {
      const busy = new SealPool({ threads: 2, inlineShare: 0.1, idleTimeoutMs: 50 });
      try {
        // Sealing back to back is ~100 % of the main thread: past 10 % the batches go to workers.
        const group = batch(2000);
        const encoded = encodeLogGroup(group);
        // Encoded batches, so that sealing, not encoding, fills the loop (only sealing counts as load).
        const deadline = Date.now() + 20_000;
        while (busy.workerThreads === 0 && Date.now() < deadline) {
          await busy.seal({ encoded: Uint8Array.from(encoded), logCount: 2000, key, target, compressType: 'lz4' });
        }
        expect(busy.workerThreads).toBeGreaterThan(0);
        expect(unseal(await busy.seal({ group, key, target, compressType: 'lz4' }))).toEqual([group]);
        // Idle workers stop after idleTimeoutMs, and the load decays back under the share.
        await vi.waitFor(() => expect(busy.workerThreads).toBe(0), { timeout: 15_000, interval: 50 });
      } finally {
        await busy.close();
      }
    });
  });
});
