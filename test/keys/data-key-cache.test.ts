// DataKeyCache: rotation limits, one GenerateDataKey at a time, refresh ahead, outages, CMK loss and zeroing.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  DataKeyCache,
  encryptionContext,
  KmsClient,
  KmsError,
  type DataKey,
  type DataKeyCacheOptions,
  type GeneratedDataKey,
} from '../../agent/keys/index.js';
import { startKmsEmulator, type KmsEmulator } from '../../emulators/kms/index.js';

/** A KMS whose answers the test releases by hand (or at once when `auto`). */
class FakeKms {
  calls = 0;
  active = 0;
  maxActive = 0;
  auto = true;
  failWith: KmsError | undefined;
  /** Every plaintext key handed out, to check zeroing. */
  issued: Uint8Array[] = [];
  private pending: Array<() => void> = [];

  generateDataKey(cmk: string, numberOfBytes: number): Promise<GeneratedDataKey> {
    this.calls++;
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    const n = this.calls;
    const settle = (): Promise<GeneratedDataKey> => {
      this.active--;
      if (this.failWith) return Promise.reject(this.failWith);
      const plaintext = new Uint8Array(randomBytes(numberOfBytes));
      this.issued.push(plaintext);
      return Promise.resolve({ keyId: cmk, keyVersionId: 'v1', plaintext, blob: `blob-${n}` });
    };
    if (this.auto) return settle();
    return new Promise((resolve, reject) => this.pending.push(() => settle().then(resolve, reject)));
  }

  /** Answers the oldest waiting call. */
  release(): void {
    const next = this.pending.shift();
    if (!next) throw new Error('no GenerateDataKey call is waiting');
    next();
  }

  get waiting(): number {
    return this.pending.length;
  }
}

const unavailable = (code = 'ServiceUnavailableTemporary', status = 503) => new KmsError({ code, status, message: 'down' });
const fastRetry = { baseDelayMs: 5, maxDelayMs: 20 };
const caches: DataKeyCache[] = [];

function cache(kms: FakeKms | KmsClient, o: Partial<DataKeyCacheOptions> = {}): DataKeyCache {
  const c = new DataKeyCache({ kms, cmk: 'cmk-1', algorithm: 'AES_256_GCM', context: encryptionContext('p', 'l'), retry: fastRetry, ...o });
  caches.push(c);
  return c;
}

/** Lets queued promise callbacks run, so a pending GenerateDataKey call has been made. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** Polls until `check` holds, for at most two seconds. */
async function eventually(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}

afterEach(() => {
  for (const c of caches.splice(0)) c.close();
});

describe('rotation', () => {
  it('rotates by age', async () => {
    let now = 1_000_000;
    const kms = new FakeKms();
    const c = cache(kms, { now: () => now, rotate: { maxAgeMs: 60_000 }, refreshAheadMs: 0 });
    const first = await c.acquire(1, 100);
    now += 59_999;
    expect(await c.acquire(1, 100)).toBe(first);
    now += 1;
    const second = await c.acquire(1, 100);
    expect(second).not.toBe(first);
    expect(second.blob).toBe('blob-2');
    expect(kms.calls).toBe(2);
    expect(c.status()).toMatchObject({ state: 'ok', keyAgeMs: 0, records: 1, bytes: 100, generateCalls: 2 });
  });

  it('never lets a key seal more records or bytes than its limits', async () => {
    for (const [rotate, records, bytes] of [
      [{ maxRecords: 10 }, 1, 1],
      [{ maxBytes: 1000 }, 1, 90],
    ] as const) {
      const kms = new FakeKms();
      const c = cache(kms, { rotate });
      const use = new Map<string, { records: number; bytes: number }>();
      for (let i = 0; i < 100; i++) {
        const key = await c.acquire(records, bytes);
        const u = use.get(key.blob) ?? { records: 0, bytes: 0 };
        use.set(key.blob, { records: u.records + records, bytes: u.bytes + bytes });
      }
      for (const u of use.values()) {
        expect(u.records).toBeLessThanOrEqual(rotate.maxRecords ?? Infinity);
        expect(u.bytes).toBeLessThanOrEqual(rotate.maxBytes ?? Infinity);
      }
      const perKey = rotate.maxRecords ?? Math.floor(rotate.maxBytes! / bytes);
      expect(use.size).toBeGreaterThanOrEqual(Math.ceil(100 / perKey));
    }
  });

  it('caps records per key at 2^32 whatever the policy says', async () => {
    const kms = new FakeKms();
    const c = cache(kms, { rotate: { maxRecords: 2 ** 40 } });
    const a = await c.acquire(2 ** 32 - 1, 1);
    expect(await c.acquire(1, 1)).toBe(a);
    expect(await c.acquire(1, 1)).not.toBe(a);
    await expect(c.acquire(2 ** 32 + 1, 1)).rejects.toBeInstanceOf(RangeError);
  });

  it('hands a fresh key to a request larger than the limits rather than waiting forever', async () => {
    const c = cache(new FakeKms(), { rotate: { maxBytes: 10 } });
    const a = await c.acquire(1, 5);
    const big = await c.acquire(1, 50);
    expect(big).not.toBe(a);
    expect(await c.acquire(1, 1)).not.toBe(big);
  });
});

describe('one GenerateDataKey at a time', () => {
  it('serves 100 concurrent acquire() calls from a single call', async () => {
    const kms = new FakeKms();
    kms.auto = false;
    const c = cache(kms);
    const all = Promise.all(Array.from({ length: 100 }, () => c.acquire(1, 64)));
    await settle();
    expect(kms.calls).toBe(1);
    expect(c.status().state).toBe('refreshing');
    kms.release();
    const keys = await all;
    expect(new Set(keys).size).toBe(1);
    expect(kms.calls).toBe(1);
    expect(c.status()).toMatchObject({ records: 100, bytes: 6400 });
  });

  it('never has two calls in flight, even when concurrent demand spans many keys', async () => {
    const kms = new FakeKms();
    kms.auto = false;
    const c = cache(kms, { rotate: { maxRecords: 10 } });
    const all = Promise.all(Array.from({ length: 100 }, () => c.acquire(1, 1)));
    while (kms.calls < 10 || kms.waiting > 0) {
      await eventually(() => kms.waiting > 0);
      kms.release();
      await settle();
    }
    const keys = await all;
    expect(kms.maxActive).toBe(1);
    expect(new Set(keys).size).toBe(10);
  });
});

describe('refresh ahead', () => {
  it('fetches the next key at 80% use while sealing goes on with the current one', async () => {
    const kms = new FakeKms();
    kms.auto = false;
    const c = cache(kms, { rotate: { maxRecords: 10 } });
    const firstP = c.acquire(7, 1);
    await settle();
    kms.release();
    const first = await firstP;
    expect(kms.calls).toBe(1);
    expect(await c.acquire(1, 1)).toBe(first); // 8 of 10 used
    await settle();
    expect(kms.calls).toBe(2);
    // The new key has not arrived, yet acquire() answers at once.
    expect(await c.acquire(1, 1)).toBe(first);
    expect(c.status().state).toBe('refreshing');
    kms.release();
    await eventually(() => c.status().records === 0);
    expect(await c.acquire(1, 1)).not.toBe(first);
    expect(kms.calls).toBe(2);
  });

  it('fetches the next key refreshAheadMs before maxAge without blocking', async () => {
    let now = 0;
    const kms = new FakeKms();
    kms.auto = false;
    const c = cache(kms, { now: () => now, rotate: { maxAgeMs: 60_000 }, refreshAheadMs: 10_000 });
    const firstP = c.acquire(1, 1);
    await settle();
    kms.release();
    const first = await firstP;
    now = 49_999;
    expect(await c.acquire(1, 1)).toBe(first);
    await settle();
    expect(kms.calls).toBe(1);
    now = 50_000;
    expect(await c.acquire(1, 1)).toBe(first);
    await settle();
    expect(kms.calls).toBe(2);
    const rotated = once(c, 'rotated');
    kms.release();
    await rotated;
    expect(await c.acquire(1, 1)).not.toBe(first);
  });
});

describe('KMS outages', () => {
  it('keeps using the current key during transient errors, rejects once it is spent, and recovers', async () => {
    const kms = new FakeKms();
    const c = cache(kms, { rotate: { maxRecords: 10 } });
    const events: string[] = [];
    c.on('unavailable', (e: KmsError) => events.push(`unavailable:${e.code}`));
    c.on('restored', () => events.push('restored'));
    const first = await c.acquire(1, 1);
    kms.failWith = unavailable();
    for (let i = 0; i < 9; i++) expect(await c.acquire(1, 1)).toBe(first);
    expect(c.status().state).not.toBe('ok');
    const err = await c.acquire(1, 1).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ServiceUnavailableTemporary', retryable: true, cmkUnusable: false });
    expect(c.status()).toMatchObject({ state: 'unavailable', lastError: { code: 'ServiceUnavailableTemporary' } });
    expect(events).toEqual(['unavailable:ServiceUnavailableTemporary']);
    const callsBefore = kms.calls;
    await eventually(() => kms.calls >= callsBefore + 2); // background retries go on
    kms.failWith = undefined;
    await eventually(() => events.includes('restored'));
    const next = await c.acquire(1, 1);
    expect(next).not.toBe(first);
    expect(c.status().state).toBe('ok');
    expect(c.status().lastError).toBeUndefined();
  });

  it('rejects at once while the CMK is unusable, even while a background retry is in flight', async () => {
    const kms = new FakeKms();
    kms.auto = false;
    kms.failWith = unavailable('Rejected.Disabled', 409);
    const c = cache(kms);
    const first = c.acquire(1, 1);
    await settle();
    kms.release();
    await expect(first).rejects.toMatchObject({ code: 'Rejected.Disabled', cmkUnusable: true });
    await eventually(() => kms.waiting > 0); // the background retry is waiting on KMS
    const answer = await Promise.race([c.acquire(1, 1).catch((e: unknown) => e), settle().then(() => 'still waiting')]);
    expect(answer).toMatchObject({ code: 'Rejected.Disabled' });
    kms.failWith = undefined;
    const restored = once(c, 'restored');
    kms.release();
    await restored;
    expect((await c.acquire(1, 1)).blob).toBe(`blob-${kms.calls}`);
  });

  it('rejects waiting callers when the call they wait for fails', async () => {
    const kms = new FakeKms();
    kms.failWith = unavailable('Throttling.User', 400);
    const c = cache(kms);
    const results = await Promise.allSettled([c.acquire(1, 1), c.acquire(1, 1)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(kms.calls).toBe(1);
  });

  it('refuses a key of the wrong length', async () => {
    const c = cache({ generateDataKey: async () => ({ keyId: 'k', keyVersionId: 'v', plaintext: new Uint8Array(16), blob: 'b' }) } as never);
    await expect(c.acquire(1, 1)).rejects.toMatchObject({ code: 'InvalidResponse' });
  });
});

describe('zeroing', () => {
  it('zeroes a replaced key at the next rotation, and every key on close', async () => {
    let now = 0;
    const c = cache(new FakeKms(), { now: () => now, rotate: { maxAgeMs: 1000 }, refreshAheadMs: 0 });
    const zero = (k: DataKey) => k.plaintext.every((b) => b === 0);
    const a = await c.acquire(1, 1);
    now += 1000;
    const b = await c.acquire(1, 1);
    expect(zero(a)).toBe(false); // grace: a seal that took `a` just before the swap may still be running
    now += 1000;
    const k3 = await c.acquire(1, 1);
    expect(zero(a)).toBe(true);
    expect(zero(b)).toBe(false);
    c.close();
    expect(zero(b)).toBe(true);
    expect(zero(k3)).toBe(true);
    await expect(c.acquire(1, 1)).rejects.toMatchObject({ code: 'Closed' });
  });

  it('fails callers still waiting when closed, and zeroes a key that arrives afterwards', async () => {
    const kms = new FakeKms();
    kms.auto = false;
    const c = cache(kms);
    const waiting = c.acquire(1, 1);
    await settle();
    c.close();
    await expect(waiting).rejects.toMatchObject({ code: 'Closed' });
    kms.release();
    await settle();
    expect(kms.issued).toHaveLength(1);
    expect(kms.issued[0]!.every((b) => b === 0)).toBe(true);
    expect(c.status().records).toBeUndefined();
  });
});

describe('with the KMS emulator', () => {
  let dataDir: string;
  let emu: KmsEmulator;
  let kms: KmsClient;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'logseal-cache-'));
    emu = await startKmsEmulator({ dataDir, accessKeyId: 'ak', accessKeySecret: 'sk' });
    kms = new KmsClient({ endpoint: emu.url, regionId: 'cn-hangzhou', accessKeyId: 'ak', accessKeySecret: 'sk' });
  });

  afterAll(async () => {
    await emu?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('hands out keys that KMS Decrypt recovers under the Logstore context', async () => {
    const { keyId } = await emu.keyring.createKey('Aliyun_SM4');
    const context = encryptionContext('proj', 'store');
    const c = cache(kms, { cmk: keyId, algorithm: 'SM4_128_GCM', context });
    const key = await c.acquire(1, 1);
    expect(key).toMatchObject({ algorithm: 'SM4_128_GCM', cmkId: keyId });
    expect(key.plaintext).toHaveLength(16);
    expect(await kms.decrypt(key.blob, context)).toEqual(key.plaintext);
  });

  it('rejects at once with the KMS code while the CMK is disabled, and resumes when it is enabled', async () => {
    let now = 0;
    const { keyId } = await emu.keyring.createKey();
    const c = cache(kms, { cmk: keyId, now: () => now, rotate: { maxAgeMs: 60_000 }, retry: { baseDelayMs: 10, maxDelayMs: 40 } });
    const unavailableEvents: KmsError[] = [];
    c.on('unavailable', (e: KmsError) => unavailableEvents.push(e));
    const first = await c.acquire(1, 1);

    await emu.keyring.setEnabled(keyId, false);
    now += 60_000; // the key ages out: a new one is needed
    const err = await c.acquire(1, 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KmsError);
    expect(err).toMatchObject({ code: 'Rejected.Disabled', status: 409, cmkUnusable: true });
    expect(unavailableEvents.map((e) => e.code)).toEqual(['Rejected.Disabled']);
    expect(c.status().state).toBe('unavailable');
    // Later calls do not wait for KMS.
    await expect(c.acquire(1, 1)).rejects.toMatchObject({ code: 'Rejected.Disabled' });
    const callsWhileDisabled = c.status().generateCalls;
    await eventually(() => c.status().generateCalls >= callsWhileDisabled + 2); // still retrying in the background

    const restored = once(c, 'restored', { signal: AbortSignal.timeout(5000) });
    await emu.keyring.setEnabled(keyId, true);
    await restored;
    const next = await c.acquire(1, 1);
    expect(next.blob).not.toBe(first.blob);
    expect(c.status().state).toBe('ok');
    expect(unavailableEvents).toHaveLength(1);
  });

  it('stops using the current key as soon as KMS says the CMK is pending deletion', async () => {
    let now = 0;
    const { keyId } = await emu.keyring.createKey();
    const c = cache(kms, { cmk: keyId, now: () => now, rotate: { maxAgeMs: 60_000 }, refreshAheadMs: 10_000 });
    await c.acquire(1, 1);
    await emu.keyring.scheduleDeletion(keyId, 7);
    now = 55_000; // inside the refresh-ahead window: this acquire still gets the key and starts a refresh
    await c.acquire(1, 1);
    const unavailableEvent = once(c, 'unavailable', { signal: AbortSignal.timeout(5000) });
    const [e] = (await unavailableEvent) as [KmsError];
    expect(e.code).toBe('Rejected.PendingDeletion');
    await expect(c.acquire(1, 1)).rejects.toMatchObject({ code: 'Rejected.PendingDeletion', cmkUnusable: true });
  });
});
