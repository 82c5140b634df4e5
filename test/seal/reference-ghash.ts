// GHASH_H(A, C) computed by @noble/ciphers' GHASH, independent of logseal's: the reference the seal tests check against.
import { GHASH } from '@noble/ciphers/_polyval.js';

/** The full GHASH of GCM: A and C each zero-padded to 16 bytes, then their bit lengths as two 64-bit big-endian integers. */
export function referenceGhash(h: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  const g = new GHASH(h);
  g.update(aad);
  g.update(ciphertext);
  const lengths = Buffer.alloc(16);
  lengths.writeBigUInt64BE(BigInt(aad.length * 8), 0);
  lengths.writeBigUInt64BE(BigInt(ciphertext.length * 8), 8);
  g.update(lengths);
  return g.digest();
}
