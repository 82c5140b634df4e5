// Searchable fields (FORMAT.md "Searchable fields"): the `__bi_<field>__` contents of a shipped Log, from encoded logs.
import type { LogContent } from '../wire/loggroup.js';
import type { LogSpan } from './encoded-group.js';
import { nativeTokenLists, nativeTokens } from './native-tokens.js';
import { tokenContentKey, type SearchIndex } from './search-token.js';
import { cachedTokenLists, nativeValueScan } from './token-cache.js';

export { INDEX_TAG, indexTag, indexToken, tokenContentKey, type SearchIndex } from './search-token.js';

/**
 * How tokens are computed on this thread: `native` (the addon scans, computes and caches them), `values` (the addon
 * scans the distinct values, node:crypto computes the tokens), `js` (all in JavaScript).
 */
export type TokenPath = 'native' | 'values' | 'js';

export const tokenPath: TokenPath = nativeTokens ? 'native' : nativeValueScan ? 'values' : 'js';

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
  /** Another path than this thread's best, where it is available: tests compare them. */
  path: TokenPath = tokenPath,
): LogContent[] {
  const lists =
    path === 'native' && nativeTokens ? nativeTokenLists(index, bytes, logs, from, to) : cachedTokenLists(index, bytes, logs, from, to, path === 'js' ? 'js' : 'values');
  const out: LogContent[] = [];
  index.fields.forEach((field, f) => {
    const list = lists[f];
    if (list !== undefined) out.push({ key: tokenContentKey(field), value: list });
  });
  return out;
}
