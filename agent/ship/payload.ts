// PutLogs bodies: compresses an encoded LogGroup the way SLS expects. Pure, so it may run in a worker thread.
import { deflateSync } from 'node:zlib';
import { lz4Compress } from '../wire/lz4.js';
import { zstdCompress } from '../wire/zstd.js';
import { contentMd5 } from './signed-request.js';

/** `lz4` is the LZ4 block format, `deflate` is zlib (RFC 1950), `zstd` a Zstandard frame, `none` sends the protobuf as is. */
export type CompressType = 'lz4' | 'deflate' | 'zstd' | 'none';

export interface PutLogsPayload {
  /** The bytes sent as the request body. */
  body: Uint8Array;
  /** Length of the uncompressed LogGroup (`x-log-bodyrawsize`). */
  rawSize: number;
  compressType: CompressType;
  /** Uppercase hex MD5 of `body`: computed with the body (in a seal worker) so the sender's thread need not. */
  contentMd5?: string;
}

export function preparePayload(encodedLogGroup: Uint8Array, compressType: CompressType): PutLogsPayload {
  const rawSize = encodedLogGroup.byteLength;
  const body = compress(encodedLogGroup, compressType);
  return { body, rawSize, compressType, contentMd5: contentMd5(body) };
}

function compress(encoded: Uint8Array, compressType: CompressType): Uint8Array {
  switch (compressType) {
    case 'lz4':
      return lz4Compress(encoded);
    case 'deflate':
      return deflateSync(encoded);
    case 'zstd':
      return zstdCompress(encoded);
    case 'none':
      return encoded;
    default:
      throw new TypeError(`unknown compress type ${String(compressType)}`);
  }
}
