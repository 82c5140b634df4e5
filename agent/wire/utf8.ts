// UTF-8 sizing, writing and reading for the LogGroup codec, tuned for the many short keys a LogGroup holds.
import { isUtf8 } from 'node:buffer';

// Below this many UTF-16 units a JS loop beats the call into C++ that Buffer's UTF-8 routines cost;
// above it the native routines win. Measured with native-bench/codec.ts.
const SHORT = 32;

// Buffer's own utf8Write/utf8Slice skip the argument checking of write()/toString(), which costs as much
// as the copy for a 200-byte line (protobufjs relies on them too). Fall back if a runtime lacks them.
type NodeBuffer = Buffer & { utf8Write?: (s: string, offset: number, max: number) => number; utf8Slice?: (start: number, end: number) => string };
const proto = Buffer.prototype as NodeBuffer;
const utf8Write: (buf: Buffer, s: string, offset: number, max: number) => number =
  typeof proto.utf8Write === 'function'
    ? (buf, s, offset, max) => (buf as NodeBuffer).utf8Write!(s, offset, max)
    : (buf, s, offset, max) => buf.write(s, offset, max, 'utf8');
const utf8Slice: (buf: Buffer, start: number, end: number) => string =
  typeof proto.utf8Slice === 'function'
    ? (buf, start, end) => (buf as NodeBuffer).utf8Slice!(start, end)
    : (buf, start, end) => buf.toString('utf8', start, end);

/** Byte length of `s` in UTF-8; a lone surrogate counts as U+FFFD (3 bytes), as Buffer writes it. */
export function utf8Length(s: string): number {
  const n = s.length;
  if (n > SHORT) return Buffer.byteLength(s, 'utf8');
  let len = n;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) len += 1;
    else if ((c & 0xfc00) === 0xd800 && i + 1 < n && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      i++; // a surrogate pair: 2 units, 4 bytes
      len += 2;
    } else len += 2;
  }
  return len;
}

/** Writes `s` (whose UTF-8 length is `len`) at `pos`; returns the position after it. */
export function writeUtf8(buf: Buffer, pos: number, s: string, len: number): number {
  const n = s.length;
  if (n > SHORT) return pos + utf8Write(buf, s, pos, len);
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[pos++] = c;
    } else if (c < 0x800) {
      buf[pos++] = 0xc0 | (c >> 6);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else if ((c & 0xfc00) === 0xd800 && i + 1 < n && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      c = 0x10000 + ((c & 0x3ff) << 10) + (s.charCodeAt(++i) & 0x3ff);
      buf[pos++] = 0xf0 | (c >> 18);
      buf[pos++] = 0x80 | ((c >> 12) & 0x3f);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else {
      if ((c & 0xf800) === 0xd800) c = 0xfffd; // lone surrogate
      buf[pos++] = 0xe0 | (c >> 12);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    }
  }
  return pos;
}

/** Decodes bytes [start, end) as UTF-8, replacing invalid sequences with U+FFFD (like protobuf `string`). */
export function readUtf8(buf: Buffer, start: number, end: number): string {
  if (end - start > SHORT) return utf8Slice(buf, start, end);
  let s = '';
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c >= 0x80) return utf8Slice(buf, start, end); // rare in keys: let the native decoder handle it
    s += String.fromCharCode(c);
  }
  return s;
}

/**
 * Decodes bytes [start, end) as text when they are valid UTF-8, and otherwise returns a copy of the raw
 * bytes: a value that was not text on the way in must come back byte for byte. A leading BOM is kept.
 */
export function readUtf8OrBytes(buf: Buffer, start: number, end: number): string | Uint8Array {
  const s = readUtf8(buf, start, end);
  // The decoder turns every invalid sequence into U+FFFD, so text without one was valid; only text
  // with one (rare) needs the strict check to tell a real U+FFFD from a replaced byte.
  if (s.indexOf('\uFFFD') === -1) return s;
  const bytes = buf.subarray(start, end);
  return isUtf8(bytes) ? s : new Uint8Array(bytes);
}
