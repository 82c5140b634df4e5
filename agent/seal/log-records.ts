// Mode `log` sealed a batch per call: every log's record of a group in one call into the native addon
// (agent/native/seal-batch.c), instead of a cipher object, an AAD string and a base64 call per log line.
import { randomBytes } from 'node:crypto';
import { nativeAddon } from '../native/addon.js';
import { writeBase64 } from '../wire/base64.js';
import { nonceLength, type AeadCipher, type SealAlgorithm } from './aead.js';

/**
 * Seals record i = src[ranges[2i], ranges[2i+1]) with nonce i (12 bytes each) and the AAD `prefix` || times[2i] ||
 * "|" || times[2i+1], writing each record's base64 text after the previous one's in `out`; returns the characters written.
 */
export type SealLogRecords = (
  key: Uint8Array,
  src: Uint8Array,
  ranges: Uint32Array,
  times: Float64Array,
  prefix: Uint8Array,
  nonces: Uint8Array,
  out: Uint8Array,
) => number;

const suiteNumber: Record<SealAlgorithm, number> = { AES_256_GCM: 0, SM4_128_GCM: 1 };

// The batch runs the same cipher as the per-record path only for these: OpenSSL's AES (what node:crypto runs), and
// the addon's SM4. Any other choice ('js', or OpenSSL's SM4) is honoured record by record.
const batchedBackend: Record<SealAlgorithm, AeadCipher['backend']> = { AES_256_GCM: 'native', SM4_128_GCM: 'addon' };

const checked = new Map<SealAlgorithm, SealLogRecords | undefined>();

/** The batch sealer that gives the bytes `cipher` gives, or undefined: the record layer then seals one by one. */
export function batchSealerFor(cipher: AeadCipher): SealLogRecords | undefined {
  if (cipher.backend !== batchedBackend[cipher.algorithm]) return undefined;
  if (!checked.has(cipher.algorithm)) checked.set(cipher.algorithm, crossChecked(cipher));
  return checked.get(cipher.algorithm);
}

/** The addon's batch sealer for the suite, if it is built for it and agrees with `cipher` on records of 0-300 bytes. */
function crossChecked(cipher: AeadCipher): SealLogRecords | undefined {
  const addon = nativeAddon;
  if (!addon?.sealLogRecords || !addon.sealBatchSuites().includes(cipher.algorithm)) return undefined;
  const suite = suiteNumber[cipher.algorithm];
  const seal: SealLogRecords = (key, src, ranges, times, prefix, nonces, out) => addon.sealLogRecords(suite, key, src, ranges, times, prefix, nonces, out);
  try {
    const key = randomBytes(cipher.algorithm === 'AES_256_GCM' ? 32 : 16), src = randomBytes(600);
    const lengths = [0, 1, 15, 16, 17, 255, 300];
    const ranges = new Uint32Array(lengths.flatMap((n, i) => [i * 40, i * 40 + n]));
    const times = Float64Array.from(lengths.flatMap((n, i) => [1_714_550_400 + i, i % 2 === 0 ? 0 : 999_999_999 - n]));
    const prefix = Buffer.from(`logseal/1|log|${cipher.algorithm}|p|l|`);
    const nonces = randomBytes(lengths.length * nonceLength);
    const expected = Buffer.alloc(8 * 1024), got = Buffer.alloc(8 * 1024);
    let pos = 0;
    lengths.forEach((_, i) => {
      const nonce = nonces.subarray(i * nonceLength, (i + 1) * nonceLength);
      const aad = Buffer.concat([prefix, Buffer.from(`${times[2 * i]}|${times[2 * i + 1]}`)]);
      pos = writeBase64([nonce, cipher.seal(key, nonce, src.subarray(ranges[2 * i], ranges[2 * i + 1]), aad)], expected, pos);
    });
    const written = seal(key, src, ranges, times, prefix, nonces, got);
    return written === pos && got.subarray(0, pos).equals(expected.subarray(0, pos)) ? seal : undefined;
  } catch {
    return undefined;
  }
}
