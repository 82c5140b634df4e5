// Zstandard frames: what SLS means by `x-log-compresstype: zstd`. Node 20's zlib has no zstd; zstd-napi (an optional
// dependency, compiled from the zstd sources it ships) provides it, so zstd is there only where that addon built.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface ZstdBinding {
  compress(data: Uint8Array, parameters?: { compressionLevel?: number }): Buffer;
  decompress(data: Uint8Array, parameters?: { windowLogMax?: number }): Buffer;
}

/** Level 1: the benchmark data packs nearly as small as at the default level 3 (bench:codec) for less CPU. */
export const ZSTD_LEVEL = 1;

/** zstd was asked for, but the zstd-napi addon is not installed or not built on this machine. */
export class ZstdUnavailableError extends Error {
  override readonly name = 'ZstdUnavailableError';
  constructor(reason: string) {
    super(`zstd compression is not available: the zstd-napi addon could not be loaded (${reason})`);
  }
}

let binding: ZstdBinding | undefined;
let loadError: string | undefined;

function zstd(): ZstdBinding {
  if (binding) return binding;
  if (loadError === undefined) {
    try {
      binding = require('zstd-napi') as ZstdBinding;
      return binding;
    } catch (err) {
      loadError = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    }
  }
  throw new ZstdUnavailableError(loadError);
}

/** Undefined when zstd can be used, else why not (for a start-up check that names the config key). */
export function zstdUnavailable(): string | undefined {
  try {
    zstd();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

export function zstdCompress(input: Uint8Array, level = ZSTD_LEVEL): Buffer {
  return zstd().compress(input, { compressionLevel: level });
}

/** Decompresses one or more zstd frames. `maxBytes` guards against bodies that inflate beyond what is acceptable. */
export function zstdDecompress(input: Uint8Array, maxBytes?: number): Buffer {
  const out = zstd().decompress(input);
  if (maxBytes !== undefined && out.length > maxBytes) throw new RangeError(`zstd: decompressed to ${out.length} bytes, more than ${maxBytes}`);
  return out;
}
