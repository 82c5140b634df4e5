// SM4-GCM from logseal's native addon (agent/native/sm4.c): the S-box through GFNI, VAES or AES-NI, several times
// OpenSSL 3.0's table SM4; undefined when the addon is not built.
import { timingSafeEqual } from 'node:crypto';
import { nativeAddon, type NativeAddon } from '../native/addon.js';
import { AuthenticationError, checkSizes, tagLength, type AeadCipher } from './aead.js';

const algorithm = 'SM4_128_GCM' as const;
// SP 800-38D's plaintext limit, which also keeps the 32-bit block counter from wrapping onto J0.
const MAX_PLAINTEXT = 2 ** 36 - 32;

/** The addon's SM4 paths, fastest first; what the key state of `sm4GcmInit` may be asked to use. */
export type Sm4Path = 'avx512' | 'gfni' | 'vaes' | 'aesni' | 'portable';

class AddonSm4Gcm implements AeadCipher {
  readonly algorithm = algorithm;
  readonly backend = 'addon' as const;
  // Round keys and GHASH powers cost a few µs to derive; log mode seals thousands of records under one key.
  private readonly states = new WeakMap<Uint8Array, { key: Uint8Array; state: ArrayBuffer }>();
  private last?: { key: Uint8Array; state: ArrayBuffer };

  constructor(private readonly addon: NativeAddon, readonly path?: Sm4Path) {}

  seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
    checkSizes(algorithm, key, nonce);
    if (plaintext.length > MAX_PLAINTEXT) throw new RangeError('SM4_128_GCM: plaintext exceeds the GCM limit');
    const out = new Uint8Array(plaintext.length + tagLength);
    this.addon.sm4GcmSeal(this.stateFor(key), nonce, plaintext, aad, out);
    return out;
  }

  sealParts(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array[] {
    return [this.seal(key, nonce, plaintext, aad)];
  }

  open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array {
    checkSizes(algorithm, key, nonce);
    if (sealed.length < tagLength) throw new AuthenticationError();
    const out = new Uint8Array(sealed.length - tagLength);
    // The addon checks the tag before it writes any plaintext.
    if (!this.addon.sm4GcmOpen(this.stateFor(key), nonce, sealed, aad, out)) throw new AuthenticationError();
    return out;
  }

  /** The addon's key state for `key`, matched by value: worker threads get a fresh copy of the key with every batch. */
  stateFor(key: Uint8Array): ArrayBuffer {
    const cached = this.states.get(key);
    if (cached && sameBytes(cached.key, key)) return cached.state;
    const entry = this.last && sameBytes(this.last.key, key) ? this.last : { key: Uint8Array.from(key), state: this.addon.sm4GcmInit(key, this.path) };
    this.states.set(key, entry);
    this.last = entry;
    return entry.state;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The path the addon picks on this CPU, or undefined without the addon. */
export const addonSm4Path: Sm4Path | undefined = nativeAddon?.sm4Backend() as Sm4Path | undefined;

/** SM4-GCM on the addon's best path for this CPU; undefined without the addon. */
export const addonSm4Gcm: AeadCipher | undefined = nativeAddon && new AddonSm4Gcm(nativeAddon);

/** SM4-GCM on a chosen path of the addon (for tests and benchmarks); the addon throws if this CPU cannot run it. */
export function addonSm4GcmOn(path: Sm4Path): AeadCipher | undefined {
  return nativeAddon && new AddonSm4Gcm(nativeAddon, path);
}
