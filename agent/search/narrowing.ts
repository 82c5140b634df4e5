// Turns a `--where` expression into a GetLogs query that can only narrow soundly: every log that matches the
// expression lies in a shipped Log the query returns (FORMAT.md "Searchable fields").
import type { WhereExpr } from '../decrypt/where.js';
import { INDEX_TAG, tokenContentKey } from '../seal/index.js';

export interface Narrowing {
  /** Fields whose `__bi_<field>__` key the Logstore's index searches. */
  indexed: ReadonlySet<string>;
  /** token(field, value) under the index key. */
  token: (field: string, value: string) => string;
  /**
   * Whether `__tag__:__seal_bi__` is indexed (separator `,`). Then a term also admits every shipped Log whose
   * group did not index the field (shipped before it was indexed, or by an agent without seal.index), which
   * carries no token of it and so could otherwise hide a match.
   */
  guardUnindexed: boolean;
}

/** `*` matches every shipped Log: what any subexpression that cannot narrow becomes. */
export const ALL = '*';

/**
 * The query for `expr`. An equality with a string on an indexed field is its token term; `in` of strings is the
 * `or` of their terms; `and`/`or` combine; anything else (other fields or operators, numbers, which compare
 * numerically, and `not` of anything) becomes `*` for its subtree.
 */
export function narrowingQuery(expr: WhereExpr, n: Narrowing): string {
  switch (expr.kind) {
    case 'and': {
      const l = narrowingQuery(expr.left, n);
      const r = narrowingQuery(expr.right, n);
      if (l === ALL) return r;
      if (r === ALL) return l;
      return `(${l} and ${r})`;
    }
    case 'or': {
      const l = narrowingQuery(expr.left, n);
      const r = narrowingQuery(expr.right, n);
      return l === ALL || r === ALL ? ALL : `(${l} or ${r})`;
    }
    case 'cmp':
      if (expr.op !== '=' || typeof expr.value !== 'string' || !n.indexed.has(expr.field)) return ALL;
      return termFor(expr.field, [expr.value], n);
    case 'in':
      if (!n.indexed.has(expr.field) || expr.values.some((v) => typeof v !== 'string')) return ALL;
      return termFor(expr.field, expr.values as string[], n);
    default:
      return ALL;
  }
}

function termFor(field: string, values: string[], n: Narrowing): string {
  const key = tokenContentKey(field);
  const terms = [...new Set(values.map((v) => `${key}: ${n.token(field, v)}`))];
  if (n.guardUnindexed) terms.push(`not __tag__:${INDEX_TAG}: "${field}"`);
  return terms.length === 1 ? terms[0] : `(${terms.join(' or ')})`;
}
