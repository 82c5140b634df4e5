// The GetLogs query made from --where: token terms only where they cannot lose a match, `*` for everything else.
import { describe, expect, it } from 'vitest';
import { parseWhere } from '../../agent/decrypt/where.js';
import { narrowingQuery, type Narrowing } from '../../agent/search/index.js';
import { shippedGroupOf } from '../../agent/search/shipped-log.js';

const n = (guardUnindexed = false): Narrowing => ({ indexed: new Set(['user', 'level']), token: (f, v) => `${f}.${v}`, guardUnindexed });
const q = (where: string, guard = false) => narrowingQuery(parseWhere(where), n(guard));

describe('narrowingQuery', () => {
  it('turns string equalities on indexed fields into token terms, combined by and/or', () => {
    expect(q('user = "a"')).toBe('__bi_user__: user.a');
    expect(q('user = "a" and level = "x"')).toBe('(__bi_user__: user.a and __bi_level__: level.x)');
    expect(q('user = "a" or level = "x"')).toBe('(__bi_user__: user.a or __bi_level__: level.x)');
    expect(q('user in ("a", "b", "a")')).toBe('(__bi_user__: user.a or __bi_user__: user.b)');
  });

  it('lets anything that cannot narrow match every shipped log, for its subtree only', () => {
    for (const where of ['msg = "a"', 'user != "a"', 'user ~ "a"', 'user = 5', 'not user = "a"', 'user > "a"', 'user in ("a", 5)', '__topic__ = "a"']) {
      expect(q(where), where).toBe('*');
    }
    expect(q('user = "a" and msg = "b"')).toBe('__bi_user__: user.a');
    expect(q('user = "a" or msg = "b"')).toBe('*');
    expect(q('(user = "a" or msg = "b") and level = "x"')).toBe('__bi_level__: level.x');
    expect(q('not (user = "a" and level = "x")')).toBe('*');
  });

  it('admits groups that did not index the field when the __seal_bi__ tag is indexed', () => {
    expect(q('user = "a"', true)).toBe('(__bi_user__: user.a or not __tag__:__seal_bi__: "user")');
  });
});

describe('shippedGroupOf', () => {
  it('puts a GetLogs row back as the shipped group, header tags in FORMAT.md order whatever the JSON order', () => {
    const g = shippedGroupOf({
      '__tag__:env': 'prod',
      '__tag__:__seal_bi__': 'user',
      __bi_user__: 'tok',
      __raw__: '10',
      '__tag__:__seal_dk__': 'dk',
      '__tag__:__seal_mode__': 'log',
      __sealed__: 'rec',
      '__tag__:__seal_v__': '1',
      '__tag__:__seal_alg__': 'AES_256_GCM',
      '__tag__:__seal_cmk__': 'cmk',
      __time__: '1700000000',
      __time_ns_part__: '5',
      __topic__: 't',
      __source__: '',
    });
    expect(g).toEqual({
      topic: 't',
      logs: [{ time: 1_700_000_000, timeNs: 5, contents: [{ key: '__sealed__', value: 'rec' }, { key: '__raw__', value: '10' }, { key: '__bi_user__', value: 'tok' }] }],
      logTags: [
        { key: '__seal_v__', value: '1' },
        { key: '__seal_alg__', value: 'AES_256_GCM' },
        { key: '__seal_mode__', value: 'log' },
        { key: '__seal_cmk__', value: 'cmk' },
        { key: '__seal_dk__', value: 'dk' },
        { key: '__seal_bi__', value: 'user' },
        { key: 'env', value: 'prod' },
      ],
    });
  });
});
