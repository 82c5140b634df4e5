// Static LogGroup decoder: walks the protobuf bytes once, checks every length and required field, skips unknown fields.
import type { Log, LogContent, LogGroup, LogTag } from './loggroup.js';
import { readUtf8, readUtf8OrBytes } from './utf8.js';

/** The bytes are not a well-formed LogGroup (truncated, a bad wire type, a missing required field…). */
export class LogGroupDecodeError extends Error {
  override name = 'LogGroupDecodeError';
}

const VARINT = 0;
const FIXED64 = 1;
const DELIMITED = 2;
const FIXED32 = 5;

// Decoding is synchronous, so the cursor lives in module state instead of an object per call.
const EMPTY = Buffer.alloc(0);
let buf: Buffer = EMPTY;
let pos = 0;

function fail(what: string): never {
  throw new LogGroupDecodeError(`malformed LogGroup: ${what} at byte ${pos}`);
}

/** Reads a varint as a uint32 (higher bits of a longer varint are dropped, as protobuf does for uint32). */
function readVarint(end: number): number {
  if (end - pos < 10) return readVarintChecked(end);
  // Enough bytes left for the longest varint: no bounds checks (timestamps take 5 bytes, so this is hot).
  let b = buf[pos++]!;
  let v = b & 0x7f;
  if (b < 0x80) return v;
  b = buf[pos++]!;
  v |= (b & 0x7f) << 7;
  if (b < 0x80) return v;
  b = buf[pos++]!;
  v |= (b & 0x7f) << 14;
  if (b < 0x80) return v;
  b = buf[pos++]!;
  v |= (b & 0x7f) << 21;
  if (b < 0x80) return v;
  b = buf[pos++]!;
  v = (v | ((b & 0x0f) << 28)) >>> 0;
  if (b < 0x80) return v;
  for (let i = 5; i < 10; i++) if (buf[pos++]! < 0x80) return v;
  return fail('varint longer than 10 bytes');
}

function readVarintChecked(end: number): number {
  let v = 0;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) fail('truncated varint');
    const b = buf[pos++]!;
    if (i < 4) v |= (b & 0x7f) << (7 * i);
    else if (i === 4) v = (v | ((b & 0x0f) << 28)) >>> 0;
    if (b < 0x80) return v >>> 0;
  }
  return fail('varint longer than 10 bytes');
}

/** Reads a length prefix and returns the end of the field it announces. */
function readLength(end: number): number {
  const n = readVarint(end);
  if (n > end - pos) fail(`length ${n} runs past the end`);
  return pos + n;
}

function skipField(wireType: number, end: number): void {
  switch (wireType) {
    case VARINT:
      readVarint(end);
      return;
    case FIXED64:
      if (end - pos < 8) fail('truncated fixed64');
      pos += 8;
      return;
    case DELIMITED:
      pos = readLength(end);
      return;
    case FIXED32:
      if (end - pos < 4) fail('truncated fixed32');
      pos += 4;
      return;
    default:
      fail(`unsupported wire type ${wireType}`);
  }
}

/** Reads a field key; the caller dispatches on it. Field number 0 is never valid. */
function readKey(end: number): number {
  const key = buf[pos]! < 0x80 ? buf[pos++]! : readVarint(end);
  if (key >>> 3 === 0) fail('field number 0');
  return key;
}

function expectWireType(key: number, wireType: number): void {
  if ((key & 7) !== wireType) fail(`field ${key >>> 3} has wire type ${key & 7}, expected ${wireType}`);
}

function readString(end: number): string {
  const stop = readLength(end);
  const s = readUtf8(buf, pos, stop);
  pos = stop;
  return s;
}

/** Content or LogTag: both are { required Key = 1; required Value = 2 }. */
function readPair(end: number, what: string, valueAsBytes: boolean): { key: string; value: string | Uint8Array } {
  let key: string | undefined;
  let value: string | Uint8Array | undefined;
  while (pos < end) {
    const k = readKey(end);
    if (k === 0x0a) key = readString(end);
    else if (k === 0x12) {
      const stop = readLength(end);
      value = valueAsBytes ? readUtf8OrBytes(buf, pos, stop) : readUtf8(buf, pos, stop);
      pos = stop;
    } else {
      if (k >>> 3 === 1 || k >>> 3 === 2) expectWireType(k, DELIMITED);
      skipField(k & 7, end);
    }
  }
  if (key === undefined) fail(`${what}.Key missing`);
  if (value === undefined) fail(`${what}.Value missing`);
  return { key, value };
}

function readLog(end: number): Log {
  let time: number | undefined;
  let timeNs: number | undefined;
  const contents: LogContent[] = [];
  while (pos < end) {
    const k = readKey(end);
    if (k === 0x08) time = readVarint(end);
    else if (k === 0x12) {
      const stop = readLength(end);
      contents.push(readPair(stop, 'Content', true));
    } else if (k === 0x25) {
      if (end - pos < 4) fail('truncated Time_ns');
      timeNs = buf.readUInt32LE(pos);
      pos += 4;
    } else {
      const field = k >>> 3;
      if (field === 1) expectWireType(k, VARINT);
      if (field === 2) expectWireType(k, DELIMITED);
      if (field === 4) expectWireType(k, FIXED32);
      skipField(k & 7, end);
    }
  }
  if (time === undefined) fail('Log.Time missing');
  const log: Log = { time, contents };
  if (timeNs !== undefined) log.timeNs = timeNs;
  return log;
}

function readGroup(end: number): LogGroup {
  const group: LogGroup = { logs: [], logTags: [] };
  while (pos < end) {
    const k = readKey(end);
    switch (k) {
      case 0x0a: {
        const stop = readLength(end);
        group.logs.push(readLog(stop));
        break;
      }
      case 0x12:
        group.reserved = readString(end);
        break;
      case 0x1a:
        group.topic = readString(end);
        break;
      case 0x22:
        group.source = readString(end);
        break;
      case 0x2a:
        group.machineUUID = readString(end);
        break;
      case 0x32: {
        const stop = readLength(end);
        group.logTags.push(readPair(stop, 'LogTag', false) as LogTag);
        break;
      }
      default: {
        const field = k >>> 3;
        if (field >= 1 && field <= 6) expectWireType(k, DELIMITED);
        skipField(k & 7, end);
      }
    }
  }
  return group;
}

function start(bytes: Uint8Array): number {
  buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  pos = 0;
  return buf.length;
}

function release(): void {
  buf = EMPTY; // do not keep the caller's bytes alive
}

export function decodeGroup(bytes: Uint8Array): LogGroup {
  const end = start(bytes);
  try {
    return readGroup(end);
  } finally {
    release();
  }
}

export function decodeGroupList(bytes: Uint8Array): LogGroup[] {
  const end = start(bytes);
  try {
    const groups: LogGroup[] = [];
    while (pos < end) {
      const k = readKey(end);
      if (k === 0x0a) {
        const stop = readLength(end);
        groups.push(readGroup(stop));
      } else {
        if (k >>> 3 === 1) expectWireType(k, DELIMITED);
        skipField(k & 7, end);
      }
    }
    return groups;
  } finally {
    release();
  }
}
