// Chooses the AEAD implementation for a suite: an explicit backend, or 'auto' = the fastest one that passes a known-answer test.
import { jsAesGcm, nativeAesGcm } from './aes-gcm.js';
import { AuthenticationError, type AeadCipher, type CipherBackend, type SealAlgorithm } from './aead.js';
import { jsSm4Gcm, nativeSm4Gcm } from './sm4-gcm.js';
import { addonSm4Gcm, addonSm4Path } from './sm4-gcm-addon.js';

// For AES the addon has nothing faster than the OpenSSL that node:crypto runs: 'addon' is that cipher.
const implementations: Record<SealAlgorithm, Record<CipherBackend, AeadCipher | undefined>> = {
  AES_256_GCM: { addon: nativeAesGcm, native: nativeAesGcm, js: jsAesGcm },
  SM4_128_GCM: { addon: addonSm4Gcm, native: nativeSm4Gcm, js: jsSm4Gcm },
};

// Fastest first, as measured by native-bench/seal.ts: for SM4 the addon (GFNI/VAES/AES-NI S-box) is several
// times OpenSSL 3.0's table SM4 at every record size; then 'native' (OpenSSL), 10-20% ahead of 'js' on the
// large records of mode `group`. For AES 'native' beats 'js' by a factor of 20 or more. The addon can be
// unbuilt, and 'native' broken when Node is linked against an OpenSSL without SM4, hence the self-test.
// Without AES-NI (or GFNI, VAES) the addon's SM4 computes its S-box in plain C, constant-time but some 30 times
// slower than OpenSSL's tables: it is then tried last.
const preferenceFor = (algorithm: SealAlgorithm): CipherBackend[] =>
  algorithm === 'SM4_128_GCM' && addonSm4Path === 'portable' ? ['native', 'js', 'addon'] : ['addon', 'native', 'js'];

/** An explicit backend that this build does not have (the addon was not compiled at install time). */
export class BackendUnavailableError extends Error {
  override readonly name = 'BackendUnavailableError';
}

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

// NIST GCM test case 16 (AES-256, with AAD) and RFC 8998 A.1 (SM4-GCM).
const knownAnswers: Record<SealAlgorithm, { key: string; nonce: string; aad: string; plaintext: string; sealed: string }> = {
  AES_256_GCM: {
    key: 'feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308',
    nonce: 'cafebabefacedbaddecaf888',
    aad: 'feedfacedeadbeeffeedfacedeadbeefabaddad2',
    plaintext:
      'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39',
    sealed:
      '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662' +
      '76fc6ece0f4e1768cddf8853bb2d551b',
  },
  SM4_128_GCM: {
    key: '0123456789abcdeffedcba9876543210',
    nonce: '00001234567800000000abcd',
    aad: 'feedfacedeadbeeffeedfacedeadbeefabaddad2',
    plaintext:
      'aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbccccccccccccccccddddddddddddddddeeeeeeeeeeeeeeeeffffffffffffffffeeeeeeeeeeeeeeeeaaaaaaaaaaaaaaaa',
    sealed:
      '17f399f08c67d5ee19d0dc9969c4bb7d5fd46fd3756489069157b282bb200735d82710ca5c22f0ccfa7cbf93d496ac15a56834cbcf98c397b4024a2691233b8d' +
      '83de3541e4c2b58177e065a9bf7b62ec',
  },
};

const chosen = new Map<SealAlgorithm, AeadCipher>();

export function cipherFor(algorithm: SealAlgorithm, backend: CipherBackend | 'auto' = 'auto'): AeadCipher {
  if (backend !== 'auto') {
    const explicit = implementations[algorithm][backend];
    if (!explicit) throw new BackendUnavailableError(`seal.backend: '${backend}' is not available for ${algorithm} (the native addon is not built); use auto, native or js`);
    return explicit;
  }
  let cipher = chosen.get(algorithm);
  if (!cipher) {
    cipher = preferenceFor(algorithm).map((b) => implementations[algorithm][b]).find((c): c is AeadCipher => c !== undefined && selfTest(c));
    if (!cipher) throw new Error(`no working ${algorithm} implementation: every backend failed its known-answer test`);
    chosen.set(algorithm, cipher);
  }
  return cipher;
}

/** Seals (both ways) and opens the suite's published test vector, and checks that a flipped tag bit is refused. */
export function selfTest(cipher: AeadCipher): boolean {
  const v = knownAnswers[cipher.algorithm];
  try {
    const key = hex(v.key), nonce = hex(v.nonce), aad = hex(v.aad), plaintext = hex(v.plaintext), sealed = hex(v.sealed);
    if (!Buffer.from(cipher.seal(key, nonce, plaintext, aad)).equals(sealed)) return false;
    if (!Buffer.concat(cipher.sealParts(key, nonce, plaintext, aad)).equals(sealed)) return false;
    if (!Buffer.from(cipher.open(key, nonce, sealed, aad)).equals(plaintext)) return false;
    sealed[sealed.length - 1] ^= 1;
    try {
      cipher.open(key, nonce, sealed, aad);
      return false;
    } catch (e) {
      return e instanceof AuthenticationError;
    }
  } catch {
    return false; // e.g. 'Unsupported cipher' from an OpenSSL without SM4
  }
}
