// The `--where` language: grammar, precedence, every operator, and one-line errors that name the column.
import { describe, expect, it } from 'vitest';
import type { PlainLogLine } from '../../agent/decrypt/plain-log.js';
import { compileWhere, parseWhere, whereFields, WhereSyntaxError, type WhereExpr } from '../../agent/decrypt/where.js';

const log: PlainLogLine = {
  time: 1_700_000_000,
  time_ns: 5,
  topic: 'web',
  source: '10.0.0.7',
  tags: { env: 'prod', __path__: '/var/log/a.log' },
  contents: { level: 'ERROR', path: '/api/users', status: '503', user: 'carol', 'user.id': '42', ratio: '0.5', empty: '' },
};

const matches = (expr: string, l: PlainLogLine = log): boolean => compileWhere(parseWhere(expr))(l);

function syntaxError(expr: string): WhereSyntaxError {
  try {
    parseWhere(expr);
  } catch (err) {
    expect(err).toBeInstanceOf(WhereSyntaxError);
    return err as WhereSyntaxError;
  }
  throw new Error(`"${expr}" parsed`);
}

describe('parseWhere', () => {
  it('builds the agreed AST for each form', () => {
    expect(parseWhere('level = "ERROR"')).toEqual({ kind: 'cmp', field: 'level', op: '=', value: 'ERROR' });
    expect(parseWhere('status >= 500')).toEqual({ kind: 'cmp', field: 'status', op: '>=', value: 500 });
    expect(parseWhere('path ~ "^/api/"')).toEqual({ kind: 'match', field: 'path', regex: '^/api/' });
    expect(parseWhere('user in ("a", \'b\', 3)')).toEqual({ kind: 'in', field: 'user', values: ['a', 'b', 3] });
    expect(parseWhere('not user in ("a","b")')).toEqual({ kind: 'not', expr: { kind: 'in', field: 'user', values: ['a', 'b'] } });
    expect(parseWhere('user not in ("a")')).toEqual({ kind: 'not', expr: { kind: 'in', field: 'user', values: ['a'] } });
    expect(parseWhere('path !~ "x"')).toEqual({ kind: 'not', expr: { kind: 'match', field: 'path', regex: 'x' } });
    expect(parseWhere('`odd name` != -1.5e2')).toEqual({ kind: 'cmp', field: 'odd name', op: '!=', value: -150 });
    expect(parseWhere('__tag__:env = "prod"')).toEqual({ kind: 'cmp', field: '__tag__:env', op: '=', value: 'prod' });
  });

  it('binds not tighter than and, and tighter than or; parentheses override', () => {
    const a: WhereExpr = { kind: 'cmp', field: 'a', op: '=', value: 1 };
    const b: WhereExpr = { kind: 'cmp', field: 'b', op: '=', value: 2 };
    const c: WhereExpr = { kind: 'cmp', field: 'c', op: '=', value: 3 };
    expect(parseWhere('a = 1 or b = 2 and c = 3')).toEqual({ kind: 'or', left: a, right: { kind: 'and', left: b, right: c } });
    expect(parseWhere('(a = 1 or b = 2) and c = 3')).toEqual({ kind: 'and', left: { kind: 'or', left: a, right: b }, right: c });
    expect(parseWhere('not a = 1 and b = 2')).toEqual({ kind: 'and', left: { kind: 'not', expr: a }, right: b });
    expect(parseWhere('a = 1 and b = 2 and c = 3')).toEqual({ kind: 'and', left: { kind: 'and', left: a, right: b }, right: c });
    expect(parseWhere('A = 1 OR b = 2 AnD NOT c = 3')).toEqual({
      kind: 'or',
      left: { kind: 'cmp', field: 'A', op: '=', value: 1 },
      right: { kind: 'and', left: b, right: { kind: 'not', expr: c } },
    });
  });

  it('decodes string escapes', () => {
    expect(parseWhere('m = "a\\"b\\\\c\\n\\u00e9"')).toEqual({ kind: 'cmp', field: 'm', op: '=', value: 'a"b\\c\né' });
  });

  it.each([
    ['level = ', 9, 'expected a value after "=", got end of input'],
    ['level = "ERROR" and', 20, 'expected a field name, got end of input'],
    ['level == "x"', 8, 'expected a value after "=", got "="'],
    ['(a = 1', 7, 'expected ")" to close "(" at column 1, got end of input'],
    ['a = 1 b = 2', 7, 'expected "and", "or" or end of input, got "b"'],
    ['a = "open', 5, 'unterminated string'],
    ['a ? 1', 3, 'unexpected character "?"'],
    ['a 1', 3, 'expected an operator (= != < <= > >= ~ !~ in) after "a", got "1"'],
    ['a ~ 5', 5, 'expected a quoted regular expression after "~", got "5"'],
    ['a in "x"', 6, 'expected "(" after "in", got "\\"x\\""'.replace('\\"x\\"', '"x"')],
    ['a in ("x" "y")', 11, 'expected "," or ")" in the list, got "\\"y\\""'.replace('\\"y\\"', '"y"')],
    ['a not like 1', 7, 'expected "in" after "not", got "like"'],
    ['a = 5xx', 5, 'malformed number "5xx"'],
    ['a = "\\q"', 6, 'unknown escape "\\q" in string'],
    ['', 1, 'expected an expression, got end of input'],
  ])('rejects %j at column %i', (expr, column, detail) => {
    const err = syntaxError(expr);
    expect(err.column).toBe(column);
    expect(err.message).toBe(`--where: column ${column}: ${detail}`);
    expect(err.message).not.toContain('\n');
  });

  it('rejects an invalid regular expression at its column', () => {
    const err = syntaxError('path ~ "(unclosed"');
    expect(err.column).toBe(8);
    expect(err.message).toMatch(/^--where: column 8: invalid regular expression: /);
  });
});

describe('compileWhere', () => {
  it('compares strings and numbers with every operator', () => {
    expect(matches('level = "ERROR"')).toBe(true);
    expect(matches('level != "ERROR"')).toBe(false);
    expect(matches('status = 503')).toBe(true);
    expect(matches('status = "503"')).toBe(true);
    expect(matches('status >= 500')).toBe(true);
    expect(matches('status > 503')).toBe(false);
    expect(matches('status <= 503')).toBe(true);
    expect(matches('status < 1000')).toBe(true);
    // "503" < "60" as strings, 503 < 60 is false as numbers: the literal decides.
    expect(matches('status < "60"')).toBe(true);
    expect(matches('status < 60')).toBe(false);
    expect(matches('ratio > 0.25')).toBe(true);
    expect(matches('level > 5')).toBe(false);
    expect(matches('empty = 0')).toBe(false);
    expect(matches('empty = ""')).toBe(true);
  });

  it('matches regular expressions unanchored, and in-lists', () => {
    expect(matches('path ~ "^/api/"')).toBe(true);
    expect(matches('path ~ "users$"')).toBe(true);
    expect(matches('path !~ "users"')).toBe(false);
    expect(matches('user in ("alice", "carol")')).toBe(true);
    expect(matches('not user in ("a","b")')).toBe(true);
    expect(matches('status in (404, 503)')).toBe(true);
    expect(matches('user not in ("carol")')).toBe(false);
  });

  it('evaluates and/or/not with precedence', () => {
    expect(matches('level = "ERROR" and path ~ "^/api/"')).toBe(true);
    expect(matches('level = "INFO" or status >= 500 and user = "carol"')).toBe(true);
    expect(matches('(level = "INFO" or status >= 500) and user = "bob"')).toBe(false);
    expect(matches('not level = "INFO" and not user = "bob"')).toBe(true);
  });

  it('treats a field the log does not have as not matching, so not of it matches', () => {
    expect(matches('missing = "x"')).toBe(false);
    expect(matches('missing != "x"')).toBe(false);
    expect(matches('not missing = "x"')).toBe(true);
    expect(matches('missing ~ ""')).toBe(false);
  });

  it('addresses topic, source, time and tags with __ names', () => {
    expect(matches('__topic__ = "web" and __source__ = "10.0.0.7"')).toBe(true);
    expect(matches('__time__ >= 1700000000 and __time__ < 1700000001')).toBe(true);
    expect(matches('__tag__:env = "prod" and __tag__:__path__ ~ "a\\\\.log$"')).toBe(true);
    expect(matches('__tag__:absent = ""')).toBe(false);
    expect(matches('user.id = 42')).toBe(true);
  });
});

describe('whereFields', () => {
  it('lists each field once in order of first use', () => {
    expect(whereFields(parseWhere('b = 1 and (a ~ "x" or not b in (2)) or __tag__:k = "v"'))).toEqual(['b', 'a', '__tag__:k']);
  });
});
