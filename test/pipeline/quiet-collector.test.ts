// QuietCollector: one full collection once shipping stopped for quietMs, none while busy or idle, and a real one.
import { describe, expect, it } from 'vitest';
import { QuietCollector, fullCollection } from '../../agent/pipeline/quiet-collector.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('QuietCollector', () => {
  it('collects once after activity stops for quietMs, not while activity goes on, and not again while idle', async () => {
    let calls = 0;
    const q = new QuietCollector(80, () => () => calls++);
    for (let i = 0; i < 6; i++) {
      q.activity();
      await sleep(30); // busy: never 80 ms without activity
    }
    expect(calls).toBe(0);
    await sleep(200);
    expect(calls).toBe(1);
    await sleep(200);
    expect(calls).toBe(1); // idle: nothing armed any more
    q.activity();
    await sleep(200);
    expect(calls).toBe(2);
    expect(q.count).toBe(2);
    q.close();
  });

  it('releases what is kept for reuse just before each collection', async () => {
    const order: string[] = [];
    const q = new QuietCollector(40, () => () => order.push('collect'), Date.now, () => order.push('release'));
    q.activity();
    await sleep(150);
    expect(order).toEqual(['release', 'collect']);
    q.activity();
    await sleep(150);
    expect(order).toEqual(['release', 'collect', 'release', 'collect']);
    q.close();
  });

  it('makes nothing of activity once closed, and does without a collector where none can be had', async () => {
    let calls = 0;
    const closed = new QuietCollector(30, () => () => calls++);
    closed.activity();
    closed.close();
    const none = new QuietCollector(30, () => undefined);
    none.activity();
    await sleep(100);
    expect(calls).toBe(0);
    expect(none.count).toBe(0);
  });

  it("reaches V8's full collection at run time, and it takes the heap back to what is live", () => {
    const gc = fullCollection();
    expect(typeof gc).toBe('function');
    let garbage: unknown[] | undefined = Array.from({ length: 200_000 }, (_, i) => ({ i, s: `line ${i} `.repeat(4) }));
    const grown = process.memoryUsage().heapUsed;
    garbage = undefined;
    gc!();
    expect(garbage).toBeUndefined();
    expect(process.memoryUsage().heapUsed).toBeLessThan(grown - 20 * 1024 * 1024);
  });
});
