// The on-disk form of one dead-letter file: a fixed header, a JSON description of the refusal, the sealed PutLogs body.
import { crc32 } from 'node:zlib';
import type { CompressType } from '../ship/index.js';

/** What a dead-letter file says about its batch; never anything of the plaintext. */
export interface DeadLetterMeta {
  project: string;
  logstore: string;
  /** How `body` is compressed; `rawSize` is the length of the sealed LogGroup it holds. */
  compressType: CompressType;
  rawSize: number;
  logCount: number;
  /** Unix milliseconds of the refusal. */
  refusedAt: number;
  /** SLS's errorCode, HTTP status, message and request id of the refusal. */
  code: string;
  status: number;
  message: string;
  requestId?: string;
}

/**
 * Layout (big-endian):
 *   0  magic "LSDL"   4  version (1)   5  reserved (3)   8  meta bytes (u32)   12  body bytes (u32)
 *  16  CRC32 of every other byte of the file             20  meta (UTF-8 JSON), then the body exactly as it was sent
 * The body stays as sent (sealed, maybe compressed) so that the file can be read back or sent again unchanged.
 */
const MAGIC = 0x4c53444c; // "LSDL"
const VERSION = 1;
const HEADER_BYTES = 20;
const COMPRESS_TYPES: readonly CompressType[] = ['none', 'lz4', 'deflate'];

/** A file in the dead-letter directory that is not an intact dead-letter file. */
export class DeadLetterFormatError extends Error {
  override readonly name = 'DeadLetterFormatError';
}

/** The header and meta of a file; the body follows them. */
export function encodeDeadLetterHead(meta: DeadLetterMeta, body: Uint8Array): Buffer {
  const json = Buffer.from(JSON.stringify(meta), 'utf8');
  const head = Buffer.alloc(HEADER_BYTES + json.length);
  head.writeUInt32BE(MAGIC, 0);
  head.writeUInt8(VERSION, 4);
  head.writeUInt32BE(json.length, 8);
  head.writeUInt32BE(body.byteLength, 12);
  json.copy(head, HEADER_BYTES);
  head.writeUInt32BE(crc32(body, crc32(json, crc32(head.subarray(0, 16)))), 16);
  return head;
}

/** Checks and splits a whole file; `name` is how errors refer to it. */
export function decodeDeadLetterFile(file: Buffer, name: string): { meta: DeadLetterMeta; body: Buffer } {
  const bad = (why: string) => new DeadLetterFormatError(`${name}: ${why}`);
  if (file.length < HEADER_BYTES || file.readUInt32BE(0) !== MAGIC) throw bad('not a dead-letter file (bad magic)');
  if (file.readUInt8(4) !== VERSION) throw bad(`unsupported dead-letter version ${file.readUInt8(4)}`);
  const metaBytes = file.readUInt32BE(8);
  const bodyBytes = file.readUInt32BE(12);
  if (file.length !== HEADER_BYTES + metaBytes + bodyBytes) throw bad(`${file.length} bytes, the header says ${HEADER_BYTES + metaBytes + bodyBytes}`);
  const json = file.subarray(HEADER_BYTES, HEADER_BYTES + metaBytes);
  const body = file.subarray(HEADER_BYTES + metaBytes);
  if (crc32(body, crc32(json, crc32(file.subarray(0, 16)))) !== file.readUInt32BE(16)) throw bad('checksum mismatch');
  let meta: DeadLetterMeta;
  try {
    meta = JSON.parse(json.toString('utf8')) as DeadLetterMeta;
  } catch {
    throw bad('unreadable description');
  }
  if (typeof meta.project !== 'string' || typeof meta.logstore !== 'string' || !COMPRESS_TYPES.includes(meta.compressType) || !Number.isInteger(meta.rawSize)) {
    throw bad('incomplete description');
  }
  return { meta, body };
}
