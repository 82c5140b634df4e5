// Searchable fields (FORMAT.md): token() against known answers, and the exact place of tokens and tag in a shipped group.
import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { cipherFor } from '../../agent/seal/cipher.js';
import { scanGroup } from '../../agent/seal/encoded-group.js';
import { indexToken, tokenContents, tokenPath, type SearchIndex } from '../../agent/seal/index-tokens.js';
import { nativeAddon } from '../../agent/native/addon.js';
import { SealPool } from '../../agent/seal/pool.js';
import { openGroup, sealGroup, type DataKey, type SealTarget } from '../../agent/seal/record.js';
import { decodeLogGroup, encodeLogGroup, type LogGroup } from '../../agent/wire/loggroup.js';

const indexKey = Uint8Array.from({ length: 32 }, (_, i) => i); // 00 01 … 1f
const dataKey: DataKey = { algorithm: 'AES_256_GCM', plaintext: randomBytes(32), cmkId: 'cmk-1', blob: 'dk-blob' };
const index = (fields: string[]): SearchIndex => ({ key: indexKey, fields, blob: 'index-blob' });

/** An independent token: node:crypto's HMAC over the bytes FORMAT.md lists. */
function referenceToken(field: string, value: string): string {
  const mac = createHmac('sha256', Buffer.from(indexKey));
  mac.update(Buffer.concat([Buffer.from(field, 'utf8'), Buffer.from([0]), Buffer.from(value, 'utf8')]));
  return mac.digest('hex').slice(0, 32);
}

describe('token(field, value)', () => {
  it('matches known answers (computed with Python hmac) and an independent node:crypto HMAC', () => {
    const vectors: [string, string, string][] = [
      ['user', 'alice', '34d45cbc91de5ce7295b963a0e35627d'],
      ['content', '日志 line', '7affaad4d0ec4ffda6761b61f7de23c5'],
      ['user', '', '27c4674af6707ceaa5110850d7e8d6df'],
    ];
    for (const [field, value, expected] of vectors) {
      expect(indexToken(indexKey, field, value)).toBe(expected);
      expect(referenceToken(field, value)).toBe(expected);
    }
  });

  it('is 32 lowercase hex characters, and separates field from value', () => {
    expect(indexToken(indexKey, 'a', 'bc')).toMatch(/^[0-9a-f]{32}$/);
    expect(indexToken(indexKey, 'a', 'bc')).not.toBe(indexToken(indexKey, 'ab', 'c'));
    for (let i = 0; i < 50; i++) {
      const v = randomBytes(1 + (i % 20)).toString('base64');
      expect(indexToken(indexKey, 'f', Buffer.from(v))).toBe(referenceToken('f', v));
    }
  });
});

const plain: LogGroup = {
  topic: 't',
  source: 's',
  logTags: [{ key: 'env', value: 'prod' }],
  logs: [
    { time: 105, contents: [{ key: 'user', value: 'bob' }, { key: 'msg', value: 'one' }] },
    { time: 100, contents: [{ key: 'msg', value: 'two' }, { key: 'user', value: 'alice' }, { key: 'level', value: 'warn' }] },
    { time: 101, contents: [{ key: 'user', value: 'bob' }, { key: 'msg', value: 'three' }] },
    { time: 102, contents: [{ key: 'msg', value: 'no user here' }] },
  ],
};
const tokens = (field: string, values: string[]): string => values.map((v) => referenceToken(field, v)).join(' ');
const header = ['__seal_v__', '__seal_alg__', '__seal_mode__', '__seal_cmk__', '__seal_dk__'];

describe('a shipped group with searchable fields', () => {
  const cipher = cipherFor('AES_256_GCM');

  it('mode group: __bi_<field>__ after __sealed__ and __raw__, configured field order, distinct tokens in first-seen order', () => {
    const target: SealTarget = { project: 'p1', logstore: 'ls1', mode: 'group', zip: 'lz4' };
    // As shipped: encoded and decoded again (token contents are handed to the encoder as bytes).
    const shipped = decodeLogGroup(encodeLogGroup(sealGroup(plain, dataKey, target, cipher, { index: index(['level', 'user', 'absent']) })));
    expect(shipped.logTags.map((t) => t.key)).toEqual([...header, '__seal_zip__', '__seal_bi__']);
    expect(shipped.logTags.at(-1)!.value).toBe('level,user,absent');
    expect(shipped.logs).toHaveLength(1);
    expect(shipped.logs[0].contents.map((c) => c.key)).toEqual(['__sealed__', '__raw__', '__bi_level__', '__bi_user__']);
    expect(shipped.logs[0].contents[2].value).toBe(tokens('level', ['warn']));
    expect(shipped.logs[0].contents[3].value).toBe(tokens('user', ['bob', 'alice']));
    // A reader opens it as before; tokens and tag are not part of the plaintext.
    expect(openGroup(shipped, () => dataKey.plaintext, target)).toEqual([plain]);
  });

  it('mode log: one token content per log holding the field; __seal_bi__ between the header and the plaintext tags', () => {
    const target: SealTarget = { project: 'p1', logstore: 'ls1', mode: 'log', zip: 'none' };
    const shipped = decodeLogGroup(encodeLogGroup(sealGroup(plain, dataKey, target, cipher, { index: index(['user']) })));
    expect(shipped.logTags).toEqual([
      ...header.map((key, i) => ({ key, value: ['1', 'AES_256_GCM', 'log', 'cmk-1', 'dk-blob'][i] })),
      { key: '__seal_bi__', value: 'user' },
      { key: 'env', value: 'prod' },
    ]);
    expect(shipped.logs.map((l) => l.contents.map((c) => [c.key, c.key === '__sealed__' ? '' : c.value]))).toEqual([
      [['__sealed__', ''], ['__bi_user__', tokens('user', ['bob'])]],
      [['__sealed__', ''], ['__bi_user__', tokens('user', ['alice'])]],
      [['__sealed__', ''], ['__bi_user__', tokens('user', ['bob'])]],
      [['__sealed__', '']],
    ]);
    expect(openGroup(shipped, () => dataKey.plaintext, target)).toEqual([plain]);
  });

  it('without seal.index nothing is added', () => {
    const target: SealTarget = { project: 'p1', logstore: 'ls1', mode: 'group', zip: 'none' };
    const shipped = sealGroup(plain, dataKey, target, cipher);
    expect(shipped.logTags.map((t) => t.key)).not.toContain('__seal_bi__');
    expect(shipped.logs[0].contents.map((c) => c.key)).toEqual(['__sealed__', '__raw__']);
  });

  it('a reader refuses contents other than tokens beside the record', () => {
    const target: SealTarget = { project: 'p1', logstore: 'ls1', mode: 'group', zip: 'none' };
    const shipped = sealGroup(plain, dataKey, target, cipher);
    shipped.logs[0].contents.push({ key: 'user', value: 'x' });
    expect(() => openGroup(shipped, () => dataKey.plaintext, target)).toThrow(/__bi_<field>__/);
  });
});

describe('the native scan of field values', () => {
  it.runIf(tokenPath !== 'js')('gives the same tokens as the JavaScript scan on random groups', () => {
    const fields = ['user', 'u', 'level', 'x.y'];
    const pick = (xs: string[], i: number) => xs[i % xs.length];
    for (let round = 0; round < 30; round++) {
      const r = randomBytes(400);
      const logs = Array.from({ length: 1 + (r[0] % 60) }, (_, i) => ({
        time: 1_700_000_000 + r[i + 1],
        ...(r[i + 2] % 2 === 0 ? { timeNs: r[i + 3] * 3_000_000 } : {}),
        contents: Array.from({ length: r[i + 100] % 5 }, (_, j) => ({
          key: pick(['user', 'u', 'us', 'level', 'x.y', 'content', ''], r[i + j + 200]),
          value: r[i + j + 300] % 7 === 0 ? 'v'.repeat(200) : pick(['a', 'b', '', 'ünï', 'a b', 'A'], r[i + j + 150]),
        })),
      }));
      const bytes = encodeLogGroup({ logs, logTags: [] });
      const g = scanGroup(bytes);
      const idx = { key: indexKey, fields, blob: `cross-${round}` };
      for (const [from, to] of [[0, g.logs.length], [0, 1], [Math.floor(g.logs.length / 2), g.logs.length]]) {
        // As text: the paths hand back their bytes in Buffers or Uint8Arrays.
        const text = (path?: 'js' | 'values') =>
          tokenContents(idx, bytes, g.logs, from, to, path).map((c) => [c.key, Buffer.from(c.value as Uint8Array).toString('latin1')]);
        const js = text('js');
        expect(text('values'), `round ${round}`).toEqual(js);
        expect(text(), `round ${round}`).toEqual(js);
      }
    }
  });
});

describe('tokens computed by the addon (field-tokens.c)', () => {
  const native = tokenPath === 'native';
  const contentsOf = (bytes: Uint8Array, logs: LogGroup['logs'], idx: SearchIndex) => {
    const g = scanGroup(bytes);
    return tokenContents(idx, bytes, g.logs, 0, logs.length, 'native').map((c) => [c.key, Buffer.from(c.value as Uint8Array).toString('latin1')]);
  };

  it.runIf(native)('match an independent HMAC for values of every length across SHA-256 blocks and multi-byte length prefixes', () => {
    // A field name of 62 bytes puts `field || 0x00` across the first block boundary; values up to 300 bytes take
    // several blocks and two-byte protobuf lengths.
    const long = 'f'.repeat(62);
    const values = Array.from({ length: 301 }, (_, n) => 'ü'.repeat(n >> 1) + 'x'.repeat(n & 1));
    const logs = values.map((v, i) => ({ time: 1_700_000_000 + i, contents: [{ key: long, value: v }, { key: 'user', value: v }] }));
    const bytes = encodeLogGroup({ logs, logTags: [] });
    expect(contentsOf(bytes, logs, { key: indexKey, fields: ['user', long], blob: 'lengths' })).toEqual([
      ['__bi_user__', tokens('user', values)],
      [`__bi_${long}__`, tokens(long, values)],
    ]);
  });

  it.runIf(native)('lists more tokens than its first output buffer holds, and stays right once its cache is emptied', () => {
    // 70,000 distinct values: more than the cache keeps (65,536) and ~2.3 MB of tokens in one list.
    const values = Array.from({ length: 70_000 }, (_, i) => `user-${i}`);
    const logs = values.map((v) => ({ time: 1_700_000_000, contents: [{ key: 'user', value: v }] }));
    const bytes = encodeLogGroup({ logs, logTags: [] });
    const idx = { key: indexKey, fields: ['user'], blob: 'many' };
    expect(contentsOf(bytes, logs, idx)).toEqual([['__bi_user__', tokens('user', values)]]);
    // The next call starts with the cache emptied (it is over its bound).
    const g = scanGroup(bytes);
    const some = tokenContents(idx, bytes, g.logs, 69_990, 70_000, 'native');
    expect(Buffer.from(some[0].value as Uint8Array).toString('latin1')).toBe(tokens('user', values.slice(69_990)));
  });

  it.runIf(native)('keeps the tokens of one index key apart from another\'s when its state is set to a new key', () => {
    const logs = [{ time: 1_700_000_000, contents: [{ key: 'user', value: 'alice' }, { key: 'level', value: 'alice' }] }];
    const bytes = encodeLogGroup({ logs, logTags: [] });
    const otherKey = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);
    const other = createHmac('sha256', otherKey).update('user\0alice').digest('hex').slice(0, 32);
    const a = { key: indexKey, fields: ['user'], blob: 'key-a' };
    expect(contentsOf(bytes, logs, a)).toEqual([['__bi_user__', tokens('user', ['alice'])]]);
    expect(contentsOf(bytes, logs, { key: otherKey, fields: ['user'], blob: 'key-b' })).toEqual([['__bi_user__', other]]);
    expect(contentsOf(bytes, logs, a)).toEqual([['__bi_user__', tokens('user', ['alice'])]]);
    // Same key, other fields: field 0 is now `level`, whose token of the same value differs.
    expect(contentsOf(bytes, logs, { ...a, fields: ['level'] })).toEqual([['__bi_level__', tokens('level', ['alice'])]]);
  });

  it.runIf(native)('refuses a state it did not make', () => {
    expect(() => nativeAddon!.fieldTokens({}, new Uint8Array(0), 0, 0, new Uint8Array(0), new Uint32Array(1))).toThrow(
      /fieldTokens: index must come from fieldTokensInit/,
    );
  });
});

describe('SealPool with searchable fields', () => {
  const pool = new SealPool({ threads: 1, index: index(['user']) });
  afterAll(() => pool.close());

  it('ships bytes in the documented layout, tokens computed on the worker thread', async () => {
    const target: SealTarget = { project: 'p1', logstore: 'ls1', mode: 'group', zip: 'lz4' };
    const key = { ...dataKey, plaintext: Uint8Array.from(dataKey.plaintext) };
    const sealed = await pool.seal({ group: plain, key, target, compressType: 'none' });
    const shipped = decodeLogGroup(sealed.payload.body);
    expect(shipped.logTags.map((t) => t.key)).toEqual([...header, '__seal_zip__', '__seal_bi__']);
    expect(shipped.logs[0].contents.map((c) => c.key)).toEqual(['__sealed__', '__raw__', '__bi_user__']);
    expect(shipped.logs[0].contents[2].value).toBe(tokens('user', ['bob', 'alice']));
    expect(openGroup(shipped, () => dataKey.plaintext, target)).toEqual([plain]);
  });
});
