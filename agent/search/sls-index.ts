// The SLS index that makes searchable fields searchable: a text index on each `__bi_<field>__` key (separator
// space) and on the `__seal_bi__` tag (separator `,`), which tells which fields a shipped group indexed.
import { INDEX_TAG, tokenContentKey } from '../seal/index.js';
import { TEXT_KEY_INDEX, type SlsClient } from '../ship/index.js';

/** The index key of the tag listing a group's indexed fields. */
export const INDEX_TAG_KEY = `__tag__:${INDEX_TAG}`;
const FIELD_LIST_INDEX = { type: 'text', token: [','], caseSensitive: false } as const;

/** Creates the Logstore's index on these keys, or adds the missing ones to the index it has; returns the keys added. */
export async function ensureTokenIndex(sls: SlsClient, logstore: string, fields: readonly string[]): Promise<string[]> {
  const wanted: Record<string, unknown> = { [INDEX_TAG_KEY]: FIELD_LIST_INDEX };
  for (const f of fields) wanted[tokenContentKey(f)] = TEXT_KEY_INDEX;
  const current = await sls.getIndexKeys(logstore);
  const missing = Object.keys(wanted).filter((k) => current === undefined || !(k in current));
  if (missing.length === 0) return [];
  // An update replaces the whole index: the keys it has keep their settings.
  const keys: Record<string, unknown> = { ...(current ?? {}) };
  for (const k of missing) keys[k] = wanted[k];
  await sls.putIndex(logstore, keys, current !== undefined);
  return missing;
}
