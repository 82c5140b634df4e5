// LZ4 *block* format (not the frame format): what SLS means by `x-log-compresstype: lz4`.
// Blocks are made by logseal's addon (agent/native/lz4-block.c) where it is built, else by the lz4 package's binding;
// both run the same copy of the library (the package's) at the same level, so they make the same bytes. The package's
// JavaScript (streams, frame codec) is loaded only without the addon.
import { createRequire } from 'node:module';
import { nativeAddon } from '../native/addon.js';

interface Lz4Package {
  encodeBlock(input: Buffer, output: Buffer, start?: number, end?: number): number;
  decodeBlock(input: Buffer, output: Buffer): number;
}

export interface Lz4Blocks {
  /** Compresses `input` into `out` at `at` (room for the bound checked by the caller); the block's length, or ≤ 0. */
  compress(input: Uint8Array, out: Buffer, at: number, bound: number): number;
  /** Decodes `input` into `out`; the bytes written, or < 0 for a corrupt block or one that does not fit. */
  decompress(input: Uint8Array, out: Buffer): number;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function packageBlocks(): Lz4Blocks {
  const lz4 = createRequire(import.meta.url)('lz4') as Lz4Package;
  return {
    compress: (input, out, at, bound) => lz4.encodeBlock(asBuffer(input), out, at, at + bound),
    decompress: (input, out) => lz4.decodeBlock(asBuffer(input), out),
  };
}

function addonBlocks(): Lz4Blocks | undefined {
  const addon = nativeAddon;
  if (typeof addon?.lz4Compress !== 'function') return undefined;
  return { compress: (input, out, at) => addon.lz4Compress(input, out, at), decompress: (input, out) => addon.lz4Decompress(input, out) };
}

/** A block codec: the addon's or the lz4 package's (undefined: the addon is not built). For tests that compare them. */
export function lz4Codec(which: 'addon' | 'package'): Lz4Blocks | undefined {
  return which === 'addon' ? addonBlocks() : packageBlocks();
}

let blocks: Lz4Blocks | undefined;
const codec = (): Lz4Blocks => (blocks ??= addonBlocks() ?? packageBlocks());

/** Compresses into an LZ4 block. Incompressible input still yields a valid (slightly larger) block. */
export function lz4Compress(input: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(Math.max(1, lz4Bound(input.length)));
  const n = lz4CompressInto(input, out, 0);
  // Log text often packs to a third of the bound; a payload waiting in a queue should not pin the rest.
  return n < out.length / 2 ? Buffer.from(out.subarray(0, n)) : out.subarray(0, n);
}

/** Largest LZ4 block `inputLength` bytes can compress to (LZ4_compressBound). */
export function lz4Bound(inputLength: number): number {
  return inputLength > 0x7e000000 ? 0 : inputLength + Math.floor(inputLength / 255) + 16;
}

/**
 * Compresses into `out` at `at`, which must leave lz4Bound(input.length) bytes of room; returns the block's length.
 * For callers that reuse one buffer instead of allocating a bound-sized one per call.
 */
export function lz4CompressInto(input: Uint8Array, out: Buffer, at: number): number {
  if (input.length === 0) {
    out[at] = 0; // a block holding one empty literal run
    return 1;
  }
  const bound = lz4Bound(input.length);
  if (bound === 0) throw new RangeError('lz4: input is larger than an LZ4 block can hold');
  if (at + bound > out.length) throw new RangeError('lz4: output has no room for the bound');
  const n = codec().compress(input, out, at, bound);
  if (n <= 0) throw new Error('lz4: compression failed');
  return n;
}

/** Decompresses an LZ4 block whose uncompressed size is known (`x-log-bodyrawsize`, `__raw__`). */
export function lz4Decompress(input: Uint8Array, rawSize: number): Buffer {
  return lz4DecompressInto(input, rawSize, rawSize === 0 ? Buffer.alloc(0) : Buffer.allocUnsafe(rawSize));
}

/** lz4Decompress into the start of `out` (at least rawSize bytes, e.g. a buffer reused from call to call); the bytes written. */
export function lz4DecompressInto(input: Uint8Array, rawSize: number, out: Buffer): Buffer {
  if (rawSize === 0) return out.subarray(0, 0);
  if (out.length < rawSize) throw new RangeError('lz4: output is smaller than the raw size');
  const n = codec().decompress(input, out.subarray(0, rawSize));
  if (n !== rawSize) throw new Error(`lz4: expected ${rawSize} bytes, block holds ${n < 0 ? 'corrupt data' : n}`);
  return out.subarray(0, rawSize);
}
