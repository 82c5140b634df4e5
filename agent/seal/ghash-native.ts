// The native GHASH (agent/native/ghash.c) behind the GhashDigest interface; undefined when the addon is not built.
import { nativeAddon, type GhashPath } from '../native/addon.js';
import type { GhashDigest } from './ghash.js';

export type { GhashDigest } from './ghash.js';

export interface NativeGhash {
  /** 'vpclmul' or 'pclmul' (carry-less multiply instructions) or 'portable' (4-bit tables in C), as this CPU allows. */
  readonly backend: string;
  /**
   * `h` is the hash subkey E_K(0^128). `portable` forces the table path, so it can be tested on any CPU; `path` asks
   * for one path (throws a RangeError where the CPU lacks it).
   */
  create(h: Uint8Array, options?: { portable?: boolean; path?: GhashPath }): GhashDigest;
}

function wrap(addon: NonNullable<typeof nativeAddon>): NativeGhash {
  // Handing native code a fresh 16-byte array makes V8 move it off its heap first, which costs more than
  // hashing a log line (~350 ns): the addon writes into this long-lived array, and JS copies the result.
  const scratch = new Uint8Array(new ArrayBuffer(16));
  return {
    backend: addon.ghashBackend(),
    create(h, options) {
      const state = addon.ghashInit(h, options?.path ?? options?.portable === true);
      return {
        digest(aad, ciphertext) {
          addon.ghashDigest(state, aad, ciphertext, scratch);
          const out = new Uint8Array(16);
          out.set(scratch);
          return out;
        },
      };
    },
  };
}

export const nativeGhash: NativeGhash | undefined = nativeAddon && wrap(nativeAddon);
