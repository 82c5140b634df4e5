// The FORMAT.md v1 record layer: known answers built by hand from the spec, round trips, the 1 MiB split, tampering.
import { createCipheriv, randomBytes } from 'node:crypto';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { AuthenticationError, type SealAlgorithm } from '../../agent/seal/aead.js';
import { cipherFor } from '../../agent/seal/cipher.js';
import {
  SealFormatError,
  openGroup,
  sealGroup,
  sealEncodedGroup,
  sealedRecordLimit,
  type DataKey,
  type SealTarget,
} from '../../agent/seal/record.js';
import { decodeLogGroup, encodeLogGroup, type LogContent, type LogGroup } from '../../agent/wire/loggroup.js';
import { lz4Compress } from '../../agent/wire/lz4.js';
import { referenceGhash } from './reference-ghash.js';

const algorithms: SealAlgorithm[] = ['AES_256_GCM', 'SM4_128_GCM'];

function dataKey(algorithm: SealAlgorithm, fill?: number): DataKey {
  const n = algorithm === 'AES_256_GCM' ? 32 : 16;
  return {
    algorithm,
    plaintext: fill === undefined ? randomBytes(n) : Uint8Array.from({ length: n }, (_, i) => (fill + i) & 255),
    cmkId: 'key-0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0',
    blob: 'ZDVkM2E2NjQtYmM0Zi00ZWJhLTk3YjctMGM4NjA2ODMzMmRh',
  };
}

function sampleGroup(): LogGroup {
  return {
    topic: 'nginx',
    source: '10.0.0.8',
    logTags: [
      { key: 'host', value: 'web-1' },
      { key: '__path__', value: '/var/log/nginx/access.log' },
    ],
    logs: [
      { time: 1_700_000_005, contents: [{ key: 'content', value: 'GET /index.html 200 512 "curl/8.5"' }] },
      {
        time: 1_700_000_001,
        timeNs: 123_456_789,
        contents: [
          { key: 'level', value: 'warn' },
          { key: 'msg', value: 'déjà vu ✓ 日志' },
        ],
      },
      { time: 1_700_000_003, contents: [{ key: 'raw', value: Uint8Array.from([0xff, 0xfe, 0x00, 0x41]) }] },
    ],
  };
}

/** FORMAT.md's AEAD, written again from the primitives: node:crypto AES-GCM; SM4-GCM from sm4-ecb, sm4-ctr and noble's GHASH. */
function referenceSeal(algorithm: SealAlgorithm, key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  if (algorithm === 'AES_256_GCM') {
    const c = createCipheriv('aes-256-gcm', key, nonce);
    c.setAAD(aad);
    const ct = Buffer.concat([c.update(plaintext), c.final()]);
    return Buffer.concat([ct, c.getAuthTag()]);
  }
  const h = createCipheriv('sm4-ecb', key, null).setAutoPadding(false).update(Buffer.alloc(16));
  const j0 = Buffer.concat([nonce, Buffer.from([0, 0, 0, 1])]);
  const ekj0 = createCipheriv('sm4-ecb', key, null).setAutoPadding(false).update(j0);
  const counter = Buffer.concat([nonce, Buffer.from([0, 0, 0, 2])]);
  const ct = createCipheriv('sm4-ctr', key, counter).update(plaintext);
  const tag = Buffer.from(referenceGhash(h, aad, ct)).map((b, i) => b ^ ekj0[i]);
  return Buffer.concat([ct, tag]);
}

/** Log field 2 alone, written with protobufjs's own writer. */
function contentsField(contents: LogContent[]): Uint8Array {
  const w = protobuf.Writer.create();
  for (const c of contents) {
    w.uint32((2 << 3) | 2).fork();
    w.uint32((1 << 3) | 2).string(c.key);
    if (typeof c.value === 'string') w.uint32((2 << 3) | 2).string(c.value);
    else w.uint32((2 << 3) | 2).bytes(c.value);
    w.ldelim();
  }
  return w.finish();
}

/** Nonces 0x00 0x01 0x02 …, so the expected records can be computed. */
function countingNonces(start = 0): { fillNonces: (out: Uint8Array) => void; calls: number[] } {
  const calls: number[] = [];
  return {
    calls,
    fillNonces: (out) => {
      calls.push(out.length);
      for (let i = 0; i < out.length; i++) out[i] = (start + i) & 255;
    },
  };
}

const header = (key: DataKey, mode: 'group' | 'log', zip?: 'lz4' | 'none') => [
  { key: '__seal_v__', value: '1' },
  { key: '__seal_alg__', value: key.algorithm },
  { key: '__seal_mode__', value: mode },
  { key: '__seal_cmk__', value: key.cmkId },
  { key: '__seal_dk__', value: key.blob },
  ...(mode === 'group' ? [{ key: '__seal_zip__', value: zip! }] : []),
];

const keyOf = (key: DataKey) => (blob: string) => {
  expect(blob).toBe(key.blob);
  return key.plaintext;
};
/** A value as the text it is on the wire: the record layer hands records over as their base64 text's bytes. */
const text = (v: string | Uint8Array): string => (typeof v === 'string' ? v : Buffer.from(v).toString('latin1'));
/** The group with every value as its text, to compare with groups written out by hand. */
const asText = (g: LogGroup): LogGroup => ({ ...g, logs: g.logs.map((l) => ({ ...l, contents: l.contents.map((c) => ({ key: c.key, value: text(c.value) })) })) });
const recordOf = (group: LogGroup, i: number): string => text(group.logs[i].contents[0].value);
const allLogs = (groups: LogGroup[]) => groups.flatMap((g) => g.logs);

describe('known answers, computed step by step from FORMAT.md', () => {
  for (const algorithm of algorithms) {
    for (const zip of ['lz4', 'none'] as const) {
      it(`mode group, ${algorithm}, zip ${zip}`, () => {
        const key = dataKey(algorithm, 0x40);
        const group = sampleGroup();
        const target: SealTarget = { project: 'demo', logstore: 'app', mode: 'group', zip };

        // 1. the whole plaintext LogGroup, protobuf-encoded, then LZ4 block-compressed when zip = lz4
        const plaintext = encodeLogGroup({ logs: group.logs, topic: group.topic, source: group.source, logTags: group.logTags });
        const body = zip === 'lz4' ? lz4Compress(plaintext) : plaintext;
        // 2. Time = smallest Time of the chunk; n = uncompressed length; AAD names everything around the record
        const time = 1_700_000_001;
        const aad = Buffer.from(`logseal/1|group|${algorithm}|demo|app|${time}|${plaintext.length}`, 'ascii');
        // 3. record = base64(nonce || ciphertext || tag)
        const nonce = Uint8Array.from({ length: 12 }, (_, i) => i);
        const record = Buffer.concat([nonce, referenceSeal(algorithm, key.plaintext, nonce, body, aad)]).toString('base64');
        const expected: LogGroup = {
          logs: [{ time, contents: [{ key: '__sealed__', value: record }, { key: '__raw__', value: String(plaintext.length) }] }],
          topic: 'nginx',
          source: '10.0.0.8',
          logTags: header(key, 'group', zip),
        };

        const nonces = countingNonces();
        const shipped = sealGroup(group, key, target, cipherFor(algorithm), nonces);
        expect(asText(shipped)).toEqual(expected);
        expect(Buffer.from(encodeLogGroup(shipped)).equals(Buffer.from(encodeLogGroup(expected)))).toBe(true);
        expect(nonces.calls).toEqual([12]);
      });
    }

    it(`mode log, ${algorithm}`, () => {
      const key = dataKey(algorithm, 0x80);
      const group = sampleGroup();
      const target: SealTarget = { project: 'demo', logstore: 'app', mode: 'log', zip: 'lz4' };
      const nonceBytes = Uint8Array.from({ length: 36 }, (_, i) => (0x10 + i) & 255);

      const expected: LogGroup = {
        logs: group.logs.map((log, i) => {
          const nonce = nonceBytes.subarray(12 * i, 12 * i + 12);
          const aad = Buffer.from(`logseal/1|log|${algorithm}|demo|app|${log.time}|${log.timeNs ?? 0}`, 'ascii');
          const sealed = referenceSeal(algorithm, key.plaintext, nonce, contentsField(log.contents), aad);
          const out = { time: log.time, contents: [{ key: '__sealed__', value: Buffer.concat([nonce, sealed]).toString('base64') }] };
          return log.timeNs === undefined ? out : { ...out, timeNs: log.timeNs };
        }),
        topic: 'nginx',
        source: '10.0.0.8',
        logTags: [...header(key, 'log'), ...group.logTags],
      };

      const shipped = sealGroup(group, key, target, cipherFor(algorithm), countingNonces(0x10));
      expect(asText(shipped)).toEqual(expected);
      expect(Buffer.from(encodeLogGroup(shipped)).equals(Buffer.from(encodeLogGroup(expected)))).toBe(true);
    });
  }
});

describe('round trips', () => {
  for (const algorithm of algorithms) {
    for (const mode of ['group', 'log'] as const) {
      for (const zip of ['lz4', 'none'] as const) {
        it(`${mode} × ${algorithm} × zip ${zip}, through the protobuf wire`, () => {
          const key = dataKey(algorithm);
          const group = sampleGroup();
          const target: SealTarget = { project: 'demo', logstore: 'app', mode, zip };
          const shipped = decodeLogGroup(encodeLogGroup(sealGroup(group, key, target, cipherFor(algorithm))));
          const opened = openGroup(shipped, keyOf(key), target);
          expect(opened).toHaveLength(1);
          expect(opened[0]).toEqual(group);
        });
      }
    }

    it(`${algorithm}: what one backend seals, the other opens`, () => {
      const key = dataKey(algorithm);
      for (const mode of ['group', 'log'] as const) {
        const target: SealTarget = { project: 'p', logstore: 'l', mode, zip: 'lz4' };
        const byNative = sealGroup(sampleGroup(), key, target, cipherFor(algorithm, 'native'));
        const byJs = sealGroup(sampleGroup(), key, target, cipherFor(algorithm, 'js'));
        expect(allLogs(openGroup(byNative, keyOf(key), target, (a) => cipherFor(a, 'js')))).toEqual(sampleGroup().logs);
        expect(allLogs(openGroup(byJs, keyOf(key), target, (a) => cipherFor(a, 'native')))).toEqual(sampleGroup().logs);
      }
    });
  }

  it('keeps absent Topic, Source and Time_ns absent', () => {
    const key = dataKey('AES_256_GCM');
    const group: LogGroup = { logTags: [], logs: [{ time: 1, contents: [] }, { time: 2, contents: [{ key: '', value: '' }] }] };
    for (const mode of ['group', 'log'] as const) {
      const target: SealTarget = { project: 'p', logstore: 'l', mode, zip: 'none' };
      const shipped = sealGroup(group, key, target, cipherFor('AES_256_GCM'));
      expect(shipped).not.toHaveProperty('topic');
      expect(shipped).not.toHaveProperty('source');
      expect(shipped.logs.some((l) => 'timeNs' in l)).toBe(false);
      expect(openGroup(shipped, keyOf(key), target)).toEqual([group]);
    }
  });

  it('reports the plaintext bytes sealed', () => {
    const key = dataKey('SM4_128_GCM');
    const group = sampleGroup();
    const grouped = sealEncodedGroup(encodeLogGroup(group), key, { project: 'p', logstore: 'l', mode: 'group', zip: 'lz4' }, cipherFor('SM4_128_GCM'));
    expect(grouped.plainBytes).toBe(encodeLogGroup(group).length);
    const logged = sealEncodedGroup(encodeLogGroup(group), key, { project: 'p', logstore: 'l', mode: 'log', zip: 'lz4' }, cipherFor('SM4_128_GCM'));
    expect(logged.plainBytes).toBe(group.logs.reduce((n, l) => n + contentsField(l.contents).length, 0));
  });

  it('with reuseText, writes each group\'s records where the last ones were; without it, groups stay independent', () => {
    const key = dataKey('AES_256_GCM');
    for (const mode of ['group', 'log'] as const) {
      const target: SealTarget = { project: 'p', logstore: 'l', mode, zip: 'lz4' };
      const encoded = encodeLogGroup(sampleGroup());
      const first = sealEncodedGroup(encoded, key, target, cipherFor('AES_256_GCM'), { reuseText: true }).shipped;
      const firstWire = encodeLogGroup(first); // what sealTask does before the next seal
      const second = sealEncodedGroup(encoded, key, target, cipherFor('AES_256_GCM'), { reuseText: true }).shipped;
      const record = (g: LogGroup) => g.logs[0].contents[0].value as Uint8Array;
      // The same memory, overwritten: the first group's record now reads as the second's (another nonce, other bytes).
      expect(Buffer.from(record(first)).equals(Buffer.from(record(second)))).toBe(true);
      expect(Buffer.from(record(decodeLogGroup(firstWire))).equals(Buffer.from(record(second)))).toBe(false);
      expect(openGroup(decodeLogGroup(firstWire), keyOf(key), target)).toEqual([sampleGroup()]);
      expect(openGroup(second, keyOf(key), target)).toEqual([sampleGroup()]);
      const a = sealGroup(sampleGroup(), key, target, cipherFor('AES_256_GCM'));
      const b = sealGroup(sampleGroup(), key, target, cipherFor('AES_256_GCM'));
      expect(openGroup(a, keyOf(key), target)).toEqual([sampleGroup()]); // still, after b was sealed
      expect(Buffer.from(record(a)).equals(Buffer.from(record(b)))).toBe(false);
    }
  });

  it('mode group seals the same bytes through the addon into the text as through the cipher, split groups too', () => {
    const nonces = (out: Uint8Array) => out.forEach((_, i) => (out[i] = (i * 7 + 3) & 255));
    const big: LogGroup = { logTags: [], logs: Array.from({ length: 900 }, (_, i) => ({ time: 1_700_000_000 + (i % 7), contents: [{ key: 'content', value: randomBytes(1500).toString('base64') }] })) };
    for (const algorithm of algorithms) {
      for (const zip of ['lz4', 'none'] as const) {
        const key = dataKey(algorithm, 9);
        const target: SealTarget = { project: 'p', logstore: 'l', mode: 'group', zip };
        for (const group of [sampleGroup(), big]) {
          const viaAddon = sealEncodedGroup(encodeLogGroup(group), key, target, cipherFor(algorithm), { fillNonces: nonces }).shipped;
          const viaCipher = sealEncodedGroup(encodeLogGroup(group), key, target, cipherFor(algorithm), { fillNonces: nonces, batch: false }).shipped;
          expect(Buffer.from(encodeLogGroup(viaAddon)).equals(Buffer.from(encodeLogGroup(viaCipher)))).toBe(true);
          if (group === big) expect(viaAddon.logs.length).toBeGreaterThan(1); // over the 1 MiB record limit: split
          expect(allLogs(openGroup(viaAddon, keyOf(key), target))).toEqual(group.logs);
        }
      }
    }
  });

  it('a data key of the wrong length gets the same message through the addon as through the cipher, in both modes', () => {
    for (const algorithm of algorithms) {
      const bad: DataKey = { ...dataKey(algorithm), plaintext: new Uint8Array(5) };
      const wanted = new RegExp(`${algorithm}: key must be ${algorithm === 'AES_256_GCM' ? 32 : 16} bytes, got 5`);
      for (const mode of ['group', 'log'] as const) {
        const target: SealTarget = { project: 'p', logstore: 'l', mode, zip: 'lz4' };
        for (const batch of [true, false]) {
          expect(() => sealEncodedGroup(encodeLogGroup(sampleGroup()), bad, target, cipherFor(algorithm), { batch })).toThrow(wanted);
        }
      }
    }
  });

  it('ships an empty batch as a header with no records', () => {
    const key = dataKey('AES_256_GCM');
    const target: SealTarget = { project: 'p', logstore: 'l', mode: 'group', zip: 'lz4' };
    const shipped = sealGroup({ logs: [], logTags: [] }, key, target, cipherFor('AES_256_GCM'));
    expect(shipped.logs).toEqual([]);
    expect(openGroup(shipped, keyOf(key), target)).toEqual([]);
  });
});

describe('header tags and nonces', () => {
  it('puts the header first, in order; mode group hides the plaintext tags, mode log appends them unchanged', () => {
    const key = dataKey('SM4_128_GCM');
    const group = sampleGroup();
    const grouped = sealGroup(group, key, { project: 'p', logstore: 'l', mode: 'group', zip: 'none' }, cipherFor('SM4_128_GCM'));
    expect(grouped.logTags).toEqual(header(key, 'group', 'none'));
    const logged = sealGroup(group, key, { project: 'p', logstore: 'l', mode: 'log', zip: 'none' }, cipherFor('SM4_128_GCM'));
    expect(logged.logTags).toEqual([...header(key, 'log'), ...group.logTags]);
  });

  it('draws a fresh nonce for every record, all in one call', () => {
    const key = dataKey('AES_256_GCM');
    const group: LogGroup = { logTags: [], logs: Array.from({ length: 200 }, (_, i) => ({ time: i, contents: [{ key: 'k', value: 'same' }] })) };
    const target: SealTarget = { project: 'p', logstore: 'l', mode: 'log', zip: 'none' };
    const nonces = new Set(sealGroup(group, key, target, cipherFor('AES_256_GCM')).logs.map((l) => Buffer.from(text(l.contents[0].value), 'base64').subarray(0, 12).toString('hex')));
    expect(nonces.size).toBe(200);
    const counting = countingNonces();
    sealGroup(group, key, target, cipherFor('AES_256_GCM'), counting);
    expect(counting.calls).toEqual([200 * 12]);
  });

  it('refuses a data key for another suite than the cipher', () => {
    expect(() =>
      sealGroup(sampleGroup(), dataKey('SM4_128_GCM'), { project: 'p', logstore: 'l', mode: 'group', zip: 'none' }, cipherFor('AES_256_GCM')),
    ).toThrow(RangeError);
  });
});

describe('splitting at the 1 MiB record limit', () => {
  // Sealed bytes that make exactly 1 MiB of base64: 786432 = 12 (nonce) + body + 16 (tag).
  const maxBody = (sealedRecordLimit / 4) * 3 - 28;
  const key = dataKey('AES_256_GCM');
  const none: SealTarget = { project: 'p', logstore: 'l', mode: 'group', zip: 'none' };

  /** One log per entry of `lengths`, holding incompressible printable text. */
  function groupOf(lengths: number[], time = (i: number) => 1_000 + i): LogGroup {
    return {
      logTags: [{ key: 'host', value: 'h' }],
      logs: lengths.map((n, i) => ({ time: time(i), contents: [{ key: 'content', value: randomBytes(Math.ceil(n * 0.75) + 3).toString('base64').slice(0, n) }] })),
    };
  }

  /** Grows the first log until the encoded group has exactly `size` bytes. */
  function sized(lengths: number[], size: number): LogGroup {
    let group = groupOf(lengths);
    for (let first = lengths[0]; encodeLogGroup(group).length !== size; ) {
      first += size - encodeLogGroup(group).length;
      group = groupOf([first, ...lengths.slice(1)]);
    }
    return group;
  }

  it('keeps a batch whose record is exactly 1 MiB in one record', () => {
    const group = sized([700_000], maxBody);
    const shipped = sealGroup(group, key, none, cipherFor('AES_256_GCM'));
    expect(shipped.logs).toHaveLength(1);
    expect(recordOf(shipped, 0)).toHaveLength(sealedRecordLimit);
  });

  it('splits a batch one byte over the limit in two', () => {
    const group = sized([400_000, 380_000], maxBody + 1);
    const shipped = sealGroup(group, key, none, cipherFor('AES_256_GCM'));
    expect(shipped.logs).toHaveLength(2);
    expect(shipped.logs.map((l) => l.time)).toEqual([1_000, 1_001]);
    expect(allLogs(openGroup(shipped, keyOf(key), none))).toEqual(group.logs);
  });

  it('cuts a multi-MiB batch into records under the limit, in order, each timed by its earliest log', () => {
    const lengths = Array.from({ length: 3000 }, (_, i) => 200 + ((i * 7919) % 1800));
    const group = groupOf(lengths, (i) => 5_000 + ((i * 31) % 97)); // times out of order within chunks
    for (const zip of ['none', 'lz4'] as const) {
      const target = { ...none, zip };
      const shipped = sealGroup(group, key, target, cipherFor('AES_256_GCM'));
      const limit = Math.ceil(encodeLogGroup(group).length / maxBody);
      expect(shipped.logs.length).toBeGreaterThanOrEqual(limit);
      expect(shipped.logs.length).toBeLessThanOrEqual(limit + 3);
      for (let i = 0; i < shipped.logs.length; i++) expect(recordOf(shipped, i).length).toBeLessThanOrEqual(sealedRecordLimit);
      const chunks = openGroup(shipped, keyOf(key), target);
      chunks.forEach((chunk, i) => {
        expect(shipped.logs[i].time).toBe(Math.min(...chunk.logs.map((l) => l.time)));
        expect(chunk.logTags).toEqual(group.logTags);
      });
      expect(allLogs(chunks)).toEqual(group.logs);
    }
  });

  it('seals a single log larger than the limit as a record of its own', () => {
    const group = groupOf([300, 1_200_000, 300]);
    const shipped = sealGroup(group, key, none, cipherFor('AES_256_GCM'));
    expect(shipped.logs).toHaveLength(3);
    expect(recordOf(shipped, 0).length).toBeLessThan(1000);
    expect(recordOf(shipped, 1).length).toBeGreaterThan(sealedRecordLimit);
    expect(recordOf(shipped, 2).length).toBeLessThan(1000);
    expect(allLogs(openGroup(shipped, keyOf(key), none))).toEqual(group.logs);
  });
});

describe('tampering', () => {
  const key = dataKey('SM4_128_GCM');
  const cipher = cipherFor('SM4_128_GCM');
  const two: LogGroup = {
    logTags: [],
    logs: [
      { time: 100, timeNs: 5, contents: [{ key: 'a', value: 'first' }] },
      { time: 200, contents: [{ key: 'a', value: 'second, longer' }] },
    ],
  };
  const clone = (g: LogGroup): LogGroup => decodeLogGroup(encodeLogGroup(g));
  const logMode: SealTarget = { project: 'p', logstore: 'l', mode: 'log', zip: 'none' };
  const groupMode: SealTarget = { project: 'p', logstore: 'l', mode: 'group', zip: 'lz4' };

  // Two records in mode group need two chunks: two logs of ~500 KB of incompressible text.
  const big: LogGroup = {
    logTags: [],
    logs: [0, 1].map((i) => ({ time: 300 + i, contents: [{ key: 'x', value: randomBytes(375_000).toString('base64') }] })),
  };
  const sealedBig = sealGroup(big, key, groupMode, cipher);
  const sealedLog = sealGroup(two, key, logMode, cipher);

  it('opens the untouched groups', () => {
    expect(sealedBig.logs).toHaveLength(2);
    expect(allLogs(openGroup(clone(sealedBig), keyOf(key), groupMode))).toEqual(big.logs);
    expect(allLogs(openGroup(clone(sealedLog), keyOf(key), logMode))).toEqual(two.logs);
  });

  it('rejects a changed Time', () => {
    for (const [sealed, target] of [[sealedBig, groupMode], [sealedLog, logMode]] as const) {
      const g = clone(sealed);
      g.logs[0].time += 1;
      expect(() => openGroup(g, keyOf(key), target)).toThrow(AuthenticationError);
    }
  });

  it('rejects a changed __raw__', () => {
    const g = clone(sealedBig);
    g.logs[1].contents[1].value = String(Number(g.logs[1].contents[1].value) - 1);
    expect(() => openGroup(g, keyOf(key), groupMode)).toThrow(AuthenticationError);
  });

  it('rejects a changed or dropped Time_ns in mode log', () => {
    const changed = clone(sealedLog);
    changed.logs[0].timeNs = 6;
    expect(() => openGroup(changed, keyOf(key), logMode)).toThrow(AuthenticationError);
    const dropped = clone(sealedLog);
    delete dropped.logs[0].timeNs;
    expect(() => openGroup(dropped, keyOf(key), logMode)).toThrow(AuthenticationError);
  });

  it('rejects records read as another logstore or project', () => {
    expect(() => openGroup(clone(sealedBig), keyOf(key), { project: 'p', logstore: 'other' })).toThrow(AuthenticationError);
    expect(() => openGroup(clone(sealedLog), keyOf(key), { project: 'other', logstore: 'l' })).toThrow(AuthenticationError);
  });

  it('rejects records moved to another position', () => {
    const swapped = clone(sealedBig);
    const [a, b] = swapped.logs;
    [a.contents, b.contents] = [b.contents, a.contents];
    expect(() => openGroup(swapped, keyOf(key), groupMode)).toThrow(AuthenticationError);
    const swappedLogs = clone(sealedLog);
    const [c, d] = swappedLogs.logs;
    [c.contents, d.contents] = [d.contents, c.contents];
    expect(() => openGroup(swappedLogs, keyOf(key), logMode)).toThrow(AuthenticationError);
  });

  it('rejects a changed character of a record', () => {
    const g = clone(sealedLog);
    const record = recordOf(g, 1);
    g.logs[1].contents[0].value = record.slice(0, 20) + (record[20] === 'A' ? 'B' : 'A') + record.slice(21);
    expect(() => openGroup(g, keyOf(key), logMode)).toThrow(AuthenticationError);
  });

  it('rejects another suite named in __seal_alg__', () => {
    const g = clone(sealedLog);
    g.logTags[1].value = 'AES_256_GCM';
    expect(() => openGroup(g, () => randomBytes(32), logMode)).toThrow(AuthenticationError);
  });

  it('fails loudly on a wrong __seal_zip__ rather than printing garbage', () => {
    const g = clone(sealedBig);
    g.logTags[5].value = 'none';
    expect(() => openGroup(g, keyOf(key), groupMode)).toThrow(SealFormatError);
  });

  it('rejects an unknown version, a missing or reordered header, and unexpected contents', () => {
    const version = clone(sealedLog);
    version.logTags[0].value = '2';
    expect(() => openGroup(version, keyOf(key), logMode)).toThrow(/unsupported __seal_v__/);
    const plain = clone(two);
    expect(() => openGroup(plain, keyOf(key), logMode)).toThrow(SealFormatError);
    const reordered = clone(sealedLog);
    [reordered.logTags[3], reordered.logTags[4]] = [reordered.logTags[4], reordered.logTags[3]];
    expect(() => openGroup(reordered, keyOf(key), logMode)).toThrow(SealFormatError);
    const extra = clone(sealedLog);
    extra.logs[0].contents.push({ key: 'injected', value: 'x' });
    expect(() => openGroup(extra, keyOf(key), logMode)).toThrow(SealFormatError);
  });
});
