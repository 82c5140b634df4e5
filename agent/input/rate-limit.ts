// Per-input token buckets on lines and bytes per second, so one noisy file set cannot take the whole pipeline.
//
// Reading pauses while a bucket is empty; nothing is dropped: the lines wait in their files. Reads are sized to the
// byte tokens left; lines are only known once a chunk is framed, so they are charged afterwards and a bucket may go
// into debt, which later refills repay before the next read. Either way the average stays at the limit.

export interface RateLimitConfig {
  linesPerSecond?: number;
  bytesPerSecond?: number;
}

/** Reads below this size cost more than they save: a bucket with fewer byte tokens waits instead. */
const MIN_READ_BYTES = 4096;

class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly perSecond: number,
    now: number,
  ) {
    // One second of burst: a quiet input may catch up at once, then follows the rate.
    this.tokens = perSecond;
    this.at = now;
  }

  available(now: number): number {
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.at) * this.perSecond) / 1000);
    this.at = now;
    return this.tokens;
  }

  take(n: number): void {
    this.tokens -= n;
  }

  /** Milliseconds until at least `n` tokens are there. */
  msUntil(n: number, now: number): number {
    const missing = Math.min(n, this.perSecond) - this.available(now);
    return missing <= 0 ? 0 : (missing * 1000) / this.perSecond;
  }
}

export class RateLimiter {
  /** Total time reads of this input were held back, in ms (for the metric). */
  limitedMs = 0;
  private readonly lines: TokenBucket | undefined;
  private readonly bytes: TokenBucket | undefined;
  private limitedSince: number | undefined;

  constructor(
    config: RateLimitConfig,
    private readonly clock: () => number = () => performance.now(),
  ) {
    const now = clock();
    this.lines = config.linesPerSecond ? new TokenBucket(config.linesPerSecond, now) : undefined;
    this.bytes = config.bytesPerSecond ? new TokenBucket(config.bytesPerSecond, now) : undefined;
  }

  /** How many bytes the next read may take (0: wait, see msUntilReady), at most `chunkBytes`. */
  readBytes(chunkBytes: number): number {
    const wait = this.msUntilReady();
    const now = this.clock();
    if (wait > 0) {
      this.limitedSince ??= now;
      return 0;
    }
    if (this.limitedSince !== undefined) {
      this.limitedMs += now - this.limitedSince;
      this.limitedSince = undefined;
    }
    return this.bytes ? Math.min(chunkBytes, Math.max(MIN_READ_BYTES, Math.floor(this.bytes.available(now)))) : chunkBytes;
  }

  /** What a read produced. */
  charge(lines: number, bytes: number): void {
    this.lines?.take(lines);
    this.bytes?.take(bytes);
  }

  /** Milliseconds until a read may go ahead: no line debt left, and the bytes of a minimal read. */
  msUntilReady(): number {
    const now = this.clock();
    return Math.max(this.lines?.msUntil(1, now) ?? 0, this.bytes?.msUntil(MIN_READ_BYTES, now) ?? 0);
  }
}
