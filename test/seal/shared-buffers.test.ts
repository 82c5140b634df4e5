// SharedBuffers: the shared memory seal workers write bodies into, reused, bounded, and let go when the agent is quiet.
import { describe, expect, it } from 'vitest';
import { SharedBuffers } from '../../agent/seal/shared-buffers.js';

describe('SharedBuffers', () => {
  it('hands out shared memory in 64 KiB steps and gives a released buffer out again', () => {
    const pool = new SharedBuffers(4);
    const a = pool.take(100_000);
    expect(a).toBeInstanceOf(SharedArrayBuffer);
    expect(a.byteLength).toBe(128 * 1024);
    pool.give(a);
    pool.give(a); // twice is once
    expect(pool.freeCount).toBe(1);
    expect(pool.take(70_000)).toBe(a);
    expect(pool.freeCount).toBe(0);
  });

  it('picks the smallest free buffer that fits, and drops those over twice the size asked for', () => {
    const pool = new SharedBuffers(8);
    const small = pool.take(64 * 1024), middle = pool.take(256 * 1024), large = pool.take(4 << 20);
    [small, middle, large].forEach((b) => pool.give(b));
    expect(pool.take(100_000)).toBe(middle); // large is over twice 128 KiB: dropped, not kept
    expect(pool.freeCount).toBe(1);
    expect(pool.take(1000)).toBe(small);
    expect(pool.take(1000)).not.toBe(small); // nothing free fits: a new one
  });

  it('keeps at most maxFree, letting the smallest go', () => {
    const pool = new SharedBuffers(2);
    const buffers = [1, 2, 3].map((n) => pool.take(n * 64 * 1024));
    buffers.forEach((b) => pool.give(b));
    expect(pool.freeCount).toBe(2);
    expect(pool.take(64 * 1024)).toBe(buffers[1]); // the 64 KiB one went; 128 KiB is the smallest that fits
  });

  it('lets every buffer go once nothing was taken for idleMs', async () => {
    const pool = new SharedBuffers(4, 50);
    pool.give(pool.take(1000));
    pool.give(pool.take(1000));
    expect(pool.freeCount).toBe(1);
    await new Promise((r) => setTimeout(r, 150));
    expect(pool.freeCount).toBe(0);
  });
});
