// Checkpoint offsets advance only over acknowledged batches, whatever the ack order.
import { describe, expect, it } from 'vitest';
import { AckTracker } from '../../agent/checkpoint/index.js';

const ends = (entries: Record<string, number>) => new Map(Object.entries(entries));

describe('AckTracker', () => {
  it('advances a file in order as its batches are acknowledged', () => {
    const t = new AckTracker();
    t.register(0, ends({ f: 100 }));
    t.register(1, ends({ f: 200 }));
    expect(t.committed()).toEqual(new Map());
    expect(t.pending()).toBe(2);
    t.ack(0);
    expect(t.committed()).toEqual(ends({ f: 100 }));
    t.ack(1);
    expect(t.committed()).toEqual(ends({ f: 200 }));
    expect(t.pending()).toBe(0);
  });

  it('holds the offset at the last contiguous ack when batches complete out of order', () => {
    const t = new AckTracker();
    t.register(0, ends({ f: 100 }));
    t.register(1, ends({ f: 200 }));
    t.register(2, ends({ f: 300 }));
    t.ack(0);
    t.ack(2);
    expect(t.committed().get('f')).toBe(100); // batch 1's lines are not safe yet
    expect(t.pending()).toBe(1);
    t.ack(1);
    expect(t.committed().get('f')).toBe(300);
  });

  it('does not move at all when only a later batch is acknowledged', () => {
    const t = new AckTracker();
    t.register(0, ends({ f: 100 }));
    t.register(1, ends({ f: 200 }));
    t.ack(1);
    expect(t.committed().has('f')).toBe(false);
  });

  it('tracks several files interleaved across batches independently', () => {
    const t = new AckTracker();
    t.register(10, ends({ a: 10, b: 5 }));
    t.register(11, ends({ a: 20 }));
    t.register(12, ends({ b: 15, c: 7 }));
    t.register(13, ends({ a: 30, b: 25, c: 9 }));
    t.ack(12); // b waits for 10, c has nothing earlier
    expect(t.committed()).toEqual(ends({ c: 7 }));
    t.ack(11); // a waits for 10
    expect(t.committed()).toEqual(ends({ c: 7 }));
    t.ack(10);
    expect(t.committed()).toEqual(ends({ a: 20, b: 15, c: 7 }));
    t.ack(13);
    expect(t.committed()).toEqual(ends({ a: 30, b: 25, c: 9 }));
    expect(t.pending()).toBe(0);
  });

  it('follows registration order, so an offset may go back after a truncation', () => {
    const t = new AckTracker();
    t.register(0, ends({ f: 5000 }));
    t.register(1, ends({ f: 40 })); // the file was truncated and read again from 0
    t.ack(1);
    t.ack(0);
    expect(t.committed().get('f')).toBe(40);
  });

  it('ignores unknown and repeated acks, rejects a repeated registration', () => {
    const t = new AckTracker();
    t.register(0, ends({ f: 1 }));
    t.register(1, ends({ f: 2 }));
    t.ack(7);
    t.ack(1);
    t.ack(1);
    expect(t.pending()).toBe(1);
    expect(() => t.register(0, ends({ f: 3 }))).toThrow(/already registered/);
  });

  it('counts a batch without file lines until it is acknowledged', () => {
    const t = new AckTracker();
    t.register(0, new Map());
    expect(t.pending()).toBe(1);
    t.ack(0);
    expect(t.pending()).toBe(0);
  });

  it('forgets a finished file only when nothing of it is outstanding', () => {
    const t = new AckTracker();
    t.register(0, ends({ f: 1, g: 1 }));
    t.register(1, ends({ f: 2 }));
    t.ack(0);
    t.forget('f'); // batch 1 still outstanding
    expect(t.committed().get('f')).toBe(1);
    t.ack(1);
    t.forget('f');
    t.forget('g');
    expect(t.committed().size).toBe(0);
  });

  it('agrees with a simple model on random out-of-order acknowledgements', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const t = new AckTracker();
    const files = ['a', 'b', 'c', 'd'];
    const registered: { id: number; ends: Map<string, number> }[] = [];
    const next = new Map(files.map((f) => [f, 0]));
    for (let id = 0; id < 2000; id++) {
      const e = new Map<string, number>();
      for (const f of files) {
        if (random() < 0.5) continue;
        const end = next.get(f)! + 1 + Math.floor(random() * 100);
        next.set(f, end);
        e.set(f, end);
      }
      t.register(id, e);
      registered.push({ id, ends: e });
    }
    const order = registered.map((r) => r.id).sort(() => random() - 0.5);
    const acked = new Set<number>();
    for (const [step, id] of order.entries()) {
      t.ack(id);
      acked.add(id);
      if (step % 97 !== 0 && step !== order.length - 1) continue;
      const expected = new Map<string, number>();
      for (const f of files) {
        for (const r of registered) {
          if (!r.ends.has(f)) continue;
          if (!acked.has(r.id)) break;
          expected.set(f, r.ends.get(f)!);
        }
      }
      expect(t.committed()).toEqual(expected);
    }
    expect(t.pending()).toBe(0);
  });
});
