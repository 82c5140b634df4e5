// Mode `log` sealed a batch per call in the addon: the same bytes as sealing record by record, and misuse refused.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nativeAddon } from '../../agent/native/addon.js';
import type { SealAlgorithm } from '../../agent/seal/aead.js';
import { cipherFor } from '../../agent/seal/cipher.js';
import { batchSealerFor } from '../../agent/seal/log-records.js';
import { openGroup, sealGroup, type DataKey, type SealTarget } from '../../agent/seal/record.js';
import { encodeLogGroup, type LogGroup } from '../../agent/wire/loggroup.js';

const algorithms: SealAlgorithm[] = ['AES_256_GCM', 'SM4_128_GCM'];
const batched = { AES_256_GCM: 'native', SM4_128_GCM: 'addon' } as const;
const target: SealTarget = { project: 'demo', logstore: 'app', mode: 'log', zip: 'none' };

function randomGroup(count: number): LogGroup {
  const logs: LogGroup['logs'] = [];
  for (let i = 0; i < count; i++) {
    const size = i % 50 === 0 ? 3000 + (i % 7) : i % 301;
    const log: LogGroup['logs'][number] = {
      time: i % 3 === 0 ? 4_294_967_295 - i : 1_714_550_400 + i,
      contents: i % 97 === 0 ? [] : [{ key: 'content', value: randomBytes(size).toString('latin1') }, { key: 'k', value: `${i}` }],
    };
    if (i % 2 === 1) log.timeNs = i % 5 === 0 ? 0 : 999_999_999 - i;
    logs.push(log);
  }
  return { topic: 'nginx', source: '10.0.0.8', logTags: [{ key: 'host', value: 'web-1' }], logs };
}

const fixedNonces = (seed: Uint8Array) => ({ fillNonces: (out: Uint8Array) => out.forEach((_, i) => (out[i] = seed[i % seed.length] ^ (i >> 8))) });

describe.skipIf(!nativeAddon)('mode log, a batch per call', () => {
  for (const algorithm of algorithms) {
    it(`${algorithm}: is used where the chosen cipher is the one it runs, and not for 'js'`, () => {
      expect(batchSealerFor(cipherFor(algorithm, batched[algorithm]))).toBeDefined();
      expect(batchSealerFor(cipherFor(algorithm, 'js'))).toBeUndefined();
    });

    it(`${algorithm}: ships the bytes that sealing record by record ships, for 1000 logs of 0-3000 bytes`, () => {
      const key: DataKey = { algorithm, plaintext: randomBytes(algorithm === 'AES_256_GCM' ? 32 : 16), cmkId: 'k', blob: 'b' };
      const group = randomGroup(1000);
      const seed = randomBytes(4096);
      const byBatch = sealGroup(group, key, target, cipherFor(algorithm, batched[algorithm]), fixedNonces(seed));
      const byRecord = sealGroup(group, key, target, cipherFor(algorithm, 'js'), fixedNonces(seed));
      expect(Buffer.from(encodeLogGroup(byBatch)).equals(Buffer.from(encodeLogGroup(byRecord)))).toBe(true);
      expect(openGroup(byBatch, () => key.plaintext, target, (a) => cipherFor(a, 'js'))).toEqual([group]);
    });

    it(`${algorithm}: ships the same bytes across the addon's ECB passes: records filling a pass, and longer than one`, () => {
      const key: DataKey = { algorithm, plaintext: randomBytes(algorithm === 'AES_256_GCM' ? 32 : 16), cmkId: 'k', blob: 'b' };
      // A pass is 4096 blocks: a record of n bytes takes 1 + ceil(n / 16) of them (J0, then its key stream).
      const sizes = [16 * 4093, 200, 16 * 4094, 16 * 4094 + 1, 0, 16 * 4095, 3, 150_000, 17, ...Array.from({ length: 600 }, (_, i) => 100 + i)];
      const group: LogGroup = {
        logTags: [],
        logs: sizes.map((size, i) => ({ time: 1_714_550_400 + i, contents: [{ key: 'content', value: randomBytes(size).toString('latin1') }] })),
      };
      const seed = randomBytes(4096);
      const byBatch = sealGroup(group, key, target, cipherFor(algorithm, batched[algorithm]), fixedNonces(seed));
      const byRecord = sealGroup(group, key, target, cipherFor(algorithm, 'js'), fixedNonces(seed));
      expect(Buffer.from(encodeLogGroup(byBatch)).equals(Buffer.from(encodeLogGroup(byRecord)))).toBe(true);
      expect(openGroup(byBatch, () => key.plaintext, target, (a) => cipherFor(a, 'js'))).toEqual([group]);
    });
  }

  it('refuses bad arguments before sealing anything', () => {
    const addon = nativeAddon!;
    const key = new Uint8Array(16), src = new Uint8Array(100), prefix = Buffer.from('p|'), nonces = new Uint8Array(24);
    const out = Buffer.alloc(1000, 0x2a);
    const ranges = Uint32Array.from([0, 10, 10, 100]), times = Float64Array.from([1, 0, 2, 3]);
    expect(addon.sealLogRecords(1, key, src, ranges, times, prefix, nonces, out)).toBe(52 + 160); // base64 of 12 + 10 + 16 and of 12 + 90 + 16 bytes
    out.fill(0x2a);
    expect(() => addon.sealLogRecords(2, key, src, ranges, times, prefix, nonces, out)).toThrow(TypeError);
    expect(() => addon.sealLogRecords(0, key, src, ranges, times, prefix, nonces, out)).toThrow(RangeError); // AES needs 32 bytes
    expect(() => addon.sealLogRecords(1, key, src, Uint32Array.from([0, 10, 10, 101]), times, prefix, nonces, out)).toThrow(RangeError);
    expect(() => addon.sealLogRecords(1, key, src, Uint32Array.from([0, 10]), times, prefix, nonces, out)).toThrow(TypeError);
    expect(() => addon.sealLogRecords(1, key, src, ranges, Float64Array.from([1.5, 0, 2, 3]), prefix, nonces, out)).toThrow(RangeError);
    expect(() => addon.sealLogRecords(1, key, src, ranges, times, prefix, new Uint8Array(23), out)).toThrow(RangeError);
    expect(() => addon.sealLogRecords(1, key, src, ranges, times, prefix, nonces, out.subarray(0, 211))).toThrow(RangeError);
    expect(out.every((b) => b === 0x2a)).toBe(true);
  });
});
