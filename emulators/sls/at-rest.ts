// At-rest encryption of stored LogGroups: AES-256-GCM for encrypt_type `default`, SM4-128-GCM for `m4`, or none.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { EncryptType } from './logstore-config.js';
import { sm4GcmDecrypt, sm4GcmEncrypt } from './sm4-gcm.js';

/** How one stored record's payload is protected; kept in the record so enabling/disabling later never breaks reads. */
export const RecordCipher = { None: 0, Aes256Gcm: 1, Sm4Gcm: 2 } as const;
export type RecordCipher = (typeof RecordCipher)[keyof typeof RecordCipher];

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export function cipherFor(type: EncryptType): RecordCipher {
  return type === 'm4' ? RecordCipher.Sm4Gcm : RecordCipher.Aes256Gcm;
}

export function keyBytesFor(type: EncryptType): number {
  return type === 'm4' ? 16 : 32;
}

/** A fresh per-logstore service key. */
export function newServiceKey(type: EncryptType): Buffer {
  return randomBytes(keyBytesFor(type));
}

/** Returns nonce(12) || ciphertext || tag(16). */
export function sealPayload(cipher: RecordCipher, key: Buffer, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  if (cipher === RecordCipher.Sm4Gcm) return Buffer.concat([nonce, sm4GcmEncrypt(key, nonce, plaintext, aad)]);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(aad);
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([nonce, ct, c.getAuthTag()]);
}

/** Inverse of sealPayload; throws when the payload was altered or the key is wrong. */
export function openPayload(cipher: RecordCipher, key: Buffer, sealed: Uint8Array, aad: Uint8Array): Buffer {
  if (sealed.length < NONCE_BYTES + TAG_BYTES) throw new Error('at-rest: sealed record too short');
  const nonce = sealed.subarray(0, NONCE_BYTES);
  const body = sealed.subarray(NONCE_BYTES);
  if (cipher === RecordCipher.Sm4Gcm) return sm4GcmDecrypt(key, nonce, body, aad);
  const d = createDecipheriv('aes-256-gcm', key, nonce);
  d.setAAD(aad);
  d.setAuthTag(body.subarray(body.length - TAG_BYTES));
  return Buffer.concat([d.update(body.subarray(0, body.length - TAG_BYTES)), d.final()]);
}
