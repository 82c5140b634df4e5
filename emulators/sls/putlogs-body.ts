// Turns a PutLogs request body into the LogGroup bytes to store, refusing what the service refuses (codes in README.md).
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { IncomingHttpHeaders } from 'node:http';
import { inflateSync } from 'node:zlib';
import { decodeLogGroup } from '../../agent/wire/loggroup.js';
import { ZstdUnavailableError, zstdDecompress } from '../../agent/wire/zstd.js';
import { SlsApiError } from './errors.js';

/** Limits of one PutLogs call. */
export const MAX_RAW_BODY_BYTES = 10 * 1024 * 1024;
export const MAX_LOGS_PER_GROUP = 4096;
/** What may arrive on the wire: an LZ4 block of incompressible input is slightly larger than the input. */
export const MAX_WIRE_BODY_BYTES = MAX_RAW_BODY_BYTES + Math.ceil(MAX_RAW_BODY_BYTES / 255) + 64 * 1024;

const require = createRequire(import.meta.url);
const lz4 = require('lz4') as { decodeBlock(input: Buffer, output: Buffer): number };

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** Content-MD5 must be the uppercase hex MD5 of the bytes received. */
export function checkContentMd5(headers: IncomingHttpHeaders, body: Buffer, required: boolean): void {
  const given = header(headers, 'content-md5');
  if (given === undefined) {
    if (required) throw new SlsApiError('InvalidContentMD5', 'Content-MD5 does not exist in http header; it is required for a request body.');
    return;
  }
  const actual = createHash('md5').update(body).digest('hex').toUpperCase();
  if (given !== actual) throw new SlsApiError('InvalidContentMD5', `Content-MD5 ${given} does not match the body received (${actual}).`);
}

function parseRawSize(headers: IncomingHttpHeaders, compressed: boolean): number | undefined {
  const v = header(headers, 'x-log-bodyrawsize');
  if (v === undefined) {
    if (compressed) throw new SlsApiError('MissingBodyRawSize', 'x-log-bodyrawsize does not exist in header when it is necessary.');
    return undefined;
  }
  if (!/^\d{1,10}$/.test(v)) throw new SlsApiError('InvalidBodyRawSize', 'x-log-bodyrawsize is invalid.');
  const n = Number(v);
  if (n > MAX_RAW_BODY_BYTES) {
    throw new SlsApiError('PostBodyTooLarge', `The raw body is ${n} bytes; a PutLogs body must be at most ${MAX_RAW_BODY_BYTES} bytes.`);
  }
  return n;
}

function lz4Decode(body: Buffer, rawSize: number): Buffer {
  const out = Buffer.allocUnsafe(rawSize);
  const n = rawSize === 0 ? (body.length === 1 && body[0] === 0 ? 0 : -1) : lz4.decodeBlock(body, out);
  if (n === rawSize) return out;
  if (n >= 0) throw new SlsApiError('InvalidBodyRawSize', `x-log-bodyrawsize is ${rawSize}, the lz4 body holds ${n} bytes.`);
  // The block overflows the declared size or is corrupt: decode into the largest legal size to tell which.
  const probe = Buffer.allocUnsafe(MAX_RAW_BODY_BYTES);
  const m = lz4.decodeBlock(body, probe);
  if (m >= 0) throw new SlsApiError('InvalidBodyRawSize', `x-log-bodyrawsize is ${rawSize}, the lz4 body holds ${m} bytes.`);
  throw new SlsApiError('PostBodyUncompressError', 'The lz4 body cannot be decompressed.');
}

function unzstd(body: Buffer, rawSize: number): Buffer {
  let out: Buffer;
  try {
    out = zstdDecompress(body, MAX_RAW_BODY_BYTES);
  } catch (err) {
    if (err instanceof ZstdUnavailableError) throw new SlsApiError('InvalidCompressType', 'x-log-compresstype zstd is unsupported by this emulator (zstd-napi is not built).');
    throw new SlsApiError('PostBodyUncompressError', 'The zstd body cannot be decompressed.');
  }
  if (out.length !== rawSize) throw new SlsApiError('InvalidBodyRawSize', `x-log-bodyrawsize is ${rawSize}, the zstd body holds ${out.length} bytes.`);
  return out;
}

function inflate(body: Buffer, rawSize: number): Buffer {
  let out: Buffer;
  try {
    out = inflateSync(body, { maxOutputLength: MAX_RAW_BODY_BYTES });
  } catch {
    throw new SlsApiError('PostBodyUncompressError', 'The deflate body cannot be decompressed.');
  }
  if (out.length !== rawSize) throw new SlsApiError('InvalidBodyRawSize', `x-log-bodyrawsize is ${rawSize}, the deflate body holds ${out.length} bytes.`);
  return out;
}

/**
 * Decompresses and validates one PutLogs body. `x-log-compresstype` is `lz4`, `deflate` (zlib), or absent for a raw
 * protobuf body (what the official Node.js SDK sends). Returns the LogGroup bytes exactly as the client encoded them.
 */
export function decodePutLogsBody(headers: IncomingHttpHeaders, body: Buffer): Buffer {
  const contentType = header(headers, 'content-type');
  if (contentType === undefined) throw new SlsApiError('MissingContentType', 'Content-Type does not exist in http header when body is not empty.');
  if (contentType.split(';')[0]!.trim() !== 'application/x-protobuf') {
    throw new SlsApiError('InvalidContentType', `Content-Type ${contentType} is unsupported.`);
  }
  const compressType = header(headers, 'x-log-compresstype');
  if (compressType !== undefined && compressType !== 'lz4' && compressType !== 'deflate' && compressType !== 'zstd') {
    throw new SlsApiError('InvalidCompressType', `x-log-compresstype ${compressType} is unsupported.`);
  }
  const rawSize = parseRawSize(headers, compressType !== undefined);
  let raw: Buffer;
  if (compressType === 'lz4') raw = lz4Decode(body, rawSize!);
  else if (compressType === 'deflate') raw = inflate(body, rawSize!);
  else if (compressType === 'zstd') raw = unzstd(body, rawSize!);
  else {
    if (body.length > MAX_RAW_BODY_BYTES) {
      throw new SlsApiError('PostBodyTooLarge', `The raw body is ${body.length} bytes; a PutLogs body must be at most ${MAX_RAW_BODY_BYTES} bytes.`);
    }
    if (rawSize !== undefined && rawSize !== body.length) {
      throw new SlsApiError('InvalidBodyRawSize', `x-log-bodyrawsize is ${rawSize}, the uncompressed body is ${body.length} bytes.`);
    }
    raw = body;
  }
  let logs: number;
  try {
    logs = decodeLogGroup(raw).logs.length;
  } catch {
    throw new SlsApiError('PostBodyInvalid', 'Protobuffer content cannot be parsed.');
  }
  if (logs > MAX_LOGS_PER_GROUP) {
    throw new SlsApiError('PostBodyTooLarge', `The LogGroup holds ${logs} logs; at most ${MAX_LOGS_PER_GROUP} are allowed in one PutLogs.`);
  }
  return raw;
}
