// Backoff: exponential ceiling with full jitter, bounded attempts, only retryable SlsErrors retried.
import { describe, expect, it } from 'vitest';
import { SlsError, isRetryable } from '../../agent/ship/errors.js';
import { backoffDelay, retryPolicy, withRetry } from '../../agent/ship/retry.js';

const err = (code: string, status: number): SlsError => new SlsError({ code, status, detail: 'x' });

describe('classification (PROTOCOLS.md)', () => {
  it.each([
    ['WriteQuotaExceed', 403, true],
    ['ShardWriteQuotaExceed', 403, true],
    ['ExceedQuota', 403, true],
    ['InternalServerError', 500, true],
    ['ServerBusy', 503, true],
    ['AnythingElse', 502, true],
    ['NetworkError', 0, true],
    ['RequestTimeout', 0, true],
    ['SignatureNotMatch', 401, false],
    ['Unauthorized', 401, false],
    ['ProjectNotExist', 404, false],
    ['LogStoreNotExist', 404, false],
    ['InvalidCompressType', 400, false],
    ['RequestTimeExpired', 400, false],
    ['PostBodyTooLarge', 413, false],
  ])('%s (HTTP %i) retryable: %s', (code, status, retryable) => {
    expect(isRetryable(code, status)).toBe(retryable);
    expect(err(code, status).retryable).toBe(retryable);
  });

  it('messages are one line and say code, status and request id', () => {
    const e = new SlsError({ code: 'ServerBusy', status: 503, detail: 'busy\nnow', operation: 'PutLogs app', requestId: 'RID1' });
    expect(e.message).toBe('PutLogs app: ServerBusy (HTTP 503, request RID1): busy now');
    expect(new SlsError({ code: 'NetworkError', status: 0, detail: 'refused' }).message).toBe('NetworkError (no response): refused');
  });
});

describe('backoffDelay', () => {
  const policy = retryPolicy({ baseDelayMs: 200, maxDelayMs: 1000 });

  it('is uniform below base * 2^(attempt-1), capped at maxDelayMs', () => {
    expect(backoffDelay(policy, 1, () => 0.999999)).toBe(199);
    expect(backoffDelay(policy, 2, () => 0.999999)).toBe(399);
    expect(backoffDelay(policy, 3, () => 0.5)).toBe(400);
    expect(backoffDelay(policy, 10, () => 0.999999)).toBe(999);
    expect(backoffDelay(policy, 4, () => 0)).toBe(0);
  });

  it('defaults: 5 attempts, 200 ms base, 10 s cap', () => {
    expect(retryPolicy()).toEqual({ maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 10_000 });
    expect(() => retryPolicy({ maxAttempts: 0 })).toThrow(RangeError);
  });
});

describe('withRetry', () => {
  const fast = retryPolicy({ maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 2 });

  it('retries retryable errors until success, reporting each failed attempt', async () => {
    const seen: number[] = [];
    let calls = 0;
    const result = await withRetry(fast, { operation: 'op', onRetry: (_e, n) => seen.push(n) }, async () => {
      calls++;
      if (calls < 3) throw err('ServerBusy', 503);
      return 'ok';
    });
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(seen).toEqual([1, 2]);
  });

  it('gives up after maxAttempts with the last error, still retryable', async () => {
    let calls = 0;
    const failure = withRetry(fast, { operation: 'op' }, async () => {
      calls++;
      throw err('WriteQuotaExceed', 403);
    });
    await expect(failure).rejects.toMatchObject({ code: 'WriteQuotaExceed', retryable: true });
    expect(calls).toBe(4);
  });

  it('does not retry a non-retryable error, nor a non-SlsError', async () => {
    let calls = 0;
    await expect(
      withRetry(fast, { operation: 'op' }, async () => {
        calls++;
        throw err('Unauthorized', 401);
      }),
    ).rejects.toMatchObject({ code: 'Unauthorized' });
    await expect(
      withRetry(fast, { operation: 'op' }, async () => {
        calls++;
        throw new TypeError('bug');
      }),
    ).rejects.toThrow(TypeError);
    expect(calls).toBe(2);
  });

  it('an abort during the wait ends it with Aborted', async () => {
    const controller = new AbortController();
    const slow = retryPolicy({ maxAttempts: 3, baseDelayMs: 60_000, maxDelayMs: 60_000 });
    const started = Date.now();
    const failure = withRetry(slow, { operation: 'op', signal: controller.signal, onRetry: () => controller.abort() }, async () => {
      throw err('ServerBusy', 503);
    });
    await expect(failure).rejects.toMatchObject({ code: 'Aborted', retryable: true });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
