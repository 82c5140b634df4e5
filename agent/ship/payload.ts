// PutLogs bodies: compresses an encoded LogGroup the way SLS expects. Pure, so it may run in a worker thread.
import { deflateSync } from 'node:zlib';
import { lz4Compress } from '../wire/lz4.js';

/** `lz4` is the LZ4 block format, `deflate` is zlib (RFC 1950), `none` sends the protobuf as is. */
export type CompressType = 'lz4' | 'deflate' | 'none';

export interface PutLogsPayload {
  /** The bytes sent as the request body. */
  body: Uint8Array;
  /** Length of the uncompressed LogGroup (`x-log-bodyrawsize`). */
  rawSize: number;
  compressType: CompressType;
}

export function preparePayload(encodedLogGroup: Uint8Array, compressType: CompressType): PutLogsPayload {
  const rawSize = encodedLogGroup.byteLength;
  switch (compressType) {
    case 'lz4':
      return { body: lz4Compress(encodedLogGroup), rawSize, compressType };
    case 'deflate':
      return { body: deflateSync(encodedLogGroup), rawSize, compressType };
    case 'none':
      return { body: encodedLogGroup, rawSize, compressType };
    default:
      throw new TypeError(`unknown compress type ${String(compressType)}`);
  }
}
