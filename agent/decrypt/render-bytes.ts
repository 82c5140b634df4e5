// The fast way from authenticated plaintext (protobuf bytes) to output bytes: NDJSON escaped byte by byte and raw
// content copied, without building strings or objects per log. Anything unusual goes the way of render.ts instead,
// so the bytes are always those JSON.stringify of the PlainLogLine gives.
import { isUtf8 } from 'node:buffer';
import type { OpenedRecords } from '../seal/index.js';
import type { LogTag } from '../wire/loggroup.js';
import { readUtf8 } from '../wire/utf8.js';
import type { OutputBuilder, FieldTracker } from './render.js';
import type { OutputFormat } from './view.js';
import type { FieldLookup } from './where.js';

/** The plaintext is not in the shape this path handles; the caller decodes it the ordinary way. */
export class NotFastPath extends Error {}

const utf8 = new TextDecoder();

const EMPTY = Buffer.alloc(0);
let src: Buffer = EMPTY;
let at = 0;

function varint(end: number): number {
  if (at + 1 < end) {
    const b0 = src[at]!;
    if (b0 < 0x80) {
      at++;
      return b0;
    }
    const b1 = src[at + 1]!;
    if (b1 < 0x80) {
      at += 2;
      return (b0 & 0x7f) | (b1 << 7);
    }
  }
  let v = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (at >= end) throw new NotFastPath();
    const b = src[at++]!;
    v += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return v > 0xffffffff ? v % 2 ** 32 : v;
  }
  throw new NotFastPath();
}

function lengthEnd(end: number): number {
  const n = varint(end);
  if (n > end - at) throw new NotFastPath();
  return at + n;
}

function skip(key: number, end: number): void {
  switch (key & 7) {
    case 0:
      varint(end);
      return;
    case 1:
      at += 8;
      break;
    case 2:
      at = lengthEnd(end);
      return;
    case 5:
      at += 4;
      break;
    default:
      throw new NotFastPath();
  }
  if (at > end) throw new NotFastPath();
}

/** Key/value byte ranges of a Content or LogTag: [keyStart, keyEnd, valueStart, valueEnd]. */
function pair(end: number, into: number[]): void {
  let ks = -1, ke = -1, vs = -1, ve = -1;
  while (at < end) {
    const key = varint(end);
    if (key === 0x0a) {
      ke = lengthEnd(end);
      ks = at;
      at = ke;
    } else if (key === 0x12) {
      ve = lengthEnd(end);
      vs = at;
      at = ve;
    } else if (key >>> 3 === 1 || key >>> 3 === 2 || key >>> 3 === 0) throw new NotFastPath();
    else skip(key, end);
  }
  if (ks < 0 || vs < 0) throw new NotFastPath();
  into.push(ks, ke, vs, ve);
}

interface GroupPart {
  topic: string;
  source: string;
  tags: Record<string, string>;
  /** `,"topic":…,"source":…,"tags":{…},"contents":` */
  json: Buffer;
}

function groupPart(topic: string | undefined, source: string | undefined, logTags: readonly LogTag[]): GroupPart {
  const tags: Record<string, string> = {};
  for (const t of logTags) tags[t.key] = t.value;
  const tp = topic ?? '';
  const sc = source ?? '';
  return { topic: tp, source: sc, tags, json: Buffer.from(`,"topic":${JSON.stringify(tp)},"source":${JSON.stringify(sc)},"tags":${JSON.stringify(tags)},"contents":`) };
}

// Buffer's latin1Slice/latin1Write skip the argument checks of toString()/write(); fall back if a runtime lacks them.
type Latin1Buffer = Buffer & { latin1Slice?: (start: number, end: number) => string; latin1Write?: (s: string, offset: number) => number };
const proto = Buffer.prototype as Latin1Buffer;
const latin1Slice: (buf: Buffer, start: number, end: number) => string =
  typeof proto.latin1Slice === 'function' ? (buf, start, end) => (buf as Latin1Buffer).latin1Slice!(start, end) : (buf, start, end) => buf.toString('latin1', start, end);
const latin1Write: (buf: Buffer, s: string, offset: number) => number =
  typeof proto.latin1Write === 'function' ? (buf, s, offset) => (buf as Latin1Buffer).latin1Write!(s, offset) : (buf, s, offset) => buf.write(s, offset, 'latin1');

/**
 * Writes bytes [s, e) of `from` as a JSON string; false (nothing written) when they are not valid UTF-8, whose
 * replacement characters the ordinary path produces. JSON.stringify escapes only `"`, `\\` and characters below
 * U+0020 and leaves the rest as it is, so stringifying the bytes read one per character (latin1) and writing the
 * characters back one per byte gives exactly the UTF-8 of JSON.stringify of the decoded text, in native code.
 */
function jsonString(from: Buffer, s: number, e: number, out: OutputBuilder): boolean {
  if (!isUtf8(from.subarray(s, e))) return false;
  const text = JSON.stringify(latin1Slice(from, s, e));
  out.ensure(text.length);
  out.pos += latin1Write(out.buf, text, out.pos);
  return true;
}

// Most logs repeat the same few keys (`content` above all): the last key's JSON is kept to skip the native calls.
let lastKey: Buffer = Buffer.alloc(0);
let lastKeyJson: Uint8Array = new Uint8Array(0);

function jsonKey(s: number, e: number, out: OutputBuilder): boolean {
  const n = e - s;
  if (n === lastKey.length && n <= 64) {
    let same = true;
    for (let i = 0; i < n; i++) {
      if (src[s + i] !== lastKey[i]) {
        same = false;
        break;
      }
    }
    if (same) {
      out.ensure(lastKeyJson.length);
      out.buf.set(lastKeyJson, out.pos);
      out.pos += lastKeyJson.length;
      return true;
    }
  }
  const start = out.pos;
  if (!jsonString(src, s, e, out)) return false;
  if (n <= 64) {
    lastKey = Buffer.from(src.subarray(s, e));
    lastKeyJson = Uint8Array.prototype.slice.call(out.buf, start, out.pos);
  }
  return true;
}

/** True when the contents can be written in stored order: no index-like, `__proto__` or repeated keys. */
function plainOrder(ranges: number[]): boolean {
  const n = ranges.length / 4;
  for (let j = 0; j < n; j++) {
    const ks = ranges[4 * j]!;
    const ke = ranges[4 * j + 1]!;
    const first = src[ks];
    // Integer-like keys come first in a JS object; `__proto__` is no own key at all.
    if (first !== undefined && first >= 0x30 && first <= 0x39) return false;
    if (ke - ks === 9 && src.toString('latin1', ks, ke) === '__proto__') return false;
    for (let k = 0; k < j; k++) {
      const os = ranges[4 * k]!;
      const oe = ranges[4 * k + 1]!;
      if (oe - os === ke - ks && src.compare(src, os, oe, ks, ke) === 0) return false;
    }
  }
  return n <= 64;
}

function valueString(vs: number, ve: number): string {
  return utf8.decode(src.subarray(vs, ve));
}

function contentsObject(ranges: number[]): Record<string, string> {
  const contents: Record<string, string> = {};
  for (let j = 0; j < ranges.length; j += 4) contents[readUtf8(src, ranges[j]!, ranges[j + 1]!)] = valueString(ranges[j + 2]!, ranges[j + 3]!);
  return contents;
}

const TAG_PREFIX = '__tag__:';

function lookupFor(ranges: number[], time: number, g: GroupPart): FieldLookup {
  return (field) => {
    if (field.startsWith('__')) {
      if (field === '__topic__') return g.topic;
      if (field === '__source__') return g.source;
      if (field === '__time__') return String(time);
      if (field.startsWith(TAG_PREFIX)) {
        const k = field.slice(TAG_PREFIX.length);
        return Object.hasOwn(g.tags, k) ? g.tags[k] : undefined;
      }
    }
    const want = Buffer.from(field, 'utf8');
    for (let j = ranges.length - 4; j >= 0; j -= 4) {
      const ks = ranges[j]!;
      const ke = ranges[j + 1]!;
      if (ke - ks === want.length && src.compare(want, 0, want.length, ks, ke) === 0) return valueString(ranges[j + 2]!, ranges[j + 3]!);
    }
    return undefined;
  };
}

const CONTENT = Buffer.from('content');
const TIME_KEY = Buffer.from('{"time":');
const TIME_NS_KEY = Buffer.from(',"time_ns":');

/** Writes a uint32 in decimal, as JSON.stringify does; `out` has room. */
function writeDecimal(out: OutputBuilder, n: number): void {
  const b = out.buf;
  if (n < 10) {
    b[out.pos++] = 0x30 + n;
    return;
  }
  let digits = 0;
  for (let m = n; m > 0; m = Math.floor(m / 10)) digits++;
  let p = out.pos + digits;
  out.pos = p;
  for (let m = n; m > 0; m = Math.floor(m / 10)) b[--p] = 0x30 + (m % 10);
}

function emit(ranges: number[], time: number, timeNs: number | undefined, g: GroupPart, format: OutputFormat, keep: ((get: FieldLookup) => boolean) | undefined, out: OutputBuilder, fields: FieldTracker | undefined): void {
  if ((fields && !fields.done) || keep) {
    const get = lookupFor(ranges, time, g);
    if (fields && !fields.done) fields.noteLookup(get);
    if (keep && !keep(get)) return;
  }
  if (format === 'count') {
    out.lines++;
    return;
  }
  if (format === 'raw') {
    for (let j = ranges.length - 4; j >= 0; j -= 4) {
      const ks = ranges[j]!;
      const ke = ranges[j + 1]!;
      if (ke - ks === 7 && src.compare(CONTENT, 0, 7, ks, ke) === 0) {
        const vs = ranges[j + 2]!;
        const ve = ranges[j + 3]!;
        out.ensure(ve - vs + 1);
        out.pos += src.copy(out.buf, out.pos, vs, ve);
        out.buf[out.pos++] = 0x0a;
        out.lines++;
        return;
      }
    }
    return;
  }
  out.ensure(40 + g.json.length);
  out.buf.set(TIME_KEY, out.pos);
  out.pos += TIME_KEY.length;
  writeDecimal(out, time);
  if (timeNs !== undefined) {
    out.buf.set(TIME_NS_KEY, out.pos);
    out.pos += TIME_NS_KEY.length;
    writeDecimal(out, timeNs);
  }
  out.buf.set(g.json, out.pos);
  out.pos += g.json.length;
  const mark = out.pos;
  let fast = plainOrder(ranges);
  if (fast) {
    out.ensure(1);
    out.buf[out.pos++] = 0x7b;
    for (let j = 0; j < ranges.length && fast; j += 4) {
      if (j > 0) {
        out.ensure(1);
        out.buf[out.pos++] = 0x2c;
      }
      fast = jsonKey(ranges[j]!, ranges[j + 1]!, out);
      if (!fast) break;
      out.ensure(1);
      out.buf[out.pos++] = 0x3a;
      fast = jsonString(src, ranges[j + 2]!, ranges[j + 3]!, out);
    }
  }
  if (fast) {
    out.ensure(3);
    out.buf[out.pos++] = 0x7d;
  } else {
    out.pos = mark;
    out.addText(JSON.stringify(contentsObject(ranges)));
    out.ensure(2);
  }
  out.buf[out.pos++] = 0x7d;
  out.buf[out.pos++] = 0x0a;
  out.lines++;
}

/** Parses one Log's fields in [at, end): its Contents ranges, Time and Time_ns. */
function scanLog(end: number, ranges: number[]): { time: number | undefined; timeNs: number | undefined } {
  let time: number | undefined;
  let timeNs: number | undefined;
  while (at < end) {
    const key = varint(end);
    if (key === 0x08) time = varint(end);
    else if (key === 0x12) {
      const stop = lengthEnd(end);
      pair(stop, ranges);
      at = stop;
    } else if (key === 0x25) {
      if (end - at < 4) throw new NotFastPath();
      timeNs = src.readUInt32LE(at);
      at += 4;
    } else if (key >>> 3 === 1 || key >>> 3 === 2 || key >>> 3 === 4 || key >>> 3 === 0) throw new NotFastPath();
    else skip(key, end);
  }
  return { time, timeNs };
}

/**
 * Renders the records of one opened group; returns the number of logs read. Throws NotFastPath (after which the
 * caller resets `out` and decodes the group the ordinary way) on anything it does not handle, including every
 * malformation, so that errors are reported by the ordinary decoder.
 */
export function renderRecords(
  opened: OpenedRecords,
  format: OutputFormat,
  keep: ((get: FieldLookup) => boolean) | undefined,
  out: OutputBuilder,
  fields: FieldTracker | undefined,
): number {
  let logs = 0;
  const ranges: number[] = [];
  try {
    if (opened.mode === 'log') {
      const g = groupPart(opened.topic, opened.source, opened.logTags);
      for (const r of opened.records) {
        src = Buffer.isBuffer(r.contents) ? r.contents : Buffer.from(r.contents.buffer, r.contents.byteOffset, r.contents.byteLength);
        at = 0;
        ranges.length = 0;
        const { time } = scanLog(src.length, ranges);
        if (time !== undefined) throw new NotFastPath();
        emit(ranges, r.time, r.timeNs, g, format, keep, out, fields);
        logs++;
      }
      return logs;
    }
    for (const r of opened.records) {
      src = Buffer.isBuffer(r.plaintext) ? r.plaintext : Buffer.from(r.plaintext.buffer, r.plaintext.byteOffset, r.plaintext.byteLength);
      // Topic, Source and LogTags follow the Logs: find them first.
      let topic: string | undefined;
      let source: string | undefined;
      const tags: LogTag[] = [];
      const logStarts: number[] = [];
      at = 0;
      const end = src.length;
      while (at < end) {
        const key = varint(end);
        if (key === 0x0a) {
          const stop = lengthEnd(end);
          logStarts.push(at, stop);
          at = stop;
        } else if (key === 0x1a || key === 0x22) {
          const stop = lengthEnd(end);
          const s = readUtf8(src, at, stop);
          if (key === 0x1a) topic = s;
          else source = s;
          at = stop;
        } else if (key === 0x32) {
          const stop = lengthEnd(end);
          const t: number[] = [];
          pair(stop, t);
          tags.push({ key: readUtf8(src, t[0]!, t[1]!), value: readUtf8(src, t[2]!, t[3]!) });
          at = stop;
        } else if (key >>> 3 >= 1 && key >>> 3 <= 6 && (key & 7) !== 2) throw new NotFastPath();
        else if (key >>> 3 === 0) throw new NotFastPath();
        else skip(key, end);
      }
      const g = groupPart(topic, source, tags);
      let minTime = Infinity;
      for (let k = 0; k < logStarts.length; k += 2) {
        at = logStarts[k]!;
        ranges.length = 0;
        const { time, timeNs } = scanLog(logStarts[k + 1]!, ranges);
        if (time === undefined) throw new NotFastPath();
        if (time < minTime) minTime = time;
        emit(ranges, time, timeNs, g, format, keep, out, fields);
        logs++;
      }
      if (logStarts.length > 0 && minTime !== r.time) throw new NotFastPath();
    }
    return logs;
  } finally {
    src = EMPTY; // do not keep the plaintext alive
  }
}
