// Loads the native GHASH addon (agent/seal/native/ghash.c, built by node-gyp into build/Release); undefined when it is not built.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GhashDigest } from './ghash.js';

export type { GhashDigest } from './ghash.js';

/** The addon's exports, as ghash.c defines them. */
interface GhashAddon {
  init(h: Uint8Array, portable?: boolean): ArrayBuffer;
  digest(state: ArrayBuffer, aad: Uint8Array, ciphertext: Uint8Array, out: Uint8Array): void;
  backend(): string;
}

export interface NativeGhash {
  /** 'pclmul' (carry-less multiply instructions) or 'portable' (4-bit tables in C), as this CPU allows. */
  readonly backend: string;
  /** `h` is the hash subkey E_K(0^128). `portable` forces the table path, so it can be tested on any CPU. */
  create(h: Uint8Array, options?: { portable?: boolean }): GhashDigest;
}

const ADDON = path.join('build', 'Release', 'logseal_ghash.node');

/** The repository (or installed package) root: the nearest directory above this file that holds package.json. */
function packageRoot(): string | undefined {
  // Sources run from agent/seal/, the compiled build from dist/agent/seal/: both sit below the root.
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; ) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function load(): NativeGhash | undefined {
  const root = packageRoot();
  if (!root) return undefined;
  let addon: GhashAddon;
  try {
    addon = createRequire(import.meta.url)(path.join(root, ADDON)) as GhashAddon;
  } catch {
    return undefined; // not built (e.g. no compiler at install time), or built for another Node ABI
  }
  // Handing native code a fresh 16-byte array makes V8 move it off its heap first, which costs more than
  // hashing a log line (~350 ns): the addon writes into this long-lived array, and JS copies the result.
  const scratch = new Uint8Array(new ArrayBuffer(16));
  return {
    backend: addon.backend(),
    create(h, options) {
      const state = addon.init(h, options?.portable === true);
      return {
        digest(aad, ciphertext) {
          addon.digest(state, aad, ciphertext, scratch);
          const out = new Uint8Array(16);
          out.set(scratch);
          return out;
        },
      };
    },
  };
}

export const nativeGhash: NativeGhash | undefined = load();
