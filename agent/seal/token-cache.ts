// Tokens of searchable fields computed with node:crypto and kept in a per-thread cache: the path used when the
// addon cannot compute them itself (no addon, or no OpenSSL reachable from it; see native-tokens.ts).
import { nativeAddon } from '../native/addon.js';
import { contentSpans, type LogSpan } from './encoded-group.js';
import { indexToken, type SearchIndex } from './search-token.js';

// Tokens already computed on this thread, per field, found by a hash of the value's bytes without making a string
// of them. Fields such as a user or a status repeat a few values across thousands of logs; an HMAC (or even a string
// and a Map lookup by it) per occurrence would cost more than sealing them. Bounded so that a field with unbounded
// distinct values (request ids) cannot grow it without limit.
const CACHE_LIMIT = 65_536;

interface Known {
  bytes: Uint8Array;
  /** The token as its 32 ASCII bytes: copied into the content, which is written verbatim, never re-encoded. */
  token: Buffer;
  /** The last call that saw this value: a value counts once per shipped Log. */
  mark: number;
  /** Another value with the same hash. */
  next: Known | undefined;
}

let cache: { blob: string; fields: string; byField: Map<number, Known>[]; size: number } | undefined;
let calls = 0;

function cacheFor(index: SearchIndex): Map<number, Known>[] {
  const fields = index.fields.join('\0');
  if (!cache || cache.blob !== index.blob || cache.fields !== fields || cache.size > CACHE_LIMIT) {
    cache = { blob: index.blob, fields, byField: index.fields.map(() => new Map()), size: 0 };
  }
  return cache.byField;
}

/** FNV-1a of b[start, end), folded into a small integer (a cheap Map key). */
function hashBytes(b: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return h & 0x3fffffff;
}

function sameBytes(a: Uint8Array, b: Uint8Array, start: number, end: number): boolean {
  if (a.length !== end - start) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[start + i]) return false;
  return true;
}

/** The native scan of distinct values (field-values.c), when the addon is built. */
const fieldValues = nativeAddon?.fieldValues;
export const nativeValueScan = fieldValues !== undefined;

/**
 * For each indexed field, in configured order, its distinct tokens in logs [from, to) in first-seen order joined by
 * spaces, or undefined when the field does not occur there. `values` scans with the addon (falling back to `js`
 * when it is not built), `js` in JavaScript.
 */
export function cachedTokenLists(
  index: SearchIndex,
  bytes: Uint8Array,
  logs: readonly LogSpan[],
  from: number,
  to: number,
  scan: 'values' | 'js',
): (Uint8Array | undefined)[] {
  const names = index.fields.map((f) => Buffer.from(f, 'utf8'));
  const byField = cacheFor(index);
  const mark = ++calls;
  const found: Buffer[][] = index.fields.map(() => []);
  if (!(scan === 'values' && fieldValues && scanNatively(index, names, byField, found, bytes, logs, from, to))) scanInJs(index, names, byField, mark, found, bytes, logs, from, to);
  return found.map((tokens) => (tokens.length > 0 ? joinTokens(tokens) : undefined));
}

const SPACE = 0x20;

/** Tokens joined by single spaces, as bytes. */
function joinTokens(tokens: Buffer[]): Buffer {
  const out = Buffer.allocUnsafe(tokens.length * 33 - 1);
  let p = 0;
  for (const t of tokens) {
    if (p > 0) out[p++] = SPACE;
    out.set(t, p);
    p += t.length;
  }
  return out;
}

/** The token of (field f, bytes[start, end)), from the cache or computed and cached. */
function tokenOf(index: SearchIndex, name: Buffer, known: Map<number, Known>, bytes: Uint8Array, start: number, end: number): Known {
  const h = hashBytes(bytes, start, end);
  let k = known.get(h);
  while (k !== undefined && !sameBytes(k.bytes, bytes, start, end)) k = k.next;
  if (k === undefined) {
    const v = bytes.slice(start, end);
    k = { bytes: v, token: Buffer.from(indexToken(index.key, name, v), 'latin1'), mark: 0, next: known.get(h) };
    known.set(h, k);
    cache!.size++;
  }
  return k;
}

// The native scan walks every Content in C and hands back only the distinct values of the fields; JavaScript then
// looks up a few thousand values per batch instead of every occurrence.
let triples = new Uint32Array(0);

function scanNatively(
  index: SearchIndex,
  names: Buffer[],
  byField: Map<number, Known>[],
  found: Buffer[][],
  bytes: Uint8Array,
  logs: readonly LogSpan[],
  from: number,
  to: number,
): boolean {
  const count = to - from;
  if (triples.length < 3 * count * names.length) triples = new Uint32Array(3 * count * names.length);
  const nameEnds = new Uint32Array(names.length);
  names.reduce((end, n, f) => (nameEnds[f] = end + n.length), 0);
  const n = fieldValues!(bytes, contentSpans(logs, from, to), Buffer.concat(names), nameEnds, triples);
  if (n < 0) return false;
  for (let t = 0; t < n; t++) {
    const f = triples[3 * t];
    found[f].push(tokenOf(index, names[f], byField[f], bytes, triples[3 * t + 1], triples[3 * t + 2]).token);
  }
  return true;
}

/** The same scan in JavaScript, for when the addon is not built. */
function scanInJs(
  index: SearchIndex,
  names: Buffer[],
  byField: Map<number, Known>[],
  mark: number,
  found: Buffer[][],
  bytes: Uint8Array,
  logs: readonly LogSpan[],
  from: number,
  to: number,
): void {
  const first = names.map((n) => (n.length > 0 ? n[0] : -1));
  for (let i = from; i < to; i++) {
    const log = logs[i];
    let p = log.contentsStart;
    while (p < log.contentsEnd) {
      // Content: 0x12 len { 0x0a keyLen key 0x12 valueLen value }; lengths under 128 take one byte.
      let n = bytes[p + 1];
      p = n < 0x80 ? p + 2 : readVarint(bytes, p + 1);
      const end = p + (n < 0x80 ? n : value);
      n = bytes[p + 1];
      const keyStart = n < 0x80 ? p + 2 : readVarint(bytes, p + 1);
      const keyEnd = keyStart + (n < 0x80 ? n : value);
      p = end;
      for (let f = 0; f < names.length; f++) {
        if (bytes[keyStart] !== first[f] || !sameBytes(names[f], bytes, keyStart, keyEnd)) continue;
        n = bytes[keyEnd + 1];
        const valueStart = n < 0x80 ? keyEnd + 2 : readVarint(bytes, keyEnd + 1);
        const valueEnd = valueStart + (n < 0x80 ? n : value);
        const k = tokenOf(index, names[f], byField[f], bytes, valueStart, valueEnd);
        if (k.mark !== mark) {
          k.mark = mark;
          found[f].push(k.token);
        }
      }
    }
  }
}

// Reading is synchronous: the varint just read is left here rather than in a tuple allocated per call.
let value = 0;

function readVarint(b: Uint8Array, p: number): number {
  let v = 0;
  for (let scale = 1; ; scale *= 128) {
    const byte = b[p++];
    v += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      value = v;
      return p;
    }
  }
}
