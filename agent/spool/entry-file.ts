// The on-disk form of one spool entry: a fixed header with lengths and a CRC32, then logstore, hash key and sealed body.
import type { FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';

export type CompressType = 'lz4' | 'deflate' | 'zstd' | 'none';

/**
 * Layout (big-endian):
 *   0  magic "LSSP"        4  version (1)        5  compress type        6  flags (bit 0: hash key present)   7  reserved
 *   8  id (u64)           16  createdAt ms (u64) 24  rawSize (u32)        28  logCount (u32)
 *  32  logstore bytes (u16) 34 hash key bytes (u16) 36 body bytes (u32)   40  CRC32 of every other byte of the file
 *  44  logstore, hash key, body
 */
export const HEADER_BYTES = 44;
const MAGIC = 0x4c535350; // "LSSP"
const VERSION = 1;
const COMPRESS_CODES: readonly CompressType[] = ['none', 'lz4', 'deflate', 'zstd'];
const MAX_U32 = 0xffff_ffff;
const READ_CHUNK = 1 << 20;

export interface EntryMeta {
  id: number;
  logstore: string;
  hashKey?: string;
  rawSize: number;
  compressType: CompressType;
  logCount: number;
  createdAt: number;
  bodyBytes: number;
  /** Header + logstore + hash key + body: what the entry costs against maxBytes. */
  fileBytes: number;
}

/** The header and strings of an entry; the body follows it in the file. Throws RangeError on values the format cannot hold. */
export function encodeHead(meta: Omit<EntryMeta, 'fileBytes'>): Buffer {
  const logstore = Buffer.from(meta.logstore, 'utf8');
  const hashKey = meta.hashKey === undefined ? Buffer.alloc(0) : Buffer.from(meta.hashKey, 'utf8');
  if (logstore.length === 0 || logstore.length > 0xffff) throw new RangeError('spool: logstore name must be 1..65535 bytes');
  if (hashKey.length > 0xffff) throw new RangeError('spool: hash key is too long');
  for (const [name, value] of [['rawSize', meta.rawSize], ['logCount', meta.logCount], ['body length', meta.bodyBytes]] as const) {
    if (!Number.isInteger(value) || value < 0 || value > MAX_U32) throw new RangeError(`spool: ${name} out of range`);
  }
  const head = Buffer.alloc(HEADER_BYTES + logstore.length + hashKey.length);
  head.writeUInt32BE(MAGIC, 0);
  head.writeUInt8(VERSION, 4);
  head.writeUInt8(COMPRESS_CODES.indexOf(meta.compressType), 5);
  head.writeUInt8(meta.hashKey === undefined ? 0 : 1, 6);
  head.writeBigUInt64BE(BigInt(meta.id), 8);
  head.writeBigUInt64BE(BigInt(meta.createdAt), 16);
  head.writeUInt32BE(meta.rawSize, 24);
  head.writeUInt32BE(meta.logCount, 28);
  head.writeUInt16BE(logstore.length, 32);
  head.writeUInt16BE(hashKey.length, 34);
  head.writeUInt32BE(meta.bodyBytes, 36);
  logstore.copy(head, HEADER_BYTES);
  hashKey.copy(head, HEADER_BYTES + logstore.length);
  return head;
}

/** Fills the CRC field of `head`, computed over the rest of the head and the body. */
export function sealHead(head: Buffer, body: Uint8Array): void {
  head.writeUInt32BE(crc32(body, crc32(head.subarray(HEADER_BYTES), crc32(head.subarray(0, 40)))), 40);
}

export type ReadOutcome = { ok: true; meta: EntryMeta; body?: Buffer } | { ok: false; reason: string };

/**
 * Reads and verifies a whole entry file. With `keepBody` the body is returned; otherwise it is streamed through a
 * small buffer just to check the CRC, so verifying a large spool does not hold it in memory.
 */
export async function readEntry(fh: FileHandle, expectedId: number, keepBody: boolean): Promise<ReadOutcome> {
  const size = (await fh.stat()).size;
  if (size < HEADER_BYTES) return { ok: false, reason: `truncated (${size} bytes, header needs ${HEADER_BYTES})` };
  const header = await readExactly(fh, HEADER_BYTES, 0);
  if (header.readUInt32BE(0) !== MAGIC) return { ok: false, reason: 'not a spool entry (bad magic)' };
  if (header.readUInt8(4) !== VERSION) return { ok: false, reason: `unsupported entry version ${header.readUInt8(4)}` };
  const compressType = COMPRESS_CODES[header.readUInt8(5)];
  if (compressType === undefined) return { ok: false, reason: 'unknown compress type' };
  const logstoreBytes = header.readUInt16BE(32);
  const hashKeyBytes = header.readUInt16BE(34);
  const bodyBytes = header.readUInt32BE(36);
  const fileBytes = HEADER_BYTES + logstoreBytes + hashKeyBytes + bodyBytes;
  if (size < fileBytes) return { ok: false, reason: `truncated (${size} of ${fileBytes} bytes)` };
  if (size > fileBytes) return { ok: false, reason: `${size - fileBytes} unexpected trailing bytes` };

  const strings = await readExactly(fh, logstoreBytes + hashKeyBytes, HEADER_BYTES);
  let crc = crc32(strings, crc32(header.subarray(0, 40)));
  let body: Buffer | undefined;
  if (keepBody) {
    body = await readExactly(fh, bodyBytes, HEADER_BYTES + strings.length);
    crc = crc32(body, crc);
  } else {
    const chunk = Buffer.allocUnsafe(Math.min(READ_CHUNK, Math.max(bodyBytes, 1)));
    for (let done = 0; done < bodyBytes; ) {
      const n = Math.min(chunk.length, bodyBytes - done);
      await readInto(fh, chunk, n, HEADER_BYTES + strings.length + done);
      crc = crc32(chunk.subarray(0, n), crc);
      done += n;
    }
  }
  if (crc !== header.readUInt32BE(40)) return { ok: false, reason: 'checksum mismatch' };

  const id = Number(header.readBigUInt64BE(8));
  if (id !== expectedId) return { ok: false, reason: `holds entry ${id}, not ${expectedId}` };
  const meta: EntryMeta = {
    id,
    logstore: strings.toString('utf8', 0, logstoreBytes),
    rawSize: header.readUInt32BE(24),
    compressType,
    logCount: header.readUInt32BE(28),
    createdAt: Number(header.readBigUInt64BE(16)),
    bodyBytes,
    fileBytes,
  };
  if (header.readUInt8(6) & 1) meta.hashKey = strings.toString('utf8', logstoreBytes);
  return body ? { ok: true, meta, body } : { ok: true, meta };
}

async function readExactly(fh: FileHandle, length: number, position: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  await readInto(fh, buf, length, position);
  return buf;
}

async function readInto(fh: FileHandle, buf: Buffer, length: number, position: number): Promise<void> {
  for (let done = 0; done < length; ) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) throw new Error('spool: file shrank while being read');
    done += bytesRead;
  }
}
