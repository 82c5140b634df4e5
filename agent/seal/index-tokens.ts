// Searchable fields (FORMAT.md "Searchable fields"): the keyed equality tokens of indexed fields, read from encoded logs.
import { createHmac } from 'node:crypto';
import { nativeAddon } from '../native/addon.js';
import type { LogContent, LogTag } from '../wire/loggroup.js';
import type { LogSpan } from './encoded-group.js';

/** The index key (KMS Decrypt of `seal.indexKey`) and the fields it indexes, in configured order. */
export interface SearchIndex {
  key: Uint8Array;
  fields: readonly string[];
  /** The key's CiphertextBlob: tells cached tokens of one key from another's, never the key itself. */
  blob: string;
}

/** The tag every indexed shipped LogGroup carries after the header tags. */
export const INDEX_TAG = '__seal_bi__';

/** `__bi_<field>__`: the shipped content holding a field's tokens. */
export function tokenContentKey(field: string): string {
  return `__bi_${field}__`;
}

export function indexTag(fields: readonly string[]): LogTag {
  return { key: INDEX_TAG, value: fields.join(',') };
}

/** token(field, value): lowercase hex of the first 16 bytes of HMAC-SHA256(key, UTF-8(field) || 0x00 || UTF-8(value)). */
export function indexToken(key: Uint8Array, field: string | Uint8Array, value: string | Uint8Array): string {
  const h = createHmac('sha256', key);
  h.update(typeof field === 'string' ? Buffer.from(field, 'utf8') : field);
  h.update(ZERO);
  h.update(typeof value === 'string' ? Buffer.from(value, 'utf8') : value);
  return h.digest().subarray(0, 16).toString('hex');
}

const ZERO = new Uint8Array(1);

// Tokens already computed on this thread, per field, found by a hash of the value's bytes without making a string
// of them. Fields such as a user or a status repeat a few values across thousands of logs; an HMAC (or even a string
// and a Map lookup by it) per occurrence would cost more than sealing them. Bounded so that a field with unbounded
// distinct values (request ids) cannot grow it without limit.
const CACHE_LIMIT = 65_536;

interface Known {
  bytes: Uint8Array;
  /** The token as its 32 ASCII bytes: copied into the content, which is written verbatim, never re-encoded. */
  token: Buffer;
  /** The last tokenContents call that saw this value: a value counts once per shipped Log. */
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

/**
 * The `__bi_<field>__` contents of a shipped Log sealing logs [from, to) of an encoded group: for each indexed
 * field that occurs in those logs, in configured order, its distinct tokens in first-seen order joined by spaces.
 */
export function tokenContents(
  index: SearchIndex,
  bytes: Uint8Array,
  logs: readonly LogSpan[],
  from: number,
  to: number,
  /** `js` skips the addon (tests compare the two). */
  scan: 'auto' | 'js' = 'auto',
): LogContent[] {
  const names = index.fields.map((f) => Buffer.from(f, 'utf8'));
  const byField = cacheFor(index);
  const mark = ++calls;
  const found: Buffer[][] = index.fields.map(() => []);
  if (!(scan === 'auto' && fieldValues && scanNatively(index, names, byField, found, bytes, logs, from, to))) scanInJs(index, names, byField, mark, found, bytes, logs, from, to);
  const out: LogContent[] = [];
  index.fields.forEach((field, f) => {
    if (found[f].length > 0) out.push({ key: tokenContentKey(field), value: joinTokens(found[f]) });
  });
  return out;
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

// The native scan (agent/native/field-values.c) walks every Content in C and hands back only the distinct values
// of the fields; JavaScript then looks up a few thousand values per batch instead of every occurrence.
const fieldValues = nativeAddon?.fieldValues;
let spans = new Uint32Array(0);
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
  if (spans.length < 2 * count) spans = new Uint32Array(2 * count);
  if (triples.length < 3 * count * names.length) triples = new Uint32Array(3 * count * names.length);
  for (let i = 0; i < count; i++) {
    spans[2 * i] = logs[from + i].contentsStart;
    spans[2 * i + 1] = logs[from + i].contentsEnd;
  }
  const nameEnds = new Uint32Array(names.length);
  names.reduce((end, n, f) => (nameEnds[f] = end + n.length), 0);
  const n = fieldValues!(bytes, spans.subarray(0, 2 * count), Buffer.concat(names), nameEnds, triples);
  if (n < 0) return false;
  for (let t = 0; t < n; t++) {
    const f = triples[3 * t];
    found[f].push(tokenOf(index, names[f], byField[f], bytes, triples[3 * t + 1], triples[3 * t + 2]).token);
  }
  return true;
}

/** The same scan in JavaScript, for when the addon is not built. */
export const nativeTokenScan = fieldValues !== undefined;

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
