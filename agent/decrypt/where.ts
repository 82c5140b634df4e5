// `--where EXPR`: the small filter language over decrypted fields: parser, AST, evaluator.
import type { PlainLogLine } from './plain-log.js';

/*
 * Grammar (keywords are case-insensitive):
 *   expr    := and ('or' and)*
 *   and     := unary ('and' unary)*
 *   unary   := 'not' unary | primary
 *   primary := '(' expr ')'
 *            | field ('=' | '!=' | '<' | '<=' | '>' | '>=') value
 *            | field ('~' | '!~') string
 *            | field ['not'] 'in' '(' value (',' value)* ')'
 *   field   := name ([A-Za-z_][A-Za-z0-9_.:@/-]*) | `quoted name`
 *   value   := "string" | 'string' | number
 */

export type CmpOp = '=' | '!=' | '<' | '<=' | '>' | '>=';
export type WhereValue = string | number;

export type WhereExpr =
  | { kind: 'cmp'; field: string; op: CmpOp; value: WhereValue }
  | { kind: 'match'; field: string; regex: string }
  | { kind: 'in'; field: string; values: WhereValue[] }
  | { kind: 'and' | 'or'; left: WhereExpr; right: WhereExpr }
  | { kind: 'not'; expr: WhereExpr };

/** A `--where` expression that does not parse; the message is one line naming the 1-based column. */
export class WhereSyntaxError extends Error {
  override readonly name = 'WhereSyntaxError';
  constructor(
    readonly column: number,
    detail: string,
  ) {
    super(`--where: column ${column}: ${detail}`);
  }
}

type TokenKind = 'name' | 'string' | 'number' | 'op' | 'lparen' | 'rparen' | 'comma' | 'end';
interface Token {
  kind: TokenKind;
  text: string;
  /** Decoded value of a string or number token. */
  value?: WhereValue;
  column: number;
}

const OPS = ['<=', '>=', '!=', '!~', '=', '<', '>', '~'] as const;
const NAME_START = /[A-Za-z_]/;
const NAME_PART = /[A-Za-z0-9_.:@/-]/;
const NUMBER = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/;
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", '/': '/', '`': '`', '0': '\0' };

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i]!;
    const column = i + 1;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '(' || ch === ')' || ch === ',') {
      tokens.push({ kind: ch === '(' ? 'lparen' : ch === ')' ? 'rparen' : 'comma', text: ch, column });
      i++;
    } else if (ch === '"' || ch === "'" || ch === '`') {
      const { text, end } = readQuoted(src, i);
      tokens.push({ kind: ch === '`' ? 'name' : 'string', text: src.slice(i, end), value: text, column });
      i = end;
    } else if (NUMBER.test(src.slice(i)) && (ch !== '-' || /[\d.]/.test(src[i + 1] ?? ''))) {
      const text = NUMBER.exec(src.slice(i))![0];
      if (NAME_PART.test(src[i + text.length] ?? '') && src[i + text.length] !== '-') {
        throw new WhereSyntaxError(column, `malformed number "${src.slice(i).split(/[\s(),]/)[0]}"`);
      }
      tokens.push({ kind: 'number', text, value: Number(text), column });
      i += text.length;
    } else if (NAME_START.test(ch)) {
      let end = i + 1;
      while (end < src.length && NAME_PART.test(src[end]!)) end++;
      tokens.push({ kind: 'name', text: src.slice(i, end), value: src.slice(i, end), column });
      i = end;
    } else {
      const op = OPS.find((o) => src.startsWith(o, i));
      if (!op) throw new WhereSyntaxError(column, `unexpected character "${ch}"`);
      tokens.push({ kind: 'op', text: op, column });
      i += op.length;
    }
  }
  tokens.push({ kind: 'end', text: '', column: src.length + 1 });
  return tokens;
}

function readQuoted(src: string, start: number): { text: string; end: number } {
  const quote = src[start]!;
  let text = '';
  let i = start + 1;
  while (i < src.length) {
    const ch = src[i]!;
    if (ch === quote) return { text, end: i + 1 };
    if (ch === '\\') {
      const next = src[i + 1];
      if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(src.slice(i + 2, i + 6))) {
        text += String.fromCharCode(parseInt(src.slice(i + 2, i + 6), 16));
        i += 6;
        continue;
      }
      if (next === undefined || !(next in ESCAPES)) throw new WhereSyntaxError(i + 1, `unknown escape "\\${next ?? ''}" in string`);
      text += ESCAPES[next];
      i += 2;
      continue;
    }
    text += ch;
    i++;
  }
  throw new WhereSyntaxError(start + 1, `unterminated ${quote === '`' ? 'quoted name' : 'string'}`);
}

function describe(t: Token): string {
  return t.kind === 'end' ? 'end of input' : `"${t.text}"`;
}

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): WhereExpr {
    if (this.peek().kind === 'end') throw new WhereSyntaxError(1, 'expected an expression, got end of input');
    const expr = this.or();
    const t = this.peek();
    if (t.kind !== 'end') throw new WhereSyntaxError(t.column, `expected "and", "or" or end of input, got ${describe(t)}`);
    return expr;
  }

  private peek(): Token {
    return this.tokens[this.pos]!;
  }
  private next(): Token {
    return this.tokens[this.pos++]!;
  }
  private isKeyword(word: string, t = this.peek()): boolean {
    return t.kind === 'name' && t.text.toLowerCase() === word && t.text[0] !== '`';
  }

  private or(): WhereExpr {
    let left = this.and();
    while (this.isKeyword('or')) {
      this.next();
      left = { kind: 'or', left, right: this.and() };
    }
    return left;
  }

  private and(): WhereExpr {
    let left = this.unary();
    while (this.isKeyword('and')) {
      this.next();
      left = { kind: 'and', left, right: this.unary() };
    }
    return left;
  }

  private unary(): WhereExpr {
    if (this.isKeyword('not')) {
      this.next();
      return { kind: 'not', expr: this.unary() };
    }
    return this.primary();
  }

  private primary(): WhereExpr {
    const t = this.next();
    if (t.kind === 'lparen') {
      const inner = this.or();
      const close = this.next();
      if (close.kind !== 'rparen') throw new WhereSyntaxError(close.column, `expected ")" to close "(" at column ${t.column}, got ${describe(close)}`);
      return inner;
    }
    if (t.kind !== 'name' || ['and', 'or', 'in'].includes(t.text.toLowerCase()) && t.text[0] !== '`') {
      throw new WhereSyntaxError(t.column, `expected a field name, got ${describe(t)}`);
    }
    const field = t.value as string;
    if (field === '') throw new WhereSyntaxError(t.column, 'expected a field name, got an empty quoted name');
    const op = this.next();
    if (op.kind === 'op' && (op.text === '~' || op.text === '!~')) {
      const pattern = this.next();
      if (pattern.kind !== 'string') throw new WhereSyntaxError(pattern.column, `expected a quoted regular expression after "${op.text}", got ${describe(pattern)}`);
      try {
        new RegExp(pattern.value as string, 'u');
      } catch (err) {
        throw new WhereSyntaxError(pattern.column, `invalid regular expression: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`);
      }
      const match: WhereExpr = { kind: 'match', field, regex: pattern.value as string };
      return op.text === '~' ? match : { kind: 'not', expr: match };
    }
    if (op.kind === 'op') {
      return { kind: 'cmp', field, op: op.text as CmpOp, value: this.value(op) };
    }
    if (this.isKeyword('in', op)) return { kind: 'in', field, values: this.list(op) };
    if (this.isKeyword('not', op)) {
      const inTok = this.next();
      if (!this.isKeyword('in', inTok)) throw new WhereSyntaxError(inTok.column, `expected "in" after "not", got ${describe(inTok)}`);
      return { kind: 'not', expr: { kind: 'in', field, values: this.list(inTok) } };
    }
    throw new WhereSyntaxError(op.column, `expected an operator (= != < <= > >= ~ !~ in) after "${t.text}", got ${describe(op)}`);
  }

  private value(after: Token): WhereValue {
    const v = this.next();
    if (v.kind === 'string' || v.kind === 'number') return v.value!;
    throw new WhereSyntaxError(v.column, `expected a value after "${after.text}", got ${describe(v)}`);
  }

  private list(inTok: Token): WhereValue[] {
    const open = this.next();
    if (open.kind !== 'lparen') throw new WhereSyntaxError(open.column, `expected "(" after "${inTok.text}", got ${describe(open)}`);
    const values: WhereValue[] = [this.value(open)];
    for (;;) {
      const t = this.next();
      if (t.kind === 'rparen') return values;
      if (t.kind !== 'comma') throw new WhereSyntaxError(t.column, `expected "," or ")" in the list, got ${describe(t)}`);
      values.push(this.value(t));
    }
  }
}

/** Parses a `--where` expression; throws WhereSyntaxError (one line, with the column). */
export function parseWhere(source: string): WhereExpr {
  return new Parser(tokenize(source)).parse();
}

/** The distinct field names an expression reads, in order of first use. */
export function whereFields(expr: WhereExpr): string[] {
  const seen = new Set<string>();
  const walk = (e: WhereExpr): void => {
    switch (e.kind) {
      case 'and':
      case 'or':
        walk(e.left);
        walk(e.right);
        return;
      case 'not':
        walk(e.expr);
        return;
      default:
        seen.add(e.field);
    }
  };
  walk(expr);
  return [...seen];
}

/** Reads a field of one log: its value, or undefined when the log does not have it. */
export type FieldLookup = (field: string) => string | undefined;

/*
 * Semantics: a number literal compares numerically (a value that is not a number never matches); a string literal
 * compares as a string (`<` etc. by UTF-16 code units). A comparison, match or `in` on a field the log does not have
 * is false, so `not` of it is true. `~` is an unanchored JavaScript regular expression (flag u).
 */
export function compileWhereLookup(expr: WhereExpr): (get: FieldLookup) => boolean {
  switch (expr.kind) {
    case 'and': {
      const l = compileWhereLookup(expr.left);
      const r = compileWhereLookup(expr.right);
      return (get) => l(get) && r(get);
    }
    case 'or': {
      const l = compileWhereLookup(expr.left);
      const r = compileWhereLookup(expr.right);
      return (get) => l(get) || r(get);
    }
    case 'not': {
      const inner = compileWhereLookup(expr.expr);
      return (get) => !inner(get);
    }
    case 'match': {
      const re = new RegExp(expr.regex, 'u');
      const { field } = expr;
      return (get) => {
        const v = get(field);
        return v !== undefined && re.test(v);
      };
    }
    case 'in': {
      const tests = expr.values.map((value) => compare('=', value));
      const { field } = expr;
      return (get) => {
        const v = get(field);
        return v !== undefined && tests.some((t) => t(v));
      };
    }
    case 'cmp': {
      const test = compare(expr.op, expr.value);
      const { field } = expr;
      return (get) => {
        const v = get(field);
        return v !== undefined && test(v);
      };
    }
  }
}

function compare(op: CmpOp, literal: WhereValue): (v: string) => boolean {
  if (typeof literal === 'number') {
    return (v) => {
      if (v.trim() === '') return false;
      const n = Number(v);
      return !Number.isNaN(n) && holds(op, n, literal);
    };
  }
  return (v) => holds(op, v, literal);
}

function holds<T extends string | number>(op: CmpOp, a: T, b: T): boolean {
  switch (op) {
    case '=':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
  }
}

const TAG_PREFIX = '__tag__:';

/** The value of a field in a plaintext log: a content key, or `__topic__`, `__source__`, `__time__`, `__tag__:<k>`. */
export function plainField(log: PlainLogLine, field: string): string | undefined {
  if (field.startsWith('__')) {
    if (field === '__topic__') return log.topic;
    if (field === '__source__') return log.source;
    if (field === '__time__') return String(log.time);
    if (field.startsWith(TAG_PREFIX)) return Object.hasOwn(log.tags, field.slice(TAG_PREFIX.length)) ? log.tags[field.slice(TAG_PREFIX.length)] : undefined;
  }
  return Object.hasOwn(log.contents, field) ? log.contents[field] : undefined;
}

/** Compiles an expression into a predicate over plaintext logs. */
export function compileWhere(expr: WhereExpr): (log: PlainLogLine) => boolean {
  const test = compileWhereLookup(expr);
  return (log) => test((field) => plainField(log, field));
}
