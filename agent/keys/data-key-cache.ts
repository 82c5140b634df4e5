// Data keys for sealing: one GenerateDataKey at a time, rotated by age, records and bytes, and fetched ahead of need.
//
// Plaintext keys are overwritten with zeros when they leave service, with a grace: a replaced key is zeroed at the
// *next* rotation (or on close), because a seal that acquired it just before the swap may still be running. A caller
// must therefore finish with a DataKey within one rotation period of acquiring it.
import { EventEmitter } from 'node:events';
import type { GeneratedDataKey } from './kms-client.js';
import { KmsError } from './kms-error.js';

export type SealAlgorithm = 'AES_256_GCM' | 'SM4_128_GCM';

export interface RotationPolicy {
  maxAgeMs: number;
  maxRecords: number;
  maxBytes: number;
}

export const DEFAULT_ROTATION: RotationPolicy = { maxAgeMs: 5 * 60_000, maxRecords: 2 ** 24, maxBytes: 64 * 2 ** 30 };
/** Random 96-bit nonces: a key may seal at most 2^32 records (FORMAT.md), whatever the policy says. */
export const HARD_MAX_RECORDS = 2 ** 32;
/** Share of a record or byte limit after which the next key is fetched in the background. */
const REFRESH_AT_USE = 0.8;

export interface DataKey {
  algorithm: SealAlgorithm;
  plaintext: Uint8Array;
  /** The KeyId GenerateDataKey returned. */
  cmkId: string;
  /** The CiphertextBlob, shipped verbatim. */
  blob: string;
}

export interface DataKeyCacheOptions {
  kms: { generateDataKey(cmk: string, numberOfBytes: number, context: Record<string, string>): Promise<GeneratedDataKey> };
  cmk: string;
  algorithm: SealAlgorithm;
  context: Record<string, string>;
  rotate?: Partial<RotationPolicy>;
  /** Fetch the next key this long before the current one ages out; default a fifth of maxAgeMs. */
  refreshAheadMs?: number;
  /** Backoff between failed GenerateDataKey calls; default 1 s doubling up to 60 s, with jitter. */
  retry?: { baseDelayMs: number; maxDelayMs: number };
  now?: () => number;
}

export interface DataKeyCacheStatus {
  state: 'ok' | 'refreshing' | 'unavailable';
  keyAgeMs?: number;
  records?: number;
  bytes?: number;
  generateCalls: number;
  lastError?: { code: string; message: string };
}

const KEY_BYTES: Record<SealAlgorithm, number> = { AES_256_GCM: 32, SM4_128_GCM: 16 };

interface KeyInUse {
  key: DataKey;
  createdAt: number;
  records: number;
  bytes: number;
}

interface Waiter {
  records: number;
  bytes: number;
  resolve(key: DataKey): void;
  reject(err: unknown): void;
}

function asKmsError(err: unknown): KmsError {
  if (err instanceof KmsError) return err;
  return new KmsError({ code: 'ClientError', status: 0, message: err instanceof Error ? err.message : String(err) });
}

/**
 * Hands out the current data key and counts its use. Events: `rotated` ({cmkId}) when a new key takes over,
 * `unavailable` (KmsError) when acquire() starts failing, `restored` ({cmkId}) when a key is available again.
 */
export class DataKeyCache extends EventEmitter {
  private readonly policy: RotationPolicy;
  private readonly refreshAheadMs: number;
  private readonly retry: { baseDelayMs: number; maxDelayMs: number };
  private readonly now: () => number;
  private current: KeyInUse | undefined;
  /** Replaced keys still in their grace period. */
  private retired: DataKey[] = [];
  private waiters: Waiter[] = [];
  private inflight = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private lastError: KmsError | undefined;
  private unavailableSignalled = false;
  private generateCalls = 0;
  private closed = false;

  constructor(private readonly o: DataKeyCacheOptions) {
    super();
    const p: RotationPolicy = {
      maxAgeMs: o.rotate?.maxAgeMs ?? DEFAULT_ROTATION.maxAgeMs,
      maxRecords: o.rotate?.maxRecords ?? DEFAULT_ROTATION.maxRecords,
      maxBytes: o.rotate?.maxBytes ?? DEFAULT_ROTATION.maxBytes,
    };
    if (!(p.maxAgeMs > 0) || !(p.maxRecords >= 1) || !(p.maxBytes >= 1)) {
      throw new RangeError('rotation limits must be positive');
    }
    this.policy = { ...p, maxRecords: Math.min(p.maxRecords, HARD_MAX_RECORDS) };
    this.refreshAheadMs = Math.min(o.refreshAheadMs ?? p.maxAgeMs / 5, p.maxAgeMs);
    this.retry = o.retry ?? { baseDelayMs: 1_000, maxDelayMs: 60_000 };
    this.now = o.now ?? Date.now;
  }

  /**
   * A key that may seal `records` more records totalling `bytes` plaintext bytes; the usage is counted now.
   * Waits for a fresh key when the current one is exhausted; rejects with KmsError when no usable key can be had
   * (the CMK is unusable, or KMS is failing and the current key is spent). `acquire(0, 0)` just warms the cache.
   */
  acquire(records: number, bytes: number): Promise<DataKey> {
    if (!Number.isInteger(records) || records < 0 || records > HARD_MAX_RECORDS) {
      return Promise.reject(new RangeError(`records out of range: ${records}`));
    }
    if (!Number.isSafeInteger(bytes) || bytes < 0) return Promise.reject(new RangeError(`bytes out of range: ${bytes}`));
    if (this.closed) return Promise.reject(new KmsError({ code: 'Closed', status: 0, message: 'the data key cache is closed' }));
    if (this.lastError?.cmkUnusable) {
      this.signalUnavailable(this.lastError);
      return Promise.reject(this.lastError);
    }
    const now = this.now();
    if (this.waiters.length === 0 && this.current && this.fits(this.current, records, bytes, now)) {
      const key = this.use(this.current, records, bytes);
      this.refreshAheadIfDue(now);
      return Promise.resolve(key);
    }
    if (!this.inflight && this.lastError) {
      // KMS failed and the current key is spent: the caller holds its data; the background retry goes on.
      this.signalUnavailable(this.lastError);
      return Promise.reject(this.lastError);
    }
    return new Promise<DataKey>((resolve, reject) => {
      this.waiters.push({ records, bytes, resolve, reject });
      this.refresh();
    });
  }

  status(): DataKeyCacheStatus {
    const now = this.now();
    const unavailable = this.lastError !== undefined && (this.lastError.cmkUnusable || !this.hasRoom(now));
    const s: DataKeyCacheStatus = {
      state: unavailable ? 'unavailable' : this.inflight || this.retryTimer ? 'refreshing' : 'ok',
      generateCalls: this.generateCalls,
    };
    if (this.current) {
      s.keyAgeMs = now - this.current.createdAt;
      s.records = this.current.records;
      s.bytes = this.current.bytes;
    }
    if (this.lastError) s.lastError = { code: this.lastError.code, message: this.lastError.message };
    return s;
  }

  /** Zeroes every plaintext key this cache still holds, and fails whoever is waiting. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    for (const key of this.retired) key.plaintext.fill(0);
    this.retired = [];
    this.current?.key.plaintext.fill(0);
    this.current = undefined;
    const err = new KmsError({ code: 'Closed', status: 0, message: 'the data key cache is closed' });
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  private fits(k: KeyInUse, records: number, bytes: number, now: number): boolean {
    if (now - k.createdAt >= this.policy.maxAgeMs) return false;
    if (k.records === 0 && k.bytes === 0) return true; // a fresh key takes any single request, or nothing ever would
    return k.records + records <= this.policy.maxRecords && k.bytes + bytes <= this.policy.maxBytes;
  }

  /** Whether the current key could still seal anything. */
  private hasRoom(now: number): boolean {
    const k = this.current;
    return (
      k !== undefined &&
      now - k.createdAt < this.policy.maxAgeMs &&
      k.records < this.policy.maxRecords &&
      k.bytes < this.policy.maxBytes
    );
  }

  private use(k: KeyInUse, records: number, bytes: number): DataKey {
    k.records += records;
    k.bytes += bytes;
    return k.key;
  }

  private refreshAheadIfDue(now: number): void {
    const k = this.current;
    if (!k || this.inflight || this.retryTimer) return;
    if (
      k.records >= this.policy.maxRecords * REFRESH_AT_USE ||
      k.bytes >= this.policy.maxBytes * REFRESH_AT_USE ||
      now - k.createdAt >= this.policy.maxAgeMs - this.refreshAheadMs
    ) {
      this.refresh();
    }
  }

  /** Starts the one GenerateDataKey call, unless it is already running. */
  private refresh(): void {
    if (this.inflight || this.closed) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.inflight = true;
    this.generateCalls++;
    const bytes = KEY_BYTES[this.o.algorithm];
    Promise.resolve()
      .then(() => this.o.kms.generateDataKey(this.o.cmk, bytes, this.o.context))
      .then(
        (k) => {
          if (k.plaintext.length === bytes) return this.onKey(k);
          k.plaintext.fill(0);
          this.onFailure(new KmsError({ code: 'InvalidResponse', status: 0, message: 'data key of the wrong length' }));
        },
        (err: unknown) => this.onFailure(asKmsError(err)),
      );
  }

  private onKey(k: GeneratedDataKey): void {
    this.inflight = false;
    if (this.closed) {
      k.plaintext.fill(0);
      return;
    }
    const key: DataKey = { algorithm: this.o.algorithm, plaintext: k.plaintext, cmkId: k.keyId, blob: k.blob };
    for (const old of this.retired) old.plaintext.fill(0);
    this.retired = this.current ? [this.current.key] : [];
    this.current = { key, createdAt: this.now(), records: 0, bytes: 0 };
    this.failures = 0;
    this.lastError = undefined;
    this.emit('rotated', { cmkId: key.cmkId });
    if (this.unavailableSignalled) {
      this.unavailableSignalled = false;
      this.emit('restored', { cmkId: key.cmkId });
    }
    this.serveWaiters();
  }

  private serveWaiters(): void {
    const now = this.now();
    while (this.waiters.length > 0 && this.current && this.fits(this.current, this.waiters[0]!.records, this.waiters[0]!.bytes, now)) {
      const w = this.waiters.shift()!;
      w.resolve(this.use(this.current, w.records, w.bytes));
    }
    if (this.waiters.length > 0) this.refresh();
    else this.refreshAheadIfDue(now);
  }

  private onFailure(err: KmsError): void {
    this.inflight = false;
    if (this.closed) return;
    this.failures++;
    this.lastError = err;
    if (err.cmkUnusable && this.current) {
      // Data sealed now could not be read back while the CMK refuses, so the current key goes out of service too.
      this.retired.push(this.current.key);
      this.current = undefined;
    }
    const waiting = this.waiters.splice(0);
    for (const w of waiting) w.reject(err);
    if (err.cmkUnusable || waiting.length > 0 || !this.hasRoom(this.now())) this.signalUnavailable(err);
    this.scheduleRetry();
  }

  private signalUnavailable(err: KmsError): void {
    if (this.unavailableSignalled) return;
    this.unavailableSignalled = true;
    this.emit('unavailable', err);
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.closed) return;
    const ceiling = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** Math.min(this.failures - 1, 30));
    const delay = ceiling / 2 + (Math.random() * ceiling) / 2; // jitter, so many agents do not retry in step
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.refresh();
    }, delay);
    this.retryTimer.unref();
  }
}
