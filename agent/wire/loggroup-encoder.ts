// Static LogGroup encoder: one pass sizes every field, a second writes straight into one exactly sized Buffer.
import type { ContentValue, Log, LogGroup, LogTag } from './loggroup.js';
import { utf8Length, writeUtf8 } from './utf8.js';

// Field keys, (field number << 3) | wire type, for the messages of PROTOCOLS.md.
const GROUP_LOGS = 0x0a; // LogGroup.Logs = 1, length-delimited
const GROUP_RESERVED = 0x12; // LogGroup.Reserved = 2
const GROUP_TOPIC = 0x1a; // LogGroup.Topic = 3
const GROUP_SOURCE = 0x22; // LogGroup.Source = 4
const GROUP_MACHINE_UUID = 0x2a; // LogGroup.MachineUUID = 5
const GROUP_TAGS = 0x32; // LogGroup.LogTags = 6
const LOG_TIME = 0x08; // Log.Time = 1, varint
const LOG_CONTENTS = 0x12; // Log.Contents = 2
const LOG_TIME_NS = 0x25; // Log.Time_ns = 4, fixed32
const PAIR_KEY = 0x0a; // Content.Key / LogTag.Key = 1
const PAIR_VALUE = 0x12; // Content.Value / LogTag.Value = 2
const LIST_GROUPS = 0x0a; // LogGroupList.logGroupList = 1

// Byte lengths found by the sizing pass, consumed in the same order by the writing pass so that no
// string is measured twice. Encoding is synchronous, so one module-level array is safe to reuse.
let sizes = new Int32Array(4096);
let sizeCount = 0;
let sizeRead = 0;

function pushSize(n: number): void {
  if (sizeCount === sizes.length) {
    const grown = new Int32Array(sizes.length * 2);
    grown.set(sizes);
    sizes = grown;
  }
  sizes[sizeCount++] = n;
}

/** Bytes the varint encoding of the uint32 `v` takes. */
export function varintLength(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

function checkUint32(v: number, field: string): number {
  if (!(Number.isInteger(v) && v >= 0 && v <= 0xffffffff)) throw new RangeError(`LogGroup: ${field} must be a uint32, got ${v}`);
  return v;
}

/** Bytes a length-delimited field holding `n` bytes takes, key included. */
function delimited(n: number): number {
  return 1 + varintLength(n) + n;
}

function valueLength(v: ContentValue): number {
  return typeof v === 'string' ? utf8Length(v) : v.byteLength;
}

function optionalStringSize(s: string | undefined): number {
  if (s === undefined || s === null) return 0;
  const n = utf8Length(s);
  pushSize(n);
  return delimited(n);
}

/** Sizes a Key/Value pair message (Content or LogTag), records its parts, and returns its body length. */
function pairSize(key: string, value: ContentValue): number {
  const k = utf8Length(key);
  const v = valueLength(value);
  pushSize(k);
  pushSize(v);
  return delimited(k) + delimited(v);
}

/** The body length of `group`, recording every nested length on the way. */
function groupSize(group: LogGroup): number {
  let total = 0;
  const logs = group.logs;
  for (let i = 0; i < logs.length; i++) {
    const log = logs[i]!;
    const slot = sizeCount;
    pushSize(0);
    let n = 1 + varintLength(checkUint32(log.time, 'Log.Time'));
    const contents = log.contents;
    for (let j = 0; j < contents.length; j++) {
      const c = contents[j]!;
      n += delimited(pairSize(c.key, c.value));
    }
    if (log.timeNs !== undefined && log.timeNs !== null) {
      checkUint32(log.timeNs, 'Log.Time_ns');
      n += 5;
    }
    sizes[slot] = n;
    total += delimited(n);
  }
  total += optionalStringSize(group.reserved);
  total += optionalStringSize(group.topic);
  total += optionalStringSize(group.source);
  total += optionalStringSize(group.machineUUID);
  const tags: LogTag[] = group.logTags ?? [];
  for (let i = 0; i < tags.length; i++) total += delimited(pairSize(tags[i]!.key, tags[i]!.value));
  return total;
}

/** Writes the uint32 `v` as a varint at `pos`; returns the position after it. */
export function writeVarint(buf: Uint8Array, pos: number, v: number): number {
  while (v > 0x7f) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

function writeValue(buf: Buffer, pos: number, v: ContentValue, len: number): number {
  if (typeof v === 'string') return writeUtf8(buf, pos, v, len);
  buf.set(v, pos);
  return pos + len;
}

function writePair(buf: Buffer, pos: number, fieldKey: number, key: string, value: ContentValue): number {
  const k = sizes[sizeRead++]!;
  const v = sizes[sizeRead++]!;
  buf[pos++] = fieldKey;
  pos = writeVarint(buf, pos, delimited(k) + delimited(v));
  buf[pos++] = PAIR_KEY;
  pos = writeVarint(buf, pos, k);
  pos = writeUtf8(buf, pos, key, k);
  buf[pos++] = PAIR_VALUE;
  pos = writeVarint(buf, pos, v);
  return writeValue(buf, pos, value, v);
}

function writeOptionalString(buf: Buffer, pos: number, fieldKey: number, s: string | undefined): number {
  if (s === undefined || s === null) return pos;
  const n = sizes[sizeRead++]!;
  buf[pos++] = fieldKey;
  pos = writeVarint(buf, pos, n);
  return writeUtf8(buf, pos, s, n);
}

function writeGroup(buf: Buffer, pos: number, group: LogGroup): number {
  const logs = group.logs;
  for (let i = 0; i < logs.length; i++) {
    const log = logs[i]!;
    buf[pos++] = GROUP_LOGS;
    pos = writeVarint(buf, pos, sizes[sizeRead++]!);
    buf[pos++] = LOG_TIME;
    pos = writeVarint(buf, pos, log.time);
    const contents = log.contents;
    for (let j = 0; j < contents.length; j++) pos = writePair(buf, pos, LOG_CONTENTS, contents[j]!.key, contents[j]!.value);
    if (log.timeNs !== undefined && log.timeNs !== null) {
      buf[pos++] = LOG_TIME_NS;
      buf.writeUInt32LE(log.timeNs, pos);
      pos += 4;
    }
  }
  pos = writeOptionalString(buf, pos, GROUP_RESERVED, group.reserved);
  pos = writeOptionalString(buf, pos, GROUP_TOPIC, group.topic);
  pos = writeOptionalString(buf, pos, GROUP_SOURCE, group.source);
  pos = writeOptionalString(buf, pos, GROUP_MACHINE_UUID, group.machineUUID);
  const tags: LogTag[] = group.logTags ?? [];
  for (let i = 0; i < tags.length; i++) pos = writePair(buf, pos, GROUP_TAGS, tags[i]!.key, tags[i]!.value);
  return pos;
}

function finish(buf: Buffer, end: number): Buffer {
  // A mismatch means the two passes disagree: a bug here, never a property of the input.
  if (end !== buf.length || sizeRead !== sizeCount) throw new Error(`LogGroup encoder: wrote ${end} of ${buf.length} bytes`);
  return buf;
}

/** `allocate` gives the buffer of the exact size written (a new one by default). */
export function encodeGroup(group: LogGroup, allocate: (size: number) => Buffer = (size) => Buffer.allocUnsafe(size)): Buffer {
  sizeCount = 0;
  sizeRead = 0;
  const size = groupSize(group);
  const buf = allocate(size);
  if (buf.length !== size) throw new RangeError(`LogGroup encoder: allocate(${size}) gave ${buf.length} bytes`);
  return finish(buf, writeGroup(buf, 0, group));
}

export function encodeGroupList(groups: LogGroup[]): Buffer {
  sizeCount = 0;
  sizeRead = 0;
  const bodies = new Array<number>(groups.length);
  let total = 0;
  for (let i = 0; i < groups.length; i++) {
    bodies[i] = groupSize(groups[i]!);
    total += delimited(bodies[i]!);
  }
  const buf = Buffer.allocUnsafe(total);
  let pos = 0;
  for (let i = 0; i < groups.length; i++) {
    buf[pos++] = LIST_GROUPS;
    pos = writeVarint(buf, pos, bodies[i]!);
    pos = writeGroup(buf, pos, groups[i]!);
  }
  return finish(buf, pos);
}

/** Encoded size of `log` as a LogGroup.Logs field (key and length included). Call writeLogField next. */
export function sizeLogField(log: Log): number {
  sizeCount = 0;
  sizeRead = 0;
  return groupSize({ logs: [log], logTags: [] });
}

/** Writes the field sized by the sizeLogField call just before (nothing encoded in between); returns the end. */
export function writeLogField(buf: Buffer, pos: number, log: Log): number {
  const end = writeGroup(buf, pos, { logs: [log], logTags: [] });
  if (sizeRead !== sizeCount) throw new Error('LogGroup encoder: writeLogField does not follow its sizeLogField');
  return end;
}
