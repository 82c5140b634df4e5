// A Logstore's index configuration (CreateIndex / UpdateIndex / GetIndex): which keys GetLogs can search, and how.
import { z } from 'zod';
import { SlsApiError } from './errors.js';

export interface KeyIndex {
  type: 'text';
  /** Separator characters: a value is split at any of them into tokens. */
  token: string[];
  caseSensitive: boolean;
}

export interface IndexConfig {
  keys: Record<string, KeyIndex>;
  /** Full-text index settings; stored and returned, not searched (only `key: value` terms are). */
  line?: Record<string, unknown>;
}

const keyIndex = z
  .object({
    type: z.literal('text'),
    token: z.array(z.string().length(1)).min(1),
    caseSensitive: z.boolean().default(false),
  })
  .passthrough();

const indexBody = z
  .object({
    keys: z.record(z.string().min(1).max(128), keyIndex).default({}),
    line: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough();

/** Validates a CreateIndex / UpdateIndex body; only text keys are served. */
export function parseIndexBody(body: unknown): IndexConfig {
  const r = indexBody.safeParse(body);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new SlsApiError('ParameterInvalid', `index config: ${issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'invalid'}.`);
  }
  const keys: Record<string, KeyIndex> = {};
  for (const [k, v] of Object.entries(r.data.keys)) keys[k] = { type: 'text', token: v.token, caseSensitive: v.caseSensitive };
  return { keys, ...(r.data.line ? { line: r.data.line } : {}) };
}

/** The tokens of `value` as an index on the key sees them (case-folded unless the key is case-sensitive). */
export function tokenize(value: string, key: KeyIndex): string[] {
  let tokens: string[] = [value];
  for (const sep of key.token) tokens = tokens.flatMap((t) => t.split(sep));
  tokens = tokens.filter((t) => t !== '');
  return key.caseSensitive ? tokens : tokens.map((t) => t.toLowerCase());
}
