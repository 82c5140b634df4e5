// SM4-GCM (RFC 8998) built from NIST SP 800-38D, since OpenSSL 3.0 has SM4 but no SM4-GCM.
//
// With a 96-bit nonce: J0 = nonce || 0^31 || 1, the ciphertext is SM4-CTR starting at inc32(J0), and the
// tag is E_K(J0) XOR GHASH_H(A, C) with H = E_K(0^128). Only the block cipher differs between backends:
// 'native' runs OpenSSL's sm4-ecb/sm4-ctr, 'js' our table SM4. Both take GHASH from the native addon
// (PCLMULQDQ; agent/native/ghash.c) when it is built and agrees with our JS GHASH on a known answer,
// else from the JS GHASH.
import { createCipheriv, timingSafeEqual, type Cipher } from 'node:crypto';
import { AuthenticationError, checkSizes, tagLength, type AeadCipher, type CipherBackend } from './aead.js';
import { GhashKey, type GhashDigest } from './ghash.js';
import { nativeGhash } from './ghash-native.js';
import { sm4Ctr, sm4EncryptBlock, sm4RoundKeys } from './sm4.js';

const algorithm = 'SM4_128_GCM' as const;
const ZERO_BLOCK = new Uint8Array(16);
// SP 800-38D caps the plaintext at 2^39 - 256 bits; it also keeps OpenSSL's 128-bit counter from
// carrying out of the low 32 bits that GCM's inc32 is limited to.
const MAX_PLAINTEXT = 2 ** 36 - 32;

/**
 * Which GHASH new keys get: the addon's backend ('pclmul' or 'portable') or 'js'. The addon is trusted only
 * after it matches GhashKey on a fixed input spanning its four-block, single-block and partial-block paths.
 */
export const ghashBackend: string = nativeGhashAgrees() ? nativeGhash!.backend : 'js';
const newGhash = (h: Uint8Array): GhashDigest => (ghashBackend === 'js' ? new GhashKey(h) : nativeGhash!.create(h));

function nativeGhashAgrees(): boolean {
  if (!nativeGhash) return false;
  const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 167 + seed) & 255);
  const h = bytes(16, 1), aad = bytes(20, 2), ciphertext = bytes(100, 3);
  try {
    const native = nativeGhash.create(h).digest(aad, ciphertext);
    return native.length === 16 && timingSafeEqual(native, new GhashKey(h).digest(aad, ciphertext));
  } catch {
    return false;
  }
}

/** A counter-mode stream positioned at J0: E_K(J0) is taken first, then `xor` continues from inc32(J0). */
interface CounterStream {
  ekj0: Uint8Array;
  xor(src: Uint8Array): Uint8Array;
}

interface KeyState {
  /** Copy of the key the state was derived from: a reused array whose bytes changed must not hit the cache. */
  key: Uint8Array;
  ghash: GhashDigest;
  roundKeys?: Int32Array;
  /** OpenSSL sm4-ecb under the key, without padding: reusable for any number of whole blocks. */
  ecb?: Cipher;
}

interface BlockCipher {
  derive(key: Uint8Array): KeyState;
  /** `length`: bytes the stream will cover, so an implementation can choose its strategy. */
  start(state: KeyState, key: Uint8Array, j0: Uint8Array, length: number): CounterStream;
}

// Creating an OpenSSL cipher costs ~10 µs, as much as encrypting 1 KB with it, and mode `log` seals one
// small record per log line. Up to this size the keystream comes from the key's long-lived ECB cipher
// applied to the counter blocks; beyond it a fresh sm4-ctr, which runs faster than ECB on long inputs.
const SMALL_RECORD = 2048;

const nativeSm4: BlockCipher = {
  derive(key) {
    const ecb = createCipheriv('sm4-ecb', key, null).setAutoPadding(false);
    const h = ecb.update(ZERO_BLOCK);
    const state = { key: Uint8Array.from(key), ghash: newGhash(h), ecb };
    h.fill(0);
    return state;
  },
  start(state, key, j0, length) {
    if (length <= SMALL_RECORD) {
      const blocks = 1 + Math.ceil(length / 16);
      const counters = new Uint8Array(blocks * 16);
      for (let i = 0, o = 0; i < blocks; i++, o += 16) {
        for (let k = 0; k < 12; k++) counters[o + k] = j0[k];
        counters[o + 14] = (1 + i) >>> 8; // counter word 1 + i, never above 2^16 here
        counters[o + 15] = 1 + i;
      }
      const keystream = state.ecb!.update(counters);
      return {
        ekj0: keystream.subarray(0, 16),
        xor: (src) => {
          const out = new Uint8Array(src.length);
          for (let i = 0; i < src.length; i++) out[i] = src[i] ^ keystream[16 + i];
          keystream.fill(0, 16); // E_K(J0) is still needed for the tag
          return out;
        },
      };
    }
    const ctr = createCipheriv('sm4-ctr', key, j0);
    // Encrypting a zero block first yields E_K(J0) and leaves the counter at J0 + 1 = inc32(J0).
    const ekj0 = ctr.update(ZERO_BLOCK);
    return { ekj0, xor: (src) => ctr.update(src) };
  },
};

const jsSm4: BlockCipher = {
  derive(key) {
    const roundKeys = sm4RoundKeys(key);
    const h = sm4EncryptBlock(roundKeys, ZERO_BLOCK);
    const state = { key: Uint8Array.from(key), ghash: newGhash(h), roundKeys };
    h.fill(0);
    return state;
  },
  start(state, _key, j0) {
    const rk = state.roundKeys!;
    const ekj0 = sm4EncryptBlock(rk, j0);
    const next = Uint8Array.from(j0);
    next[15] = 2; // inc32 of a 96-bit-nonce J0, whose counter word is 1
    return { ekj0, xor: (src) => sm4Ctr(rk, next, src) };
  },
};

class Sm4Gcm implements AeadCipher {
  readonly algorithm = algorithm;
  // Key-derived state costs ~30 µs and 64 KiB to build with the JS GHASH; log mode seals thousands of small
  // records under one key. Entries go when their key array is collected; `last` holds at most one key's state beyond that.
  private readonly states = new WeakMap<Uint8Array, KeyState>();
  private last?: KeyState;

  constructor(readonly backend: CipherBackend, private readonly blocks: BlockCipher) {}

  seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
    const [ciphertext, tag] = this.sealParts(key, nonce, plaintext, aad);
    const out = new Uint8Array(ciphertext.length + tagLength);
    out.set(ciphertext);
    out.set(tag, ciphertext.length);
    return out;
  }

  sealParts(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array[] {
    checkSizes(algorithm, key, nonce);
    if (plaintext.length > MAX_PLAINTEXT) throw new RangeError('SM4_128_GCM: plaintext exceeds the GCM limit');
    const state = this.stateFor(key);
    const stream = this.blocks.start(state, key, counterBlock(nonce), plaintext.length);
    const ciphertext = stream.xor(plaintext);
    return [ciphertext, this.tag(state, stream.ekj0, aad, ciphertext)];
  }

  open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array {
    checkSizes(algorithm, key, nonce);
    if (sealed.length < tagLength) throw new AuthenticationError();
    const ciphertext = sealed.subarray(0, sealed.length - tagLength);
    const state = this.stateFor(key);
    const stream = this.blocks.start(state, key, counterBlock(nonce), ciphertext.length);
    const expected = this.tag(state, stream.ekj0, aad, ciphertext);
    if (!timingSafeEqual(expected, sealed.subarray(ciphertext.length))) throw new AuthenticationError();
    return stream.xor(ciphertext);
  }

  private tag(state: KeyState, ekj0: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    const s = state.ghash.digest(aad, ciphertext);
    for (let i = 0; i < 16; i++) s[i] ^= ekj0[i];
    ekj0.fill(0);
    return s;
  }

  private stateFor(key: Uint8Array): KeyState {
    const cached = this.states.get(key);
    if (cached && sameBytes(cached.key, key)) return cached;
    // Worker threads receive a fresh copy of the same data key with every batch: match it by value too.
    const state = this.last && sameBytes(this.last.key, key) ? this.last : this.blocks.derive(key);
    this.states.set(key, state);
    this.last = state;
    return state;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function counterBlock(nonce: Uint8Array): Uint8Array {
  const j0 = new Uint8Array(16);
  j0.set(nonce);
  j0[15] = 1;
  return j0;
}

export const nativeSm4Gcm: AeadCipher = new Sm4Gcm('native', nativeSm4);
export const jsSm4Gcm: AeadCipher = new Sm4Gcm('js', jsSm4);
