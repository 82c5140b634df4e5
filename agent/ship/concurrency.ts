// How many PutLogs requests go out at once. Adaptive by default: once per round trip the limit gains one if requests
// waited for it and the round trips show no queueing, loses one when they do (estimated as TCP Vegas does) or when two
// slots went unused, and a tenth when SLS pushed back (a request the client had to retry). A far endpoint with time
// to spare on the wire gets the ceiling (sls.maxInFlight); a near one, or one that queues what it gets, the few
// requests it takes, and the agent does not read ahead and hold the batches that would only wait for it.
// Vector's adaptive request concurrency was the model (native-bench/RESULTS.md §12.8 says why the queueing test
// differs from its RTT-deviation rule).

import { SlsError } from './errors.js';

export interface ConcurrencyOptions {
  /** The ceiling (sls.maxInFlight); a fixed limit stays there. */
  max: number;
  adaptive: boolean;
  /** Monotonic milliseconds; injectable for tests. */
  now?: () => number;
}

/** What became of one request: its round-trip time when SLS answered, or that SLS pushed back (throttled, 5xx). */
export type RequestOutcome = { rttMs: number } | { pushback: true } | { other: true };

export type Release = (outcome: RequestOutcome) => void;

/**
 * Requests queued at SLS (or on the way) beyond what the wire holds, estimated as limit × (1 − base RTT / RTT), as
 * TCP Vegas does: above QUEUED_MAX the limit comes down by one, under QUEUED_MIN it may go up by one.
 */
const QUEUED_MIN = 2;
const QUEUED_MAX = 4;
const DECREASE_RATIO = 0.9;
/** An observation period lasts one round trip (the last period's mean), and never less than this. */
const MIN_PERIOD_MS = 5;
/** The base RTT is the lowest period mean of the last one to two of these: a changed path is learnt within two. */
const BASE_WINDOW_MS = 30_000;

export class RequestConcurrency {
  private estimate: number;
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly now: () => number;
  // The observation period under way.
  private periodStart: number;
  private rttSum = 0;
  private rttCount = 0;
  /** A request had to wait for the limit this period: more were ready to go than it allowed. */
  private waited = false;
  /** The most requests under way at once this period. */
  private peak = 0;
  private pushedBack = false;
  // What past periods saw.
  private lastRtt: number | undefined;
  private baseNow = Infinity;
  private basePrevious = Infinity;
  private baseSince: number;

  constructor(private readonly o: ConcurrencyOptions) {
    if (!(Number.isInteger(o.max) && o.max >= 1)) throw new RangeError(`concurrency max must be an integer >= 1, got ${o.max}`);
    this.now = o.now ?? (() => performance.now());
    this.periodStart = this.now();
    this.baseSince = this.periodStart;
    // Adaptive starts low and earns its way up: one period per step, a period being one round trip.
    this.estimate = o.adaptive ? Math.min(2, o.max) : o.max;
  }

  /** Requests allowed at once now. */
  get limit(): number {
    return Math.floor(this.estimate);
  }

  /** Requests under way now. */
  get inFlight(): number {
    return this.active;
  }

  /** Resolves once a request may go; call the returned function, once, when it is over. */
  acquire(): Promise<Release> {
    if (this.active < this.limit && this.waiting.length === 0) return Promise.resolve(this.start());
    this.waited = true;
    return new Promise((resolve) => this.waiting.push(() => resolve(this.start())));
  }

  private start(): Release {
    this.active++;
    if (this.active > this.peak) this.peak = this.active;
    let done = false;
    return (outcome) => {
      if (done) return;
      done = true;
      this.active--;
      this.observe(outcome);
      this.wake();
    };
  }

  private wake(): void {
    while (this.waiting.length > 0 && this.active < this.limit) this.waiting.shift()!();
  }

  private observe(outcome: RequestOutcome): void {
    if (!this.o.adaptive) return;
    if ('rttMs' in outcome) {
      this.rttSum += outcome.rttMs;
      this.rttCount++;
    } else if ('pushback' in outcome) {
      this.pushedBack = true;
    }
    const now = this.now();
    if (now - this.periodStart < Math.max(MIN_PERIOD_MS, this.lastRtt ?? 0)) return;
    this.endPeriod(now);
  }

  private endPeriod(now: number): void {
    const mean = this.rttCount > 0 ? this.rttSum / this.rttCount : undefined;
    if (mean !== undefined) {
      if (now - this.baseSince >= BASE_WINDOW_MS) {
        this.basePrevious = this.baseNow;
        this.baseNow = Infinity;
        this.baseSince = now;
      }
      this.baseNow = Math.min(this.baseNow, mean);
      this.lastRtt = mean;
    }
    if (this.pushedBack) {
      this.decrease();
    } else if (mean !== undefined) {
      const base = Math.min(this.baseNow, this.basePrevious);
      const queued = this.limit * (1 - base / mean);
      if (queued > QUEUED_MAX) this.estimate = Math.max(1, this.estimate - 1);
      else if (this.waited && queued < QUEUED_MIN) this.estimate = Math.min(this.o.max, this.estimate + 1);
      // Headroom nobody used: the batches it lets the agent read ahead would only wait for a seal thread.
      else if (!this.waited && this.peak + 2 <= this.limit) this.estimate -= 1;
    }
    this.periodStart = now;
    this.rttSum = 0;
    this.rttCount = 0;
    this.pushedBack = false;
    this.waited = this.waiting.length > 0;
    this.peak = this.active;
  }

  private decrease(): void {
    this.estimate = Math.max(1, Math.floor(this.estimate * DECREASE_RATIO));
  }
}

/**
 * Runs one request under a slot and tells `release` how it went: its round trip, or pushback when the client had to
 * retry it (throttling, 5xx, timeouts) or gave up on a retryable error; other failures say nothing of load. The
 * request's own error is rethrown.
 */
export async function reportedRequest(release: Release, request: (onRetry: () => void) => Promise<unknown>): Promise<void> {
  const started = performance.now();
  let retried = false;
  try {
    await request(() => (retried = true));
  } catch (err) {
    release(err instanceof SlsError && err.retryable ? { pushback: true } : { other: true });
    throw err;
  }
  release(retried ? { pushback: true } : { rttMs: performance.now() - started });
}
