// Coalesced checkpoint saves: one write at a time, later requests folded into one write that starts after them.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SaveScheduler } from '../../agent/checkpoint/index.js';

/** A write that stays open until released, recording the value it saved. */
function gatedWriter(current: () => number) {
  const saved: number[] = [];
  const gates: (() => void)[] = [];
  let active = 0;
  let maxActive = 0;
  const write = async () => {
    const value = current();
    active++;
    maxActive = Math.max(maxActive, active);
    await new Promise<void>((r) => gates.push(r));
    active--;
    saved.push(value);
  };
  const release = async () => {
    gates.shift()?.();
    await new Promise((r) => setImmediate(r));
  };
  return { write, saved, release, maxActive: () => maxActive, pending: () => gates.length };
}

describe('SaveScheduler', () => {
  it('writes at once, folds requests made during a write into one more write taken from the newest state', async () => {
    let position = 1;
    const w = gatedWriter(() => position);
    const s = new SaveScheduler(w.write, () => {});
    const first = s.request();
    position = 2;
    const second = s.request();
    position = 3;
    const third = s.request();
    expect(w.pending()).toBe(1);
    let secondDone = false;
    void second.then(() => (secondDone = true));
    await w.release();
    await first;
    expect(w.saved).toEqual([1]);
    expect(secondDone).toBe(false); // its write started after it was asked for
    await w.release();
    await Promise.all([second, third]);
    expect(w.saved).toEqual([1, 3]);
    expect(w.maxActive()).toBe(1);
    await s.flush();
  });

  it('reports a failed write and leaves requests made meanwhile to one retry, not a write each', async () => {
    const errors: string[] = [];
    let calls = 0;
    const s = new SaveScheduler(async () => {
      calls++;
      throw new Error('disk full');
    }, (e) => errors.push(e.message));
    await s.request();
    const later = s.request(); // within the retry delay: left to the retry
    await new Promise((r) => setImmediate(r));
    expect(calls).toBe(1);
    expect(errors).toEqual(['disk full']);
    await s.flush(); // shutdown writes once more, without waiting for the retry
    await later;
    expect(calls).toBe(2);
    s.close();
  });

  describe('requestSoon', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('writes once within soonMs when no other save comes, however often it is asked for', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      let calls = 0;
      const s = new SaveScheduler(async () => void calls++, () => {}, 250);
      s.requestSoon();
      s.requestSoon();
      await vi.advanceTimersByTimeAsync(249);
      expect(calls).toBe(0);
      await vi.advanceTimersByTimeAsync(1);
      expect(calls).toBe(1);
      await vi.advanceTimersByTimeAsync(1000);
      expect(calls).toBe(1);
    });

    it('is made by a write that starts before soonMs: no write of its own', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      let position = 1;
      const saved: number[] = [];
      const s = new SaveScheduler(async () => void saved.push(position), () => {}, 250);
      s.requestSoon();
      position = 2;
      await s.request();
      await vi.advanceTimersByTimeAsync(1000);
      expect(saved).toEqual([2]);
    });

    it('asked for while a write runs, it is written after it (that write may have taken older positions)', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      let position = 1;
      const w = gatedWriter(() => position);
      const s = new SaveScheduler(w.write, () => {}, 250);
      const first = s.request();
      position = 2;
      s.requestSoon();
      await w.release();
      await first;
      await vi.advanceTimersByTimeAsync(250);
      expect(w.pending()).toBe(1);
      await w.release();
      expect(w.saved).toEqual([1, 2]);
    });

    it('is written by flush() at once', async () => {
      let calls = 0;
      const s = new SaveScheduler(async () => void calls++, () => {}, 60_000);
      s.requestSoon();
      await s.flush();
      expect(calls).toBe(1);
      s.close();
    });
  });
});
