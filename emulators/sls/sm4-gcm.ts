// SM4-128-GCM (RFC 8998) for the emulator's at-rest encryption: OpenSSL's SM4 block and CTR modes plus noble's GHASH.
import { createCipheriv, timingSafeEqual } from 'node:crypto';
import { GHASH } from '@noble/ciphers/_polyval.js';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

function sm4Block(key: Uint8Array, block: Uint8Array): Buffer {
  const c = createCipheriv('sm4-ecb', key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(block), c.final()]);
}

/** The counter block J0 for a 96-bit nonce, and inc32(J0) where the keystream starts. */
function counterBlocks(nonce: Uint8Array): { j0: Buffer; first: Buffer } {
  if (nonce.length !== NONCE_BYTES) throw new Error(`sm4-gcm: nonce must be ${NONCE_BYTES} bytes`);
  const j0 = Buffer.alloc(16);
  j0.set(nonce, 0);
  j0.writeUInt32BE(1, 12);
  const first = Buffer.from(j0);
  first.writeUInt32BE(2, 12);
  return { j0, first };
}

function ctr(key: Uint8Array, iv: Buffer, data: Uint8Array): Buffer {
  // OpenSSL increments all 128 bits; GCM increments the low 32. They agree while a message stays under 2^32 blocks.
  const c = createCipheriv('sm4-ctr', key, iv);
  return Buffer.concat([c.update(data), c.final()]);
}

function tagFor(key: Uint8Array, j0: Buffer, aad: Uint8Array, ciphertext: Uint8Array): Buffer {
  const h = sm4Block(key, new Uint8Array(16));
  const lengths = Buffer.alloc(16);
  lengths.writeBigUInt64BE(BigInt(aad.length) * 8n, 0);
  lengths.writeBigUInt64BE(BigInt(ciphertext.length) * 8n, 8);
  const g = new GHASH(h, aad.length + ciphertext.length + 16);
  if (aad.length > 0) g.update(aad);
  if (ciphertext.length > 0) g.update(ciphertext);
  g.update(lengths);
  const s = g.digest();
  const ek = sm4Block(key, j0);
  for (let i = 0; i < 16; i++) ek[i]! ^= s[i]!;
  return ek;
}

/** Returns ciphertext || tag(16). */
export function sm4GcmEncrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  const { j0, first } = counterBlocks(nonce);
  const ct = ctr(key, first, plaintext);
  return Buffer.concat([ct, tagFor(key, j0, aad, ct)]);
}

/** Opens ciphertext || tag(16); throws when the tag does not authenticate. */
export function sm4GcmDecrypt(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer {
  if (sealed.length < TAG_BYTES) throw new Error('sm4-gcm: sealed data shorter than the tag');
  const { j0, first } = counterBlocks(nonce);
  const ct = sealed.subarray(0, sealed.length - TAG_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  if (!timingSafeEqual(tagFor(key, j0, aad, ct), tag)) throw new Error('sm4-gcm: authentication failed');
  return ctr(key, first, ct);
}
