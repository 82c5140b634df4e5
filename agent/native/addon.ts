// Loads logseal's native addon (agent/native/*.c, built by node-gyp into build/Release at install time). Everything
// in it has a JavaScript equivalent that is used instead when the addon is missing: `nativeAddon` is then undefined.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** GHASH's loops: 16 blocks a reduction with 512-bit VPCLMULQDQ, 4 with PCLMULQDQ, or 4-bit tables in C. */
export type GhashPath = 'vpclmul' | 'pclmul' | 'portable';

/** The addon's exports, as agent/native/addon.c registers them. */
export interface NativeAddon {
  /**
   * GHASH (ghash.c): per-key state for `h` on the best path this CPU runs, or on `path` (true: 'portable'); a path
   * the CPU lacks throws a RangeError.
   */
  ghashInit(h: Uint8Array, path?: boolean | GhashPath): ArrayBuffer;
  /** GHASH of aad and ciphertext (with the lengths block) under `state`, into `out` (16 bytes). */
  ghashDigest(state: ArrayBuffer, aad: Uint8Array, ciphertext: Uint8Array, out: Uint8Array): void;
  /** What ghashInit picks on this CPU: 'vpclmul' (512-bit VPCLMULQDQ), 'pclmul' or 'portable'. */
  ghashBackend(): string;
  /** base64 (base64.c) of `src` written as ASCII at `pos` in `out`; returns the position after it. */
  base64Encode(src: Uint8Array, out: Uint8Array, pos: number): number;
  /** Raw lines into LogGroup.Logs fields (frame.c); `st` holds positions in and out, as LogWriter.lines lays it out. */
  /** SM4-GCM key state (sm4.c) on `path`, by default the fastest this CPU runs; throws for a path it cannot run. */
  sm4GcmInit(key: Uint8Array, path?: string): ArrayBuffer;
  /** out (plaintext.length + 16 bytes, apart from the inputs) = ciphertext || tag. */
  sm4GcmSeal(state: ArrayBuffer, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, out: Uint8Array): void;
  /** true and out (sealed.length - 16 bytes) = plaintext if the tag verifies; false, out untouched, if not. */
  sm4GcmOpen(state: ArrayBuffer, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array, out: Uint8Array): boolean;
  /** SM4 of whole blocks (ECB), for the GB/T 32907 known answer. */
  sm4EncryptBlocks(state: ArrayBuffer, input: Uint8Array, out: Uint8Array): void;
  /** The path sm4GcmInit picks by default: 'avx512', 'gfni', 'vaes', 'aesni' or 'portable'. */
  sm4Backend(): string;
  /**
   * Mode `log` records sealed a batch per call (seal-batch.c): suite 0 = AES_256_GCM (Node's OpenSSL), 1 = SM4_128_GCM;
   * see SealLogRecords in agent/seal/log-records.ts. Returns the base64 characters written to `out`.
   */
  sealLogRecords(suite: number, key: Uint8Array, src: Uint8Array, ranges: Uint32Array, times: Float64Array, prefix: Uint8Array, nonces: Uint8Array, out: Uint8Array): number;
  /** The suites sealLogRecords can seal in this process (AES only where Node's OpenSSL is reachable). */
  sealBatchSuites(): string[];
  frameLines(src: Uint8Array, out: Uint8Array, ends: Uint32Array, offsets: Float64Array, keyField: Uint8Array, extra: Uint8Array, st: Float64Array): void;
  /**
   * The distinct (field, value) pairs of searchable fields in the Contents of Log spans `[start, end]*` (field-values.c):
   * triples (field index, value start, value end) in `out` in first-seen order; returns their number, -1 if `out` is full.
   */
  fieldValues(bytes: Uint8Array, spans: Uint32Array, names: Uint8Array, nameEnds: Uint32Array, out: Uint32Array): number;
  /**
   * The LogGroups of a LogGroupList (open-group.c): six numbers each in `out` (start, end, `__seal_dk__` blob start and
   * end, flags: 1 SM4, 2 mode `log`, 4 LZ4, 0xffffffff header not read; where the group's Logs end when only Logs come
   * before, else its start). Returns their number, -1 if `out` is too small, -2 if the list is not one it reads.
   */
  pageGroups(list: Uint8Array, out: Uint32Array): number;
  /**
   * `target` replaced by a file of `body` in one thread-pool job (durable-file.c): `tmp` written, fsynced and closed,
   * the current `target` hard-linked as `backupStaging` and renamed to `backup` (skipped when `backup` is ''), `tmp`
   * renamed over `target`, `dir` fsynced. Rejects with an Error with `code` (ENOENT, ENOSPC, …) and `syscall`; not on
   * Windows.
   */
  replaceFileDurably?(tmp: string, target: string, backupStaging: string, backup: string, dir: string, body: Uint8Array): Promise<void>;
  /**
   * `src` as one LZ4 block at out[pos] (lz4-block.c; the lz4 package's copy of the library, its default level); `out`
   * must leave LZ4_compressBound(src.length) bytes there. Returns the block's length.
   */
  lz4Compress(src: Uint8Array, out: Uint8Array, pos: number): number;
  /** The LZ4 block `src` decoded into `out`: the bytes written, or a negative number for a corrupt block or one that does not fit. */
  lz4Decompress(src: Uint8Array, out: Uint8Array): number;
  /** `src` copied into `out` at `pos` with memcpy (copy-bytes.c); returns pos + src.length. */
  copyBytes(src: Uint8Array, out: Uint8Array, pos: number): number;
  /** The capacity of pipe `fd` after asking for `bytes` (pipe-size.c); -1 when it is no pipe or the system refuses. */
  setPipeSize(fd: number, bytes: number): number;
  /**
   * Opens the shipped group list[start, end) under `key` and writes its logs with from <= Time < to, whose group meets
   * `conditions` (CompiledView.groupLevel), at out[st[0]] in `format` (0 NDJSON, 1 raw, 2 count), adding lines written
   * and logs read to st[1] and st[2]. Returns 0 (done), 1 (`out` too small) or 2 (the group is left to JavaScript);
   * nothing counts unless 0. `target` = "<project>|<logstore>|". `logsEnd` is pageGroups' (the header is then read
   * after it and the Logs walked once), or `start`.
   */
  openSealedGroup(
    suite: number,
    key: Uint8Array,
    list: Uint8Array,
    start: number,
    end: number,
    logsEnd: number,
    target: Uint8Array,
    format: number,
    from: number,
    to: number,
    conditions: Uint8Array,
    out: Uint8Array,
    st: Float64Array,
  ): number;
  /**
   * The state fieldTokens computes tokens with (field-tokens.c): HMAC-SHA256 states of `key` per field (names joined,
   * each ending at nameEnds[f]) and a cache of tokens; null when the addon cannot reach Node's OpenSSL SHA-256.
   * With `reuse` (a state it returned), that state is set to the new key and fields, its cache emptied, and returned.
   */
  fieldTokensInit(key: Uint8Array, names: Uint8Array, nameEnds: Uint32Array, reuse?: object): object | null;
  /**
   * For the Log fields (whole ones, as encodeLogGroup writes them) at bytes[start, end): each field's distinct tokens
   * in first-seen order joined by spaces, the fields one after the other in `out`, lens[f] = bytes of field f's list.
   * Returns the bytes written, or minus the bytes needed (nothing written) when `out` is too small.
   */
  fieldTokens(state: object, bytes: Uint8Array, start: number, end: number, out: Uint8Array, lens: Uint32Array): number;
}

const ADDON = path.join('build', 'Release', 'logseal_native.node');

/** The repository (or installed package) root: the nearest directory above this file that holds package.json. */
function packageRoot(): string | undefined {
  // Sources run from agent/native/, the compiled build from dist/agent/native/: both sit below the root.
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; ) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Where the addon is expected, whether or not it was built. */
export const nativeAddonPath: string | undefined = (() => {
  const root = packageRoot();
  return root && path.join(root, ADDON);
})();

function load(): NativeAddon | undefined {
  if (!nativeAddonPath) return undefined;
  try {
    return createRequire(import.meta.url)(nativeAddonPath) as NativeAddon;
  } catch {
    return undefined; // not built (e.g. no compiler at install time), or built for another Node ABI
  }
}

export const nativeAddon: NativeAddon | undefined = load();
