// Retries of retryable SlsErrors: exponential backoff with full jitter, bounded attempts, abortable waits.
import { SlsError } from './errors.js';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 10_000 };

export function retryPolicy(overrides?: Partial<RetryPolicy>): RetryPolicy {
  const p = { ...DEFAULT_RETRY_POLICY, ...overrides };
  if (!(Number.isInteger(p.maxAttempts) && p.maxAttempts >= 1)) throw new RangeError(`retry.maxAttempts must be an integer >= 1, got ${p.maxAttempts}`);
  if (!(p.baseDelayMs >= 0 && p.maxDelayMs >= 0)) throw new RangeError('retry delays must be >= 0 ms');
  return p;
}

/**
 * Wait before attempt `attempt + 1`: uniform in [0, min(max, base * 2^(attempt-1))). Full jitter keeps
 * many agents throttled by the same shard from coming back in step.
 */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

export interface RetryHooks {
  signal?: AbortSignal;
  onRetry?: (error: SlsError, attempt: number) => void;
  operation: string;
}

/** Runs `attempt` until it succeeds, fails with a non-retryable error, or the attempts run out (then throws the last error). */
export async function withRetry<T>(policy: RetryPolicy, hooks: RetryHooks, attempt: (n: number) => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (!(err instanceof SlsError) || !err.retryable || n >= policy.maxAttempts || hooks.signal?.aborted) throw err;
      hooks.onRetry?.(err, n);
      await sleep(backoffDelay(policy, n), hooks.signal, err, hooks.operation);
    }
  }
}

function sleep(ms: number, signal: AbortSignal | undefined, last: SlsError, operation: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const aborted = (): SlsError =>
      new SlsError({ code: 'Aborted', status: 0, operation, detail: `aborted while waiting to retry after ${last.code}` });
    if (signal?.aborted) return reject(aborted());
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(aborted());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
