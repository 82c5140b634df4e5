// LogGroup codec against hand-assembled protobuf bytes, malformed input, and the official SDK's schema.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import protobuf from 'protobufjs';
import {
  decodeLogGroup,
  decodeLogGroupList,
  encodeLogGroup,
  encodeLogGroupList,
  LogGroupDecodeError,
  type LogGroup,
} from '../../agent/wire/loggroup.js';

/** Bytes from a hex string with spaces and `|` allowed as separators. */
function hex(s: string): Buffer {
  return Buffer.from(s.replace(/[\s|]/g, ''), 'hex');
}

function ascii(s: string): string {
  return Buffer.from(s, 'utf8').toString('hex');
}

describe('encodeLogGroup writes the PROTOCOLS.md wire format', () => {
  it('an empty group is zero bytes, and zero bytes are an empty group', () => {
    expect(Buffer.from(encodeLogGroup({ logs: [], logTags: [] }))).toEqual(Buffer.alloc(0));
    expect(decodeLogGroup(new Uint8Array(0))).toEqual({ logs: [], logTags: [] });
  });

  it('one log: Time as a varint, one Content', () => {
    const group: LogGroup = { logs: [{ time: 1, contents: [{ key: 'a', value: 'b' }] }], logTags: [] };
    const expected = hex(
      '0a 0a' + //        LogGroup.Logs (field 1, wire type 2), 10 bytes
        '08 01' + //      Log.Time (field 1, varint) = 1
        '12 06' + //      Log.Contents (field 2, wire type 2), 6 bytes
        '0a 01 61' + //   Content.Key (field 1) "a"
        '12 01 62', //    Content.Value (field 2) "b"
    );
    expect(Buffer.from(encodeLogGroup(group))).toEqual(expected);
    expect(decodeLogGroup(expected)).toEqual(group);
  });

  it('a five-byte Time varint and Time_ns as fixed32 (field 4, wire type 5)', () => {
    const group: LogGroup = {
      logs: [{ time: 1_700_000_000, timeNs: 123_456_789, contents: [{ key: 'k', value: 'v' }] }],
      logTags: [],
    };
    const expected = hex(
      '0a 13' + //                 Logs, 19 bytes
        '08 80 e2 cf aa 06' + //   Time = 1700000000 = 0x6553F100: 7-bit groups 00 62 4f 2a 06, low group first
        '12 06 0a 01 6b 12 01 76' + // Contents {k: v}
        '25 15 cd 5b 07', //       Time_ns key (4 << 3 | 5 = 0x25), 123456789 = 0x075BCD15 little-endian
    );
    expect(Buffer.from(encodeLogGroup(group))).toEqual(expected);
    expect(decodeLogGroup(expected)).toEqual(group);
  });

  it('Time and Time_ns at the uint32 limit', () => {
    const group: LogGroup = { logs: [{ time: 0xffffffff, timeNs: 0xffffffff, contents: [] }], logTags: [] };
    const expected = hex('0a 0b | 08 ff ff ff ff 0f | 25 ff ff ff ff');
    expect(Buffer.from(encodeLogGroup(group))).toEqual(expected);
    expect(decodeLogGroup(expected)).toEqual(group);
  });

  it('Time_ns 0 is written (present), and absent Time_ns is not', () => {
    const withZero = encodeLogGroup({ logs: [{ time: 2, timeNs: 0, contents: [] }], logTags: [] });
    expect(Buffer.from(withZero)).toEqual(hex('0a 07 | 08 02 | 25 00 00 00 00'));
    expect(decodeLogGroup(withZero).logs[0]).toEqual({ time: 2, timeNs: 0, contents: [] });
    const without = decodeLogGroup(hex('0a 02 | 08 02')).logs[0]!;
    expect('timeNs' in without).toBe(false);
  });

  it('Reserved, Topic, Source, MachineUUID (fields 2-5) and LogTags (field 6) in field order', () => {
    const group: LogGroup = {
      logs: [{ time: 3, contents: [] }],
      reserved: 'r',
      topic: 'nginx',
      source: '10.0.0.1',
      machineUUID: 'm-1',
      logTags: [
        { key: '__hostname__', value: 'web-1' },
        { key: 'env', value: '' },
      ],
    };
    const expected = hex(
      '0a 02 08 03' + //                                   Logs [{Time 3}]
        '12 01' + ascii('r') + //                           Reserved (field 2)
        '1a 05' + ascii('nginx') + //                       Topic (field 3)
        '22 08' + ascii('10.0.0.1') + //                    Source (field 4)
        '2a 03' + ascii('m-1') + //                         MachineUUID (field 5)
        '32 15 | 0a 0c' + ascii('__hostname__') + '12 05' + ascii('web-1') + // LogTags (field 6): 2+12+2+5 = 21 = 0x15
        '32 07 | 0a 03' + ascii('env') + '12 00', //         an empty value is still written
    );
    expect(Buffer.from(encodeLogGroup(group))).toEqual(expected);
    expect(decodeLogGroup(expected)).toEqual(group);
  });

  it('an empty topic is written; an undefined one is not', () => {
    expect(Buffer.from(encodeLogGroup({ logs: [], topic: '', logTags: [] }))).toEqual(hex('1a 00'));
    expect(decodeLogGroup(hex('1a 00'))).toEqual({ logs: [], topic: '', logTags: [] });
    expect(Buffer.from(encodeLogGroup({ logs: [], topic: undefined, logTags: [] }))).toEqual(Buffer.alloc(0));
  });

  it('several Contents in one Log keep their order, duplicates included', () => {
    const group: LogGroup = {
      logs: [{ time: 1, contents: [{ key: 'b', value: '1' }, { key: 'a', value: '2' }, { key: 'b', value: '3' }] }],
      logTags: [],
    };
    const expected = hex('0a 1a | 08 01 | 12 06 0a 01 62 12 01 31 | 12 06 0a 01 61 12 01 32 | 12 06 0a 01 62 12 01 33');
    expect(Buffer.from(encodeLogGroup(group))).toEqual(expected);
    expect(decodeLogGroup(expected)).toEqual(group);
  });

  it('multi-byte lengths: a 200-byte value takes a two-byte length varint', () => {
    const value = 'x'.repeat(200);
    const bytes = Buffer.from(encodeLogGroup({ logs: [{ time: 1, contents: [{ key: 'content', value }] }], logTags: [] }));
    // Content = 0a 07 "content" (9 bytes) + 12 c8 01 + 200 bytes = 212 = 0xd4 → "12 d4 01";
    // Log = 08 01 (2) + 12 d4 01 (3) + 212 = 217 = 0xd9 → group starts "0a d9 01".
    expect(bytes.subarray(0, 8)).toEqual(hex('0a d9 01 | 08 01 | 12 d4 01'));
    expect(bytes.subarray(8, 20)).toEqual(hex('0a 07' + ascii('content') + '12 c8 01'));
    expect(bytes.length).toBe(3 + 217);
    expect(bytes.subarray(20).toString('latin1')).toBe(value);
  });

  it('UTF-8 text: 2, 3 and 4-byte characters, short and long strings, and a lone surrogate as U+FFFD', () => {
    const group: LogGroup = {
      logs: [{ time: 1, contents: [{ key: 'é', value: '€😀' }] }],
      logTags: [{ key: 'k', value: '\ud800' }],
    };
    const expected = hex(
      '0a 11 08 01 | 12 0d' + //       Log of 17 bytes, Content of 13
        '0a 02 c3 a9' + //             Key "é" = C3 A9
        '12 07 e2 82 ac f0 9f 98 80' + // Value "€" E2 82 AC, "😀" (U+1F600) F0 9F 98 80
        '32 08 0a 01 6b 12 03 ef bf bd', // LogTag value: a lone surrogate becomes U+FFFD = EF BF BD
    );
    expect(Buffer.from(encodeLogGroup(group))).toEqual(expected);
    // Long strings go through Buffer's native UTF-8 path; they must agree with the short-string path.
    const long = 'Grüße aus Hangzhou 杭州 — 😀 '.repeat(5) + '\udc00';
    const decoded = decodeLogGroup(encodeLogGroup({ logs: [{ time: 1, contents: [{ key: long, value: long }] }], logTags: [] }));
    const fixed = long.replace('\udc00', '\ufffd');
    expect(decoded.logs[0]!.contents[0]).toEqual({ key: fixed, value: fixed });
  });

  it('a Uint8Array value that is not UTF-8 is written verbatim and decodes to the same bytes', () => {
    const raw = new Uint8Array([0xff, 0xfe, 0x41, 0xc3]); // invalid lead byte, then a truncated 2-byte sequence
    const bytes = encodeLogGroup({ logs: [{ time: 1, contents: [{ key: 'content', value: raw }] }], logTags: [] });
    expect(Buffer.from(bytes)).toEqual(hex('0a 13 08 01 | 12 0f | 0a 07' + ascii('content') + '| 12 04 ff fe 41 c3'));
    const value = decodeLogGroup(bytes).logs[0]!.contents[0]!.value;
    expect(value).toBeInstanceOf(Uint8Array);
    expect(typeof value).not.toBe('string');
    expect(Buffer.from(value as Uint8Array)).toEqual(Buffer.from(raw));
    // and a long invalid value (native path) too
    const longRaw = Buffer.concat([Buffer.from('a'.repeat(100)), Buffer.from([0xed, 0xa0, 0x80])]); // an encoded surrogate is not UTF-8
    const back = decodeLogGroup(encodeLogGroup({ logs: [{ time: 1, contents: [{ key: 'c', value: longRaw }] }], logTags: [] }));
    expect(Buffer.from(back.logs[0]!.contents[0]!.value as Uint8Array)).toEqual(longRaw);
  });

  it('a Uint8Array value that is valid UTF-8 decodes as text', () => {
    const bytes = encodeLogGroup({ logs: [{ time: 1, contents: [{ key: 'c', value: Buffer.from('héllo') }] }], logTags: [] });
    expect(decodeLogGroup(bytes).logs[0]!.contents[0]!.value).toBe('héllo');
  });

  it('text holding a real U+FFFD, or starting with a BOM, comes back unchanged as text', () => {
    for (const value of ['bad byte was here: \ufffd', '\ufeffline with a BOM', '\ufeff' + 'long '.repeat(20)]) {
      const back = decodeLogGroup(encodeLogGroup({ logs: [{ time: 1, contents: [{ key: 'c', value }] }], logTags: [] }));
      expect(back.logs[0]!.contents[0]!.value).toBe(value);
    }
  });

  it('rejects a Time or Time_ns that is not a uint32', () => {
    for (const time of [-1, 2 ** 32, 1.5, Number.NaN]) {
      expect(() => encodeLogGroup({ logs: [{ time, contents: [] }], logTags: [] })).toThrow(RangeError);
    }
    expect(() => encodeLogGroup({ logs: [{ time: 1, timeNs: -1, contents: [] }], logTags: [] })).toThrow(RangeError);
    // and the encoder is usable again afterwards
    expect(Buffer.from(encodeLogGroup({ logs: [{ time: 1, contents: [] }], logTags: [] }))).toEqual(hex('0a 02 08 01'));
  });
});

describe('LogGroupList', () => {
  it('is field 1 repeated, one length-delimited LogGroup each', () => {
    const a: LogGroup = { logs: [{ time: 1, contents: [] }], logTags: [] };
    const b: LogGroup = { logs: [], topic: 't', logTags: [] };
    const expected = hex(
      '0a 04 | 0a 02 08 01' + // logGroupList[0]: { Logs [{Time 1}] }
        '0a 03 | 1a 01 74' + //  logGroupList[1]: { Topic "t" }
        '0a 00', //              logGroupList[2]: an empty group
    );
    const empty: LogGroup = { logs: [], logTags: [] };
    expect(Buffer.from(encodeLogGroupList([a, b, empty]))).toEqual(expected);
    expect(decodeLogGroupList(expected)).toEqual([a, b, empty]);
    expect(decodeLogGroupList(new Uint8Array(0))).toEqual([]);
  });
});

describe('decode rejects malformed input with LogGroupDecodeError', () => {
  const valid = encodeLogGroup({
    logs: [{ time: 1_700_000_000, timeNs: 5, contents: [{ key: 'content', value: 'hello world' }] }],
    topic: 't',
    logTags: [{ key: 'k', value: 'v' }],
  });

  it('every cut inside a field is an error', () => {
    // Cutting after a complete top-level field is a shorter valid group, so only cut inside each field.
    const boundaries = new Set([0, 2 + valid[1]!, 2 + valid[1]! + 3]); // after Logs, after Topic
    for (let n = 1; n < valid.length; n++) {
      if (boundaries.has(n)) continue;
      expect(() => decodeLogGroup(valid.subarray(0, n)), `cut at ${n}`).toThrow(LogGroupDecodeError);
    }
  });

  it.each([
    ['a Log without Time', '0a 00'],
    ['a Content without Value', '0a 07 | 08 01 | 12 03 0a 01 61'],
    ['a Content without Key', '0a 07 | 08 01 | 12 03 12 01 61'],
    ['a LogTag without Value', '32 03 0a 01 61'],
    ['Logs sent as a varint', '08 01'],
    ['Time sent length-delimited', '0a 03 | 0a 01 00'],
    ['Time_ns sent as a varint', '0a 04 | 08 01 20 01'],
    ['a varint longer than 10 bytes', '0a 0c | 08 ff ff ff ff ff ff ff ff ff ff 01'],
    ['a length past the end', '1a 05 61'],
    ['a huge length', '1a ff ff ff ff 0f 61'],
    ['field number 0', '00 01'],
    ['a start-group wire type (field 7)', '3b 3c'],
    ['wire type 7 (field 7)', '3f'],
    ['a truncated fixed64 unknown field', '49 01 02 03'],
  ])('%s', (_name, bytes) => {
    expect(() => decodeLogGroup(hex(bytes))).toThrow(LogGroupDecodeError);
  });

  it('the error names the problem and the offset', () => {
    expect(() => decodeLogGroup(hex('0a 00'))).toThrow(/Log\.Time missing at byte 2/);
  });

  it('LogGroupList: a malformed group inside a list is an error too', () => {
    expect(() => decodeLogGroupList(hex('0a 02 | 0a 00'))).toThrow(LogGroupDecodeError);
    expect(() => decodeLogGroupList(hex('0a 05 | 0a 02'))).toThrow(LogGroupDecodeError);
  });

  it('skips unknown fields of every wire type, and the last Time wins', () => {
    const bytes = hex(
      '78 05' + //                          field 15 varint (unknown)
        '81 01 01 02 03 04 05 06 07 08' + // field 16 fixed64 (two-byte key 0x81 0x01)
        '0a 0d' + //                         Logs, 13 bytes:
        '08 01 08 02' + //                    Time 1, then Time 2: the last one wins
        '2a 02 ff ff' + //                    field 5 of Log, length-delimited (unknown)
        '35 01 02 03 04' + //                 field 6 of Log, fixed32 (unknown)
        '1a 01 74', //                       Topic "t"
    );
    expect(decodeLogGroup(bytes)).toEqual({ logs: [{ time: 2, contents: [] }], topic: 't', logTags: [] });
  });
});

describe('agrees with independent protobuf implementations', () => {
  // The official Node.js SDK's own .proto (it lacks MachineUUID, so the random groups leave it out).
  const require = createRequire(import.meta.url);
  const sdkProto = require.resolve('@alicloud/log/lib/sls.proto');
  const sdk = protobuf.loadSync(sdkProto);
  const SdkLogGroup = sdk.lookupType('sls.LogGroup');
  const SdkLogGroupList = sdk.lookupType('sls.LogGroupList');

  function randomGroup(seed: number): LogGroup {
    let x = seed;
    const rand = (n: number): number => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return x % n;
    };
    const alphabet = ['a', 'Z', '9', ' ', '=', 'é', '中', '😀', '\n', '"'];
    const text = (max: number): string => Array.from({ length: rand(max) }, () => alphabet[rand(alphabet.length)]).join('');
    const group: LogGroup = { logs: [], logTags: [] };
    for (let i = rand(20); i > 0; i--) {
      const log: LogGroup['logs'][number] = { time: rand(2 ** 32), contents: [] };
      if (rand(2)) log.timeNs = rand(1e9);
      for (let j = rand(5); j > 0; j--) log.contents.push({ key: text(12), value: text(rand(2) ? 20 : 300) });
      group.logs.push(log);
    }
    if (rand(2)) group.topic = text(10);
    if (rand(2)) group.source = text(10);
    for (let i = rand(4); i > 0; i--) group.logTags.push({ key: text(8), value: text(40) });
    return group;
  }

  function sdkView(group: LogGroup): Record<string, unknown> {
    return {
      Logs: group.logs.map((l) => ({
        Time: l.time,
        Contents: l.contents.map((c) => ({ Key: c.key, Value: c.value })),
        ...(l.timeNs === undefined ? {} : { TimeNs: l.timeNs }),
      })),
      ...(group.topic === undefined ? {} : { Topic: group.topic }),
      ...(group.source === undefined ? {} : { Source: group.source }),
      LogTags: group.logTags.map((t) => ({ Key: t.key, Value: t.value })),
    };
  }

  it('our bytes decode with the SDK schema, and the SDK bytes decode with ours, identically', () => {
    for (let seed = 1; seed <= 100; seed++) {
      const group = randomGroup(seed);
      const ours = encodeLogGroup(group);
      const theirs = SdkLogGroup.encode(SdkLogGroup.fromObject(sdkView(group))).finish();
      expect(Buffer.from(ours), `seed ${seed}`).toEqual(Buffer.from(theirs));
      expect(SdkLogGroup.toObject(SdkLogGroup.decode(ours), { defaults: false })).toEqual(
        SdkLogGroup.toObject(SdkLogGroup.fromObject(sdkView(group)), { defaults: false }),
      );
      expect(decodeLogGroup(theirs)).toEqual(group);
    }
  });

  it('LogGroupList too', () => {
    const groups = [randomGroup(7), randomGroup(8), randomGroup(9)];
    const theirs = SdkLogGroupList.encode(SdkLogGroupList.fromObject({ logGroupList: groups.map(sdkView) })).finish();
    expect(Buffer.from(encodeLogGroupList(groups))).toEqual(Buffer.from(theirs));
    expect(decodeLogGroupList(theirs)).toEqual(groups);
  });
});
