// Searchable fields (FORMAT.md "Searchable fields"): the keyed equality tokens of indexed fields, read from encoded logs.
import { createHmac } from 'node:crypto';
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

// Tokens already computed on this thread, per field, keyed by the value's bytes as a latin1 string (one character
// per byte, so distinct bytes stay distinct). Fields such as a user or a status repeat a few values across
// thousands of logs; an HMAC per occurrence would cost more than sealing them. Bounded so that a field with
// unbounded distinct values (request ids) cannot grow it without limit.
const CACHE_LIMIT = 65_536;
let cache: { blob: string; fields: string; byField: Map<string, string>[]; size: number } | undefined;

function cacheFor(index: SearchIndex): Map<string, string>[] {
  const fields = index.fields.join('\0');
  if (!cache || cache.blob !== index.blob || cache.fields !== fields || cache.size > CACHE_LIMIT) {
    cache = { blob: index.blob, fields, byField: index.fields.map(() => new Map()), size: 0 };
  }
  return cache.byField;
}

/**
 * The `__bi_<field>__` contents of a shipped Log sealing logs [from, to) of an encoded group: for each indexed
 * field that occurs in those logs, in configured order, its distinct tokens in first-seen order joined by spaces.
 */
export function tokenContents(index: SearchIndex, bytes: Uint8Array, logs: readonly LogSpan[], from: number, to: number): LogContent[] {
  const fieldBytes = index.fields.map((f) => Buffer.from(f, 'utf8'));
  const byField = cacheFor(index);
  const seen: Set<string>[] = index.fields.map(() => new Set());
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let i = from; i < to; i++) {
    const log = logs[i];
    let p = log.contentsStart;
    while (p < log.contentsEnd) {
      // Content: 0x12 len { 0x0a keyLen key 0x12 valueLen value }
      p = readVarint(buf, p + 1);
      const end = p + value;
      p = readVarint(buf, p + 1);
      const keyStart = p;
      const keyEnd = p + value;
      p = readVarint(buf, keyEnd + 1);
      const valueStart = p;
      const valueEnd = p + value;
      p = end;
      for (let f = 0; f < fieldBytes.length; f++) {
        const name = fieldBytes[f];
        if (name.length !== keyEnd - keyStart || buf.compare(name, 0, name.length, keyStart, keyEnd) !== 0) continue;
        const id = buf.toString('latin1', valueStart, valueEnd);
        const known = byField[f];
        let token = known.get(id);
        if (token === undefined) {
          token = indexToken(index.key, name, buf.subarray(valueStart, valueEnd));
          known.set(id, token);
          cache!.size++;
        }
        seen[f].add(token);
      }
    }
  }
  const out: LogContent[] = [];
  index.fields.forEach((field, f) => {
    if (seen[f].size > 0) out.push({ key: tokenContentKey(field), value: [...seen[f]].join(' ') });
  });
  return out;
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
