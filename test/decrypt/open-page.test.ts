// The addon's page opener (open-group.c through open-page.ts) writes exactly what the JavaScript record layer
// writes, for both suites, both modes, every format, with and without tokens; it leaves to JavaScript every group
// it cannot print the same way for certain, and a record that does not authenticate is never printed.
import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compileView, parseWhere, type ReadView } from '../../agent/decrypt/index.js';
import { nativeView, pageGroups, renderPage, renderShipped } from '../../agent/decrypt/open-page.js';
import { nativeAddon } from '../../agent/native/addon.js';
import { cipherFor, sealGroup, type DataKey, type SealTarget } from '../../agent/seal/index.js';
import type { SealAlgorithm } from '../../agent/seal/aead.js';
import { decodeLogGroupList, encodeLogGroup, encodeLogGroupList, type ContentValue, type LogGroup } from '../../agent/wire/loggroup.js';

function varint(n: number): Buffer {
  const b: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 0x80)) b.push((n % 0x80) | 0x80);
  b.push(n);
  return Buffer.from(b);
}

const target = { project: 'proj-1', logstore: 'store.a' };
const keys: Record<SealAlgorithm, DataKey> = {
  AES_256_GCM: { algorithm: 'AES_256_GCM', plaintext: new Uint8Array(randomBytes(32)), cmkId: 'cmk', blob: 'blob-aes' },
  SM4_128_GCM: { algorithm: 'SM4_128_GCM', plaintext: new Uint8Array(randomBytes(16)), cmkId: 'cmk', blob: 'blob-sm4' },
};
const keyFor = (blob: string) => Object.values(keys).find((k) => k.blob === blob)?.plaintext;

// Text the addon prints itself: escapes, every control character, non-ASCII up to 4-byte sequences, long runs.
const CLEAN: string[] = [
  'plain',
  '',
  'quote " and \\ backslash / slash',
  Array.from({ length: 32 }, (_, c) => String.fromCharCode(c)).join('') + '\u007f',
  'ünïcødé ✓ 日本語 😀 \u2028 \u2029 \u00a0',
  '{"json":"inside","n":1}',
  'x'.repeat(200) + '"' + 'y'.repeat(37),
];
// What it leaves to JavaScript: invalid UTF-8, and keys an object would reorder or drop.
const ODD_VALUES: ContentValue[] = [Uint8Array.from([0xff, 0x41]), Uint8Array.from([0xc3, 0x28]), Uint8Array.from([0xed, 0xa0, 0x80]), Uint8Array.from([0xf0, 0x9f, 0x98])];
const ODD_KEYS = ['0', '42', '__proto__', 'level'];

function group(seed: number, odd: boolean): LogGroup {
  let x = seed;
  const next = (n: number) => ((x = (x * 1103515245 + 12345) % 2 ** 31), x % n);
  const keysOf = ['content', 'level', 'msg', 'k"q', 'ключ'];
  return {
    topic: seed % 2 ? 'topic "t"' : '',
    ...(seed % 3 ? { source: 'src ✓' } : {}),
    logTags: [{ key: 'env', value: seed % 3 ? 'prod' : 'dev\n' }, { key: '__path__', value: '/var/log/a.log' }],
    logs: Array.from({ length: 30 }, (_, i) => ({
      time: 1_700_000_000 + next(5),
      ...(i % 4 ? { timeNs: next(1_000_000_000) } : {}),
      contents: Array.from({ length: 1 + next(3) }, (_, j) => {
        if (odd && i === 7 && j === 0) return { key: 'content', value: ODD_VALUES[seed % ODD_VALUES.length]! };
        if (odd && i === 9) return { key: j === 0 ? 'content' : ODD_KEYS[seed % ODD_KEYS.length]!, value: 'v' };
        return { key: j === 0 ? 'content' : keysOf[j + next(3)]!, value: CLEAN[next(CLEAN.length)]! };
      }),
    })),
  };
}

function shippedList(algorithm: SealAlgorithm, mode: SealTarget['mode'], zip: SealTarget['zip'], groups: LogGroup[], index = false): Buffer {
  const t: SealTarget = { ...target, mode, zip };
  const options = index ? { index: { key: new Uint8Array(32).fill(3), fields: ['level', 'content'], blob: 'index-blob' } } : {};
  return Buffer.from(encodeLogGroupList(groups.map((g) => sealGroup(g, keys[algorithm], t, cipherFor(algorithm), options))));
}

/** The addon's way and the record layer's way over the same page. */
function both(list: Buffer, view: ReadView, trackFields: string[] = []) {
  const compiled = compileView(view);
  const groups = pageGroups(list, true);
  const native = renderPage(list, groups, keyFor, target, compiled, trackFields, 1024);
  const js = renderShipped(decodeLogGroupList(list), keyFor, target, compiled, trackFields, 1024);
  return { native, js, addonGroups: groups.filter((g) => !('group' in g)).length };
}

const CASES = [
  ['AES_256_GCM', 'group', 'lz4'],
  ['AES_256_GCM', 'group', 'none'],
  ['AES_256_GCM', 'log', 'none'],
  ['SM4_128_GCM', 'group', 'lz4'],
  ['SM4_128_GCM', 'log', 'none'],
] as const;

describe.skipIf(!nativeAddon?.openSealedGroup)('the addon page opener', () => {
  for (const [algorithm, mode, zip] of CASES) {
    it(`prints what the record layer prints: ${algorithm} mode ${mode} zip ${zip}, every format, tokens or not`, () => {
      for (const index of [false, true]) {
        const groups = Array.from({ length: 12 }, (_, i) => group(i + 1, i % 3 === 2));
        const list = shippedList(algorithm, mode, zip, groups, index);
        for (const view of [
          { format: 'ndjson' },
          { format: 'raw' },
          { format: 'count' },
          { format: 'ndjson', fromTime: 1_700_000_001, toTime: 1_700_000_003 },
          { format: 'raw', topic: 'topic "t"', tags: [['env', 'prod']] },
          { format: 'ndjson', source: 'src ✓', tags: [['__path__', '/var/log/a.log']] },
        ] as ReadView[]) {
          const { native, js, addonGroups } = both(list, view);
          expect(addonGroups).toBe(12);
          expect(native.failure).toBeUndefined();
          expect([native.lines, native.logs, native.groups]).toEqual([js.lines, js.logs, js.groups]);
          expect(native.out.equals(js.out)).toBe(true);
        }
        // --where: the addon opens the records and the byte renderer filters them, the fields seen reported alike.
        const where = { format: 'ndjson', where: parseWhere('level = "plain" or content ~ "ü" or __tag__:env = "dev\\n" or nothere = "x"') } as ReadView;
        const { native, js } = both(list, where, ['level', 'nothere', 'msg']);
        expect([native.out.equals(js.out), native.lines, native.logs, native.seen.sort()]).toEqual([true, js.lines, js.logs, js.seen.sort()]);
        expect(native.lines).toBeGreaterThan(0);
      }
    });
  }

  it('applies a time window and topic, source and tag equalities itself, and leaves --where to JavaScript', () => {
    const list = shippedList('SM4_128_GCM', 'log', 'none', [group(4, false), group(5, false), group(6, false)]);
    const window = compileView({ format: 'ndjson', fromTime: 1_700_000_002 });
    const tagged = compileView({ format: 'ndjson', tags: [['env', 'prod'], ['__path__', '/var/log/a.log']], fromTime: 1_700_000_001 });
    const where = compileView({ format: 'ndjson', where: parseWhere('level = "ERROR" or content ~ "t"') });
    expect(nativeView(window, [])).toBe(true);
    expect(nativeView(tagged, [])).toBe(true);
    expect(nativeView(where, [])).toBe(false);
    expect(nativeView(compileView({ format: 'ndjson', topic: 'lone \ud800' }), [])).toBe(false);
    expect(nativeView(compileView({ format: 'ndjson' }), ['level'])).toBe(false);
    for (const view of [window, tagged, where, compileView({ format: 'count', tags: [['__proto__', 'x']] }), compileView({ format: 'count', topic: '' })]) {
      const native = renderPage(list, pageGroups(list, true), keyFor, target, view, [], 1024);
      const js = renderShipped(decodeLogGroupList(list), keyFor, target, view, [], 1024);
      expect(native.out.equals(js.out)).toBe(true);
      expect([native.lines, native.logs]).toEqual([js.lines, js.logs]);
      expect(native.lines).toBeLessThan(native.logs);
      if (view.format !== 'count') expect(native.lines).toBeGreaterThan(0);
    }
  });

  it('opens clean groups itself and leaves odd ones to JavaScript', () => {
    const addon = nativeAddon!;
    for (const [algorithm, mode, zip] of CASES) {
      const list = shippedList(algorithm, mode, zip, [group(4, false), group(5, true)]);
      const spans = new Uint32Array(12);
      expect(addon.pageGroups(list, spans)).toBe(2);
      const suite = algorithm === 'SM4_128_GCM' ? 1 : 0;
      const open = (i: number) => {
        const st = new Float64Array(3);
        const code = addon.openSealedGroup(suite, keys[algorithm].plaintext, list, spans[6 * i]!, spans[6 * i + 1]!, spans[6 * i + 5]!, Buffer.from('proj-1|store.a|'), 0, -Infinity, Infinity, new Uint8Array(0), Buffer.alloc(1 << 20), st);
        return [code, st[1]];
      };
      expect(open(0)).toEqual([0, 30]);
      expect(open(1)[0]).toBe(2);
      // The records alone, for a view with --where: opened by the addon too.
      const st = new Float64Array(3);
      expect(addon.openSealedGroup(suite, keys[algorithm].plaintext, list, spans[0]!, spans[1]!, spans[5]!, Buffer.from('proj-1|store.a|'), 3, -Infinity, Infinity, new Uint8Array(0), Buffer.alloc(1 << 20), st)).toBe(0);
      expect(st[0]).toBeGreaterThan(30 * 10);
    }
  });

  it('reads records of every length itself (base64 a step of 32 characters at a time, and the rest)', () => {
    // Mode `log` seals each line as a record of its own: lines of 0 to 299 bytes give every length of base64 tail.
    const lines: LogGroup = { logTags: [], logs: Array.from({ length: 300 }, (_, n) => ({ time: 1_700_000_000, contents: [{ key: 'content', value: 'é'.repeat(n >> 1) + 'x'.repeat(n & 1) }] })) };
    for (const algorithm of ['AES_256_GCM', 'SM4_128_GCM'] as const) {
      const list = shippedList(algorithm, 'log', 'none', [lines]);
      const spans = new Uint32Array(6);
      expect(nativeAddon!.pageGroups(list, spans)).toBe(1);
      const st = new Float64Array(3);
      const code = nativeAddon!.openSealedGroup(algorithm === 'SM4_128_GCM' ? 1 : 0, keys[algorithm].plaintext, list, spans[0]!, spans[1]!, spans[5]!, Buffer.from('proj-1|store.a|'), 1, -Infinity, Infinity, new Uint8Array(0), Buffer.alloc(1 << 20), st);
      expect([code, st[1]]).toEqual([0, 300]);
    }
  });

  it('escapes every byte that needs it wherever it falls in a step of 32, 16 or 8 bytes, and leaves invalid UTF-8 to JavaScript', () => {
    // The JSON writer copies plain ASCII many bytes a step (32, 16 or 8): each special byte (control characters, quote,
    // backslash, DEL, non-ASCII of 2 to 4 bytes, U+2028) is put at every offset of strings around the step sizes.
    const specials = [...Array.from({ length: 32 }, (_, c) => String.fromCharCode(c)), '"', '\\', '\u007f', 'é', '日', '😀', '\u2028', '\u2029'];
    const values: string[] = [];
    for (const special of specials) {
      for (let before = 0; before <= 72; before++) values.push('a'.repeat(before) + special + 'b'.repeat((before * 7) % 19));
    }
    values.push('"'.repeat(40), '\\'.repeat(33), '\n'.repeat(17), 'x'.repeat(15), 'x'.repeat(16), 'x'.repeat(17), 'x'.repeat(48) + '"');
    const clean: LogGroup = { topic: 't"\u0001'.repeat(6), logTags: [{ key: 'k', value: 'v\t'.repeat(9) }], logs: values.map((v, i) => ({ time: 1_700_000_000, contents: [{ key: 'content', value: v }, { key: `key ${i % 3} "${'q'.repeat(i % 20)}`, value: v.slice(1) }] })) };
    // Invalid UTF-8 after a run of plain bytes, in and after a step: JavaScript decodes it with replacement characters.
    const invalid = [Uint8Array.from([0xff]), Uint8Array.from([0xc3, 0x28]), Uint8Array.from([0xed, 0xa0, 0x80]), Uint8Array.from([0xf0, 0x9f, 0x98]), Uint8Array.from([0xe2, 0x80])];
    const odd = (bytes: Uint8Array, before: number): LogGroup => ({
      logTags: [],
      logs: [{ time: 1_700_000_000, contents: [{ key: 'content', value: Uint8Array.from([...Buffer.from('p'.repeat(before)), ...bytes, ...Buffer.from('tail')]) }] }],
    });
    for (const algorithm of ['AES_256_GCM', 'SM4_128_GCM'] as const) {
      for (const mode of ['group', 'log'] as const) {
        const groups = [clean, ...invalid.flatMap((b) => [3, 16, 21, 40, 70].map((before) => odd(b, before)))];
        const list = shippedList(algorithm, mode, mode === 'group' ? 'lz4' : 'none', groups);
        const spans = new Uint32Array(6 * groups.length);
        expect(nativeAddon!.pageGroups(list, spans)).toBe(groups.length);
        const codes = groups.map((_, i) => {
          const st = new Float64Array(3);
          return nativeAddon!.openSealedGroup(algorithm === 'SM4_128_GCM' ? 1 : 0, keys[algorithm].plaintext, list, spans[6 * i]!, spans[6 * i + 1]!, spans[6 * i + 5]!, Buffer.from('proj-1|store.a|'), 0, -Infinity, Infinity, new Uint8Array(0), Buffer.alloc(4 << 20), st);
        });
        expect(codes).toEqual([0, ...groups.slice(1).map(() => 2)]);
        const { native, js } = both(list, { format: 'ndjson' });
        expect(native.lines).toBe(values.length + groups.length - 1);
        expect(native.out.equals(js.out)).toBe(true);
        // And each printed line is the JSON.stringify of what it holds.
        const lines = native.out.toString('utf8').split('\n');
        expect(lines.slice(0, values.length).map((l) => JSON.parse(l).contents.content)).toEqual(values);
      }
    }
  });

  it('reads the header after the Logs pageGroups found, and any other logsEnd either as well or not at all', () => {
    for (const [algorithm, mode, zip] of CASES) {
      const suite = algorithm === 'SM4_128_GCM' ? 1 : 0;
      const shipped = decodeLogGroupList(shippedList(algorithm, mode, zip, [group(4, false)]))[0]!;
      const laidOut = Buffer.from(encodeLogGroup(shipped));
      // The same group with its Topic first, then the rest: a reader meets fields in any order.
      const topicFirst = Buffer.concat([Buffer.from(encodeLogGroup({ topic: 'first', logs: [], logTags: [] })), laidOut]);
      for (const bytes of [laidOut, topicFirst]) {
        const list = Buffer.from(encodeLogGroupList([decodeLogGroupList(Buffer.concat([Buffer.from([0x0a]), varint(bytes.length), bytes]))[0]!]));
        const raw = Buffer.concat([Buffer.from([0x0a]), varint(bytes.length), bytes]);
        for (const page of [list, raw]) {
          const spans = new Uint32Array(6);
          expect(nativeAddon!.pageGroups(page, spans)).toBe(1);
          const [start, end, , , , logsEnd] = spans;
          if (page === raw && bytes === topicFirst) expect(logsEnd).toBe(start);
          else expect(logsEnd).toBeGreaterThan(start!);
          const open = (at: number) => {
            const st = new Float64Array(3);
            const out = Buffer.alloc(1 << 20);
            const code = nativeAddon!.openSealedGroup(suite, keys[algorithm].plaintext, page, start!, end!, at, Buffer.from('proj-1|store.a|'), 0, -Infinity, Infinity, new Uint8Array(0), out, st);
            return { code, text: out.subarray(0, st[0]!).toString('latin1') };
          };
          const found = open(logsEnd!);
          expect(found.code).toBe(0);
          expect(found.text).toBe(open(start!).text);
          expect(found.text).toBe(both(page, { format: 'ndjson' }).js.out.toString('latin1'));
          // Every other place: the same lines, or the group left to JavaScript (code 2), never other lines.
          let same = 0;
          for (let at = start! + 1; at <= end!; at += 1 + ((at * 13) % 97)) {
            const r = open(at);
            expect([0, 2]).toContain(r.code);
            if (r.code === 0) {
              expect(r.text).toBe(found.text);
              same++;
            }
          }
          expect(same).toBeLessThan(3);
        }
      }
    }
  });

  it('prints an authentic but malformed plaintext exactly as the record layer does, or leaves it to it', () => {
    // Whoever holds the data key can seal any bytes: the parser behind the AEAD meets protobuf that is cut, padded
    // and flipped. Each case goes both ways; whenever the addon prints, it prints what the record layer prints.
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const key = keys.AES_256_GCM.plaintext;
    const seal = (plain: Buffer, aad: string): string => {
      const nonce = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, nonce);
      c.setAAD(Buffer.from(aad));
      const ct = Buffer.concat([c.update(plain), c.final()]);
      return Buffer.concat([nonce, ct, c.getAuthTag()]).toString('base64');
    };
    const mutate = (b: Uint8Array): Buffer => {
      let m = Buffer.from(b);
      for (let e = 1 + rnd(3); e > 0 && m.length > 0; e--) {
        const k = rnd(4);
        if (k === 0) m[rnd(m.length)] = rnd(256);
        else if (k === 1) m[rnd(m.length)]! ^= 1 << rnd(8);
        else if (k === 2) m = m.subarray(0, rnd(m.length + 1));
        else {
          const at = rnd(m.length);
          m = Buffer.concat([m.subarray(0, at), randomBytes(rnd(6)), m.subarray(at)]);
        }
      }
      return m;
    };
    const header = (mode: string) => [
      { key: '__seal_v__', value: '1' },
      { key: '__seal_alg__', value: 'AES_256_GCM' },
      { key: '__seal_mode__', value: mode },
      { key: '__seal_cmk__', value: 'cmk' },
      { key: '__seal_dk__', value: keys.AES_256_GCM.blob },
      ...(mode === 'group' ? [{ key: '__seal_zip__', value: 'none' }] : []),
    ];
    const plainGroup = encodeLogGroup(group(3, false));
    const plainContents = encodeLogGroup({ logTags: [], logs: [{ time: 1, contents: [{ key: 'content', value: 'a "b" ✓' }, { key: 'level', value: 'x\ty' }] }] }).subarray(4);
    let printed = 0;
    for (let i = 0; i < 600; i++) {
      const time = 1_700_000_000 + rnd(3);
      let shipped: LogGroup;
      if (i % 2) {
        const plain = mutate(plainGroup);
        shipped = { logTags: header('group'), logs: [{ time, contents: [{ key: '__sealed__', value: seal(plain, `logseal/1|group|AES_256_GCM|proj-1|store.a|${time}|${plain.length}`) }, { key: '__raw__', value: String(plain.length) }] }] };
      } else {
        const plain = mutate(plainContents);
        shipped = { topic: 't', logTags: [...header('log'), { key: 'z', value: 'q' }], logs: [{ time, contents: [{ key: '__sealed__', value: seal(plain, `logseal/1|log|AES_256_GCM|proj-1|store.a|${time}|0`) }] }] };
      }
      const list = Buffer.from(encodeLogGroupList([shipped]));
      for (const format of ['ndjson', 'raw', 'count'] as const) {
        const view = compileView({ format });
        const groups = pageGroups(list, true);
        const native = renderPage(list, groups, keyFor, target, view, [], 64);
        const js = renderShipped(decodeLogGroupList(list), keyFor, target, view, [], 64);
        expect([native.out.equals(js.out), native.lines, native.logs, native.failure]).toEqual([true, js.lines, js.logs, js.failure]);
        const spans = new Uint32Array(6);
        nativeAddon!.pageGroups(list, spans);
        const st = new Float64Array(3);
        if (nativeAddon!.openSealedGroup(0, key, list, spans[0]!, spans[1]!, spans[5]!, Buffer.from('proj-1|store.a|'), 0, -Infinity, Infinity, new Uint8Array(0), Buffer.alloc(1 << 16), st) === 0) printed++;
      }
    }
    // Some of the damage leaves a well-formed plaintext the addon prints itself.
    expect(printed).toBeGreaterThan(50);
  });

  it('asks for more room rather than writing past the end of out', () => {
    const list = shippedList('AES_256_GCM', 'group', 'lz4', [group(1, false)]);
    const spans = new Uint32Array(6);
    nativeAddon!.pageGroups(list, spans);
    const st = new Float64Array(3);
    const out = Buffer.alloc(64, 0xaa);
    expect(nativeAddon!.openSealedGroup(0, keys.AES_256_GCM.plaintext, list, spans[0]!, spans[1]!, spans[5]!, Buffer.from('proj-1|store.a|'), 0, -Infinity, Infinity, new Uint8Array(0), out.subarray(0, 32), st)).toBe(1);
    expect([...st]).toEqual([0, 0, 0]);
    expect(out.subarray(32).every((b) => b === 0xaa)).toBe(true);
    // And grows its output from a tiny guess to the whole page.
    const { native, js } = both(shippedList('SM4_128_GCM', 'group', 'lz4', Array.from({ length: 5 }, (_, i) => group(i, false))), { format: 'ndjson' });
    expect(native.out.equals(js.out)).toBe(true);
  });

  for (const [algorithm, mode] of [['AES_256_GCM', 'group'], ['AES_256_GCM', 'log'], ['SM4_128_GCM', 'log']] as const) {
    it(`stops at a record that does not authenticate, in the record layer's words: ${algorithm} mode ${mode}`, () => {
      const list = shippedList(algorithm, mode, mode === 'group' ? 'lz4' : 'none', [group(1, false), group(2, false), group(3, false)]);
      // One base64 character of the second group's first record, changed.
      const groups = pageGroups(list, true);
      const second = groups[1]!;
      if ('group' in second) throw new Error('expected the addon to locate the group');
      const at = list.indexOf('__sealed__', second.start) + 20;
      list[at] = list[at] === 0x41 ? 0x42 : 0x41;
      const { native, js } = both(list, { format: 'ndjson' });
      expect(native.failure).toBeDefined();
      expect(native.failure).toBe(js.failure);
      expect(native.groups).toBe(1);
      expect(native.out.equals(js.out)).toBe(true);
    });
  }

  it('reads the same under the wrong project: nothing opens', () => {
    const list = shippedList('SM4_128_GCM', 'group', 'lz4', [group(1, false)]);
    const compiled = compileView({ format: 'ndjson' });
    const r = renderPage(list, pageGroups(list, true), keyFor, { project: 'other', logstore: 'store.a' }, compiled, [], 1024);
    expect(r.groups).toBe(0);
    expect(r.out.length).toBe(0);
    expect(r.failure).toMatch(/authenticate/);
  });
});
