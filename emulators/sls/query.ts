// The GetLogs query subset the emulator serves: `key: value` terms on indexed keys, and/or/not, parentheses, `*`.
import { SlsApiError } from './errors.js';
import { tokenize, type IndexConfig } from './index-config.js';

export type Query =
  | { kind: 'all' }
  | { kind: 'term'; key: string; value: string }
  | { kind: 'and' | 'or'; left: Query; right: Query }
  | { kind: 'not'; expr: Query };

/** A log as the query sees it: every content and `__tag__:<key>` entry, values by key. */
export type Fields = Map<string, string[]>;

type Tok = { t: '(' | ')' | '*' | ':' } | { t: 'word'; v: string; quoted: boolean };

function lex(source: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === '*' || c === ':') {
      // `*` alone is the match-all; as a prefix or suffix of a word it would be a wildcard, which is not served.
      if (c === '*' && i + 1 < source.length && !/[\s()]/.test(source[i + 1])) throw bad(`wildcards are not supported (column ${i + 1})`);
      out.push({ t: c });
      i++;
    } else if (c === '"') {
      const end = source.indexOf('"', i + 1);
      if (end < 0) throw bad(`unterminated quote at column ${i + 1}`);
      out.push({ t: 'word', v: source.slice(i + 1, end), quoted: true });
      i = end + 1;
    } else {
      let j = i;
      while (j < source.length && !/[\s()":]/.test(source[j])) j++;
      // `__tag__:<key>` names a tag: its colon belongs to the key.
      if (source.slice(i, j) === '__tag__' && source[j] === ':') {
        j++;
        while (j < source.length && !/[\s()":]/.test(source[j])) j++;
      }
      const word = source.slice(i, j);
      if (/[*?]/.test(word)) throw bad(`wildcards are not supported ("${word}")`);
      out.push({ t: 'word', v: word, quoted: false });
      i = j;
    }
  }
  return out;
}

function bad(message: string): SlsApiError {
  return new SlsApiError('ParameterInvalid', `query: ${message}.`);
}

/**
 * Parses a query. Precedence, tightest first: parentheses, unary `not`, `and` (also between adjacent terms and
 * as binary `a not b` = `a and not b`), `or`. Keywords are case-insensitive.
 */
export function parseQuery(source: string): Query {
  const toks = lex(source);
  let p = 0;
  const keyword = (k: string): boolean => {
    const tok = toks[p];
    return tok?.t === 'word' && !tok.quoted && tok.v.toLowerCase() === k;
  };
  const startsOperand = (): boolean => {
    const tok = toks[p];
    return tok !== undefined && (tok.t === '(' || tok.t === '*' || (tok.t === 'word' && !keyword('and') && !keyword('or')));
  };
  const or = (): Query => {
    let left = and();
    while (keyword('or')) {
      p++;
      left = { kind: 'or', left, right: and() };
    }
    return left;
  };
  const and = (): Query => {
    let left = unary();
    for (;;) {
      if (keyword('and')) {
        p++;
        left = { kind: 'and', left, right: unary() };
      } else if (keyword('not')) {
        p++;
        left = { kind: 'and', left, right: { kind: 'not', expr: unary() } };
      } else if (startsOperand()) {
        left = { kind: 'and', left, right: unary() };
      } else {
        return left;
      }
    }
  };
  const unary = (): Query => {
    if (keyword('not')) {
      p++;
      return { kind: 'not', expr: unary() };
    }
    return primary();
  };
  const primary = (): Query => {
    const tok = toks[p++];
    if (tok === undefined) throw bad('unexpected end of query');
    if (tok.t === '*') return { kind: 'all' };
    if (tok.t === '(') {
      const inner = or();
      if (toks[p++]?.t !== ')') throw bad('missing )');
      return inner;
    }
    if (tok.t === 'word' && !tok.quoted && toks[p]?.t === ':') {
      p++;
      const value = toks[p++];
      if (value?.t !== 'word') throw bad(`expected a value after "${tok.v}:"`);
      return { kind: 'term', key: tok.v, value: value.v };
    }
    throw bad(tok.t === 'word' ? `full-text terms are not supported, use key: value ("${tok.v}")` : `unexpected "${tok.t}"`);
  };
  if (toks.length === 0) return { kind: 'all' };
  const q = or();
  if (p !== toks.length) throw bad('unexpected text after the query');
  return q;
}

/**
 * Whether a log matches. A term matches when every token of its value is among the tokens of the key's
 * values; a key without an index never matches (SLS only searches indexed keys).
 */
export function matches(q: Query, fields: Fields, index: IndexConfig): boolean {
  switch (q.kind) {
    case 'all':
      return true;
    case 'and':
      return matches(q.left, fields, index) && matches(q.right, fields, index);
    case 'or':
      return matches(q.left, fields, index) || matches(q.right, fields, index);
    case 'not':
      return !matches(q.expr, fields, index);
    case 'term': {
      const key = index.keys[q.key];
      const values = fields.get(q.key);
      if (!key || !values) return false;
      const wanted = tokenize(q.value, key);
      if (wanted.length === 0) return false;
      const have = new Set(values.flatMap((v) => tokenize(v, key)));
      return wanted.every((t) => have.has(t));
    }
  }
}
