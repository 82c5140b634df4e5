// AES-256-GCM in two backends: OpenSSL through node:crypto, and @noble/ciphers in pure JavaScript.
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { createRequire } from 'node:module';
import { AuthenticationError, checkSizes, tagLength, type AeadCipher } from './aead.js';

const algorithm = 'AES_256_GCM' as const;

export const nativeAesGcm: AeadCipher = {
  algorithm,
  backend: 'native',
  seal(key, nonce, plaintext, aad) {
    return Buffer.concat(this.sealParts(key, nonce, plaintext, aad));
  },
  sealParts(key, nonce, plaintext, aad) {
    checkSizes(algorithm, key, nonce);
    const c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: tagLength });
    c.setAAD(aad);
    const body = c.update(plaintext);
    const rest = c.final();
    return [body, rest, c.getAuthTag()];
  },
  open(key, nonce, sealed, aad) {
    checkSizes(algorithm, key, nonce);
    if (sealed.length < tagLength) throw new AuthenticationError();
    const split = sealed.length - tagLength;
    const d = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: tagLength });
    d.setAAD(aad);
    d.setAuthTag(sealed.subarray(split));
    // OpenSSL decrypts before it can check the tag; the bytes are wiped unless final() authenticates them.
    const plaintext = d.update(sealed.subarray(0, split));
    try {
      d.final();
    } catch {
      plaintext.fill(0);
      throw new AuthenticationError();
    }
    return plaintext;
  },
};

type NobleAes = typeof import('@noble/ciphers/aes.js');
let noble: NobleAes | undefined;

/**
 * @noble/ciphers computes ~1 MiB of AES tables as it loads, which every agent would hold for a backend it seldom
 * runs: it is loaded at the js backend's first use instead.
 */
function gcm(...args: Parameters<NobleAes['gcm']>): ReturnType<NobleAes['gcm']> {
  noble ??= createRequire(import.meta.url)('@noble/ciphers/aes.js') as NobleAes;
  return noble.gcm(...args);
}

export const jsAesGcm: AeadCipher = {
  algorithm,
  backend: 'js',
  seal(key, nonce, plaintext, aad) {
    checkSizes(algorithm, key, nonce);
    return gcm(key, nonce, aad).encrypt(plaintext);
  },
  sealParts(key, nonce, plaintext, aad) {
    return [this.seal(key, nonce, plaintext, aad)];
  },
  open(key, nonce, sealed, aad) {
    checkSizes(algorithm, key, nonce);
    if (sealed.length < tagLength) throw new AuthenticationError();
    try {
      return gcm(key, nonce, aad).decrypt(sealed);
    } catch {
      throw new AuthenticationError();
    }
  },
};
