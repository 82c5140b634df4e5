// The AEAD contract every cipher suite and backend implements, and the failure it reports.

export type SealAlgorithm = 'AES_256_GCM' | 'SM4_128_GCM';
/** 'addon': logseal's native addon (SM4; for AES the same OpenSSL as 'native'); 'native': node:crypto; 'js': pure JS. */
export type CipherBackend = 'addon' | 'native' | 'js';

/** Key bytes per suite (FORMAT.md: NumberOfBytes for GenerateDataKey). */
export const keyLength: Readonly<Record<SealAlgorithm, number>> = { AES_256_GCM: 32, SM4_128_GCM: 16 };
export const nonceLength = 12;
export const tagLength = 16;

/** A sealed input did not authenticate (wrong key, nonce, AAD, or altered bytes). No plaintext is ever released. */
export class AuthenticationError extends Error {
  override readonly name = 'AuthenticationError';
  constructor(message = 'sealed data failed authentication') {
    super(message);
  }
}

export interface AeadCipher {
  readonly algorithm: SealAlgorithm;
  readonly backend: CipherBackend;
  /** Returns ciphertext || tag (16 bytes). */
  seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  /**
   * The same bytes as seal(), as consecutive parts that are not joined: the record layer base64-encodes them where
   * they lie, sparing a copy of every record.
   */
  sealParts(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array[];
  /** Verifies the tag before anything is decrypted; throws AuthenticationError on any mismatch. */
  open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array;
}

/** Rejects keys and nonces of the wrong size: a caller bug, not an authentication failure. */
export function checkSizes(algorithm: SealAlgorithm, key: Uint8Array, nonce: Uint8Array): void {
  checkKeySize(algorithm, key);
  if (nonce.length !== nonceLength) throw new RangeError(`${algorithm}: nonce must be ${nonceLength} bytes, got ${nonce.length}`);
}

/** The key half of checkSizes, for callers that make their own nonces (the batch sealers of record.ts). */
export function checkKeySize(algorithm: SealAlgorithm, key: Uint8Array): void {
  if (key.length !== keyLength[algorithm]) throw new RangeError(`${algorithm}: key must be ${keyLength[algorithm]} bytes, got ${key.length}`);
}
