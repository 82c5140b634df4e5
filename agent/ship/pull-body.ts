// A PullLogs answer with its body still compressed, and how to get the LogGroupList bytes out of it.
import { inflateSync } from 'node:zlib';
import { lz4Decompress, lz4DecompressInto } from '../wire/lz4.js';
import { zstdDecompress } from '../wire/zstd.js';

/** One PullLogs answer, body undecoded. `count` is -1 when the service did not say (x-log-count). */
export interface PulledBody {
  body: Uint8Array;
  compressType: 'lz4' | 'deflate' | 'zstd' | 'none';
  rawSize: number;
  nextCursor: string;
  count: number;
}

/**
 * The LogGroupList bytes of a PullLogs body. `scratch` gives the memory for an LZ4 body (a reader that decodes one
 * page after another reuses it); the bytes returned are then only valid until its next use.
 */
export function decompressBody(page: Pick<PulledBody, 'body' | 'compressType' | 'rawSize'>, scratch?: (size: number) => Buffer): Buffer {
  const body = Buffer.isBuffer(page.body) ? page.body : Buffer.from(page.body.buffer, page.body.byteOffset, page.body.byteLength);
  if (page.compressType === 'none') return body;
  if (page.compressType === 'deflate') return inflateSync(body);
  if (page.compressType === 'zstd') return zstdDecompress(body);
  return scratch ? lz4DecompressInto(body, page.rawSize, scratch(page.rawSize)) : lz4Decompress(body, page.rawSize);
}
