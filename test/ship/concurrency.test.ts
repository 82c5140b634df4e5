// PutLogs concurrency: a fixed limit holds; an adaptive one climbs to the ceiling where round trips do not grow with
// it, settles low where they do (a server that queues), backs off when SLS pushes back, and gives back headroom
// nobody uses. Driven by a simulated clock and server, request by request.
import { describe, expect, it } from 'vitest';
import { RequestConcurrency, type Release } from '../../agent/ship/concurrency.js';

const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

interface Server {
  /** Round-trip time of a request that starts while `inFlight` requests (itself included) are under way. */
  rtt: (inFlight: number) => number;
  /** What a finished request reports; default its round-trip time. */
  outcome?: (rttMs: number, n: number) => Parameters<Release>[0];
}

/**
 * Keeps `demand` requests asking for a slot (or as many as the limit allows, if fewer are waiting), finishes them in
 * time order, and returns the limit after each of `requests` completions.
 */
async function simulate(c: RequestConcurrency, clock: { t: number }, server: Server, requests: number, demand = Infinity): Promise<number[]> {
  const running: { end: number; rtt: number; release: Release }[] = [];
  let asking = 0;
  const limits: number[] = [];
  const ask = (): void => {
    asking++;
    void c.acquire().then((release) => {
      asking--;
      const rtt = server.rtt(c.inFlight);
      running.push({ end: clock.t + rtt, rtt, release });
    });
  };
  for (let n = 0; n < requests; n++) {
    // One more than the limit lets through asks at any time: the limit, not the demand, decides (unless demand is lower).
    while (asking + running.length < Math.min(demand, c.limit + 1)) ask();
    await settle();
    running.sort((a, b) => a.end - b.end);
    const next = running.shift()!;
    clock.t = next.end;
    next.release(server.outcome?.(next.rtt, n) ?? { rttMs: next.rtt });
    await settle();
    limits.push(c.limit);
  }
  // Finish what is under way, so that the next simulation starts from this limit with nothing in flight.
  for (let ended = true; ended; ) {
    await settle();
    running.sort((a, b) => a.end - b.end);
    const next = running.shift();
    ended = next !== undefined;
    if (next) {
      clock.t = next.end;
      next.release({ other: true });
    }
  }
  return limits;
}

const adaptive = (max: number) => {
  const clock = { t: 0 };
  return { clock, c: new RequestConcurrency({ max, adaptive: true, now: () => clock.t }) };
};

describe('RequestConcurrency', () => {
  it('fixed: the ceiling at once; beyond it requests wait and go in order of arrival', async () => {
    const c = new RequestConcurrency({ max: 2, adaptive: false });
    expect(c.limit).toBe(2);
    const r1 = await c.acquire();
    const r2 = await c.acquire();
    const order: number[] = [];
    const third = c.acquire().then((r) => (order.push(3), r));
    const fourth = c.acquire().then((r) => (order.push(4), r));
    await settle();
    expect(order).toEqual([]);
    r1({ rttMs: 10 });
    r1({ rttMs: 10 }); // a second call of the same release counts for nothing
    await settle();
    expect(order).toEqual([3]);
    expect(c.inFlight).toBe(2);
    r2({ pushback: true });
    await settle();
    expect(order).toEqual([3, 4]);
    (await third)({ other: true });
    (await fourth)({ other: true });
    expect(c.inFlight).toBe(0);
    expect(c.limit).toBe(2); // a fixed limit ignores what it hears
  });

  it('adaptive climbs to the ceiling when round trips do not grow with it (a far endpoint with a wide wire)', async () => {
    const { c, clock } = adaptive(16);
    expect(c.limit).toBe(2);
    const limits = await simulate(c, clock, { rtt: () => 30 }, 400);
    expect(limits.at(-1)).toBe(16);
    expect(Math.max(...limits)).toBe(16);
  });

  it('adaptive settles low when the server queues what it gets (round trip grows with every request)', async () => {
    const { c, clock } = adaptive(32);
    const limits = await simulate(c, clock, { rtt: (n) => 5 * n }, 600);
    const late = limits.slice(-200);
    expect(Math.max(...late)).toBeLessThanOrEqual(8);
    expect(Math.min(...late)).toBeGreaterThanOrEqual(1);
    // Against the fixed ceiling: the same throughput (the server does one request per 5 ms either way), far fewer held.
    expect(late.reduce((a, b) => a + b, 0) / late.length).toBeLessThan(8);
  });

  it('adaptive backs off by a tenth when SLS pushes back, and never under one', async () => {
    const { c, clock } = adaptive(20);
    await simulate(c, clock, { rtt: () => 20 }, 300);
    expect(c.limit).toBe(20);
    const limits = await simulate(c, clock, { rtt: () => 20, outcome: () => ({ pushback: true }) }, 300);
    expect(limits[0]).toBeLessThan(20);
    expect(limits.at(-1)).toBe(1);
    // Multiplicative: from 20 the first periods take 2 each (18, 16, ...), not 1.
    expect(limits.find((l) => l < 20)).toBeLessThanOrEqual(18);
  });

  it('adaptive gives back headroom that is not used: one request at a time leaves a limit of two or three', async () => {
    const { c, clock } = adaptive(16);
    await simulate(c, clock, { rtt: () => 20 }, 300);
    expect(c.limit).toBe(16);
    const limits = await simulate(c, clock, { rtt: () => 20 }, 300, 1);
    expect(limits.at(-1)).toBeLessThanOrEqual(3);
    expect(limits.at(-1)).toBeGreaterThanOrEqual(1);
  });

  it('refuses a ceiling that is not a positive integer', () => {
    expect(() => new RequestConcurrency({ max: 0, adaptive: true })).toThrow(/integer >= 1/);
    expect(() => new RequestConcurrency({ max: 1.5, adaptive: false })).toThrow(/integer >= 1/);
  });
});
