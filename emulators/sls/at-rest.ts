// At-rest encryption of stored LogGroups: AES-256-GCM for encrypt_type `default`, SM4-128-GCM for `m4`, or none.
// The cipher suites are the agent's own (agent/seal), natively backed; only the record framing is the emulator's.
import { randomBytes } from 'node:crypto';
import { cipherFor as aeadFor, type AeadCipher } from '../../agent/seal/index.js';
import type { EncryptType } from './logstore-config.js';

/** How one stored record's payload is protected; kept in the record so enabling/disabling later never breaks reads. */
export const RecordCipher = { None: 0, Aes256Gcm: 1, Sm4Gcm: 2 } as const;
export type RecordCipher = (typeof RecordCipher)[keyof typeof RecordCipher];

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

const aeads: Record<Exclude<RecordCipher, 0>, AeadCipher> = {
  [RecordCipher.Aes256Gcm]: aeadFor('AES_256_GCM', 'native'),
  [RecordCipher.Sm4Gcm]: aeadFor('SM4_128_GCM', 'native'),
};

function aead(cipher: RecordCipher): AeadCipher {
  if (cipher === RecordCipher.None) throw new Error('at-rest: record is not encrypted');
  return aeads[cipher];
}

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
  return Buffer.concat([nonce, aead(cipher).seal(key, nonce, plaintext, aad)]);
}

/** Inverse of sealPayload; throws when the payload was altered or the key is wrong. */
export function openPayload(cipher: RecordCipher, key: Buffer, sealed: Uint8Array, aad: Uint8Array): Buffer {
  if (sealed.length < NONCE_BYTES + TAG_BYTES) throw new Error('at-rest: sealed record too short');
  const opened = aead(cipher).open(key, sealed.subarray(0, NONCE_BYTES), sealed.subarray(NONCE_BYTES), aad);
  return Buffer.from(opened.buffer, opened.byteOffset, opened.byteLength);
}
