// Searchable fields (FORMAT.md "Searchable fields"): what a token is, and where a shipped group carries them.
import { createHmac } from 'node:crypto';
import type { LogTag } from '../wire/loggroup.js';

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
