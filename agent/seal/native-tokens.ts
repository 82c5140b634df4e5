// Tokens of searchable fields computed by the addon (field-tokens.c): scan, HMAC with precomputed SHA-256 states,
// per-thread cache and the joined lists, in one call per shipped Log.
import { nativeAddon } from '../native/addon.js';
import type { LogSpan } from './encoded-group.js';
import type { SearchIndex } from './search-token.js';

const addon = nativeAddon;

/** Whether this build computes tokens natively: the addon is built and reaches Node's OpenSSL SHA-256. */
export const nativeTokens: boolean = (() => {
  try {
    return addon !== undefined && addon.fieldTokensInit(new Uint8Array(32), new Uint8Array(0), new Uint32Array(0)) !== null;
  } catch {
    return false; // an addon built before fieldTokens existed
  }
})();

// The state for the index key in use on this thread (its HMAC states and cache of tokens), set again (in place, its
// memory kept) when the key (told by its blob) or the fields change.
let current: { blob: string; fields: string; state: object } | undefined;

function stateFor(index: SearchIndex): object {
  const fields = index.fields.join('\0');
  if (current?.blob !== index.blob || current.fields !== fields) {
    const names = index.fields.map((f) => Buffer.from(f, 'utf8'));
    const nameEnds = new Uint32Array(names.length);
    names.reduce((end, n, f) => (nameEnds[f] = end + n.length), 0);
    current = { blob: index.blob, fields, state: addon!.fieldTokensInit(index.key, Buffer.concat(names), nameEnds, current?.state)! };
  }
  return current.state;
}

let out = new Uint8Array(64 * 1024);
let lens = new Uint32Array(0);

/**
 * For each indexed field, in configured order, its distinct tokens in logs [from, to) in first-seen order joined by
 * spaces, or undefined when the field does not occur there. Only when `nativeTokens`.
 */
export function nativeTokenLists(index: SearchIndex, bytes: Uint8Array, logs: readonly LogSpan[], from: number, to: number): (Uint8Array | undefined)[] {
  const state = stateFor(index);
  if (lens.length < index.fields.length) lens = new Uint32Array(index.fields.length);
  // Logs [from, to) lie one after the other in the encoded group.
  const start = logs[from].start, end = logs[to - 1].end;
  let n = addon!.fieldTokens(state, bytes, start, end, out, lens);
  if (n < 0) {
    out = new Uint8Array(Math.max(-n, 2 * out.length));
    n = addon!.fieldTokens(state, bytes, start, end, out, lens);
  }
  const lists: (Uint8Array | undefined)[] = [];
  for (let f = 0, p = 0; f < index.fields.length; p += lens[f], f++) {
    // Copied: `out` is reused by the next call, the contents live until the shipped group is encoded.
    lists.push(lens[f] > 0 ? out.subarray(p, p + lens[f]).slice() : undefined);
  }
  return lists;
}
