// The byte-level renderer writes exactly what the object path (JSON.stringify of each PlainLogLine) writes, for
// every kind of key and value, in both modes and every format, filters included.
import { describe, expect, it } from 'vitest';
import { compileView, parseWhere, type ReadView } from '../../agent/decrypt/index.js';
import { FieldTracker, OutputBuilder, renderGroup } from '../../agent/decrypt/render.js';
import { renderRecords } from '../../agent/decrypt/render-bytes.js';
import { cipherFor, openGroup, openRecords, sealGroup, type DataKey } from '../../agent/seal/index.js';
import type { ContentValue, LogGroup } from '../../agent/wire/loggroup.js';

const key: DataKey = { algorithm: 'AES_256_GCM', plaintext: new Uint8Array(32).fill(7), cmkId: 'cmk', blob: 'blob' };
const target = { project: 'p', logstore: 'l' };

// Deterministic variety: control characters, quotes, backslashes, non-ASCII, 4-byte characters, DEL, U+2028,
// invalid UTF-8, empty values, index-like, repeated and __proto__ keys.
const VALUES: ContentValue[] = [
  'plain',
  '',
  'quote " and \\ backslash',
  'tab\tnewline\nreturn\r bell\u0007 nul\u0000 esc\u001b unit\u001f del\u007f',
  'ünïcødé ✓ 日本語 😀 \u2028 \u2029',
  '{"json":"inside","n":1}',
  Uint8Array.from([0xff, 0x41]),
  Uint8Array.from([0xc3, 0x28]),
  Uint8Array.from([0xed, 0xa0, 0x80]),
  Uint8Array.from([0xf0, 0x9f, 0x98]),
];
const KEYS = ['content', 'level', 'msg', '0', '42', '__proto__', 'k"q', 'ключ', 'level'];

function group(seed: number): LogGroup {
  let x = seed;
  const next = (n: number) => ((x = (x * 1103515245 + 12345) % 2 ** 31), x % n);
  return {
    topic: seed % 2 ? 'topic "t"' : '',
    source: 'src',
    logTags: [{ key: 'env', value: seed % 3 ? 'prod' : 'dev' }, { key: '1', value: 'one' }],
    logs: Array.from({ length: 40 }, (_, i) => ({
      time: 1_700_000_000 + next(5),
      ...(i % 4 ? { timeNs: next(1_000_000_000) } : {}),
      contents: Array.from({ length: 1 + next(4) }, (_, j) => ({ key: j === 0 ? 'content' : KEYS[next(KEYS.length)]!, value: VALUES[next(VALUES.length)]! })),
    })),
  };
}

function both(mode: 'group' | 'log', view: ReadView, seed: number): [Buffer, Buffer, number, number] {
  const shipped = sealGroup(group(seed), key, { ...target, mode, zip: mode === 'group' ? 'lz4' : 'none' }, cipherFor('AES_256_GCM'));
  const compiled = compileView(view);
  const fast = new OutputBuilder();
  renderRecords(openRecords(shipped, () => key.plaintext, target), view.format, compiled.keepLookup, fast, new FieldTracker(['msg']));
  const slow = new OutputBuilder();
  for (const g of openGroup(shipped, () => key.plaintext, target)) renderGroup(g, view.format, compiled.keep, slow, new FieldTracker(['msg']));
  return [fast.finish(), slow.finish(), fast.lines, slow.lines];
}

describe('renderRecords', () => {
  for (const mode of ['group', 'log'] as const) {
    for (const view of [
      { format: 'ndjson' },
      { format: 'raw' },
      { format: 'count' },
      { format: 'ndjson', where: parseWhere('level = "plain" or content ~ "ü" or __tag__:env = "dev"'), fromTime: 1_700_000_001 },
    ] as ReadView[]) {
      it(`matches the object path byte for byte: mode ${mode}, ${view.format}${view.where ? ' filtered' : ''}`, () => {
        for (let seed = 1; seed <= 25; seed++) {
          const [fast, slow, fastLines, slowLines] = both(mode, view, seed);
          expect(fastLines).toBe(slowLines);
          expect(fast.equals(slow)).toBe(true);
        }
      });
    }
  }
});
