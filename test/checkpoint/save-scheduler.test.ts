// Coalesced checkpoint saves: one write at a time, later requests folded into one write that starts after them.
import { describe, expect, it } from 'vitest';
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
});
