// LZ4 *block* format (not the frame format): what SLS means by `x-log-compresstype: lz4`.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const lz4 = require('lz4') as {
  encodeBound(n: number): number;
  encodeBlock(input: Buffer, output: Buffer, start?: number, end?: number): number;
  decodeBlock(input: Buffer, output: Buffer): number;
};

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Compresses into an LZ4 block. Incompressible input still yields a valid (slightly larger) block. */
export function lz4Compress(input: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(Math.max(1, lz4.encodeBound(input.length)));
  const n = lz4CompressInto(input, out, 0);
  // Log text often packs to a third of the bound; a payload waiting in a queue should not pin the rest.
  return n < out.length / 2 ? Buffer.from(out.subarray(0, n)) : out.subarray(0, n);
}

/** Largest LZ4 block `inputLength` bytes can compress to. */
export function lz4Bound(inputLength: number): number {
  return lz4.encodeBound(inputLength);
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
  const bound = lz4.encodeBound(input.length);
  if (at + bound > out.length) throw new RangeError('lz4: output has no room for the bound');
  const n = lz4.encodeBlock(asBuffer(input), out, at, at + bound);
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
  const n = lz4.decodeBlock(asBuffer(input), out.subarray(0, rawSize));
  if (n !== rawSize) throw new Error(`lz4: expected ${rawSize} bytes, block holds ${n < 0 ? 'corrupt data' : n}`);
  return out.subarray(0, rawSize);
}
