// A PullLogs answer with its body still compressed, and how to get the LogGroupList bytes out of it.
import { inflateSync } from 'node:zlib';
import { lz4Decompress } from '../wire/lz4.js';

/** One PullLogs answer, body undecoded. `count` is -1 when the service did not say (x-log-count). */
export interface PulledBody {
  body: Uint8Array;
  compressType: 'lz4' | 'deflate' | 'none';
  rawSize: number;
  nextCursor: string;
  count: number;
}

/** The LogGroupList bytes of a PullLogs body. */
export function decompressBody(page: Pick<PulledBody, 'body' | 'compressType' | 'rawSize'>): Buffer {
  const body = Buffer.isBuffer(page.body) ? page.body : Buffer.from(page.body.buffer, page.body.byteOffset, page.body.byteLength);
  if (page.compressType === 'none') return body;
  if (page.compressType === 'deflate') return inflateSync(body);
  return lz4Decompress(body, page.rawSize);
}
