// Logs written straight into LogGroup.Logs fields must be byte for byte what the general encoder writes.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { nativeAddonPath, type NativeAddon } from '../../agent/native/addon.js';
import { canFrameLines, encodeContents, LogWriter } from '../../agent/wire/log-writer.js';
import { decodeLogGroup, encodeLogGroup, type Log, type LogContent } from '../../agent/wire/loggroup.js';

const bytesOf = (s: string | Uint8Array) => (typeof s === 'string' ? Buffer.from(s) : Buffer.from(s));

function expectSameAsEncoder(written: Uint8Array, logs: Log[]): void {
  const expected = encodeLogGroup({ logs, logTags: [] });
  expect(Buffer.from(written).toString('hex')).toBe(Buffer.from(expected).toString('hex'));
}

describe('LogWriter', () => {
  it('writes a raw line exactly as encodeLogGroup writes the same log, for lengths whose varints take 1 to 3 bytes', () => {
    const extra: LogContent[] = [{ key: 'env', value: 'prod' }, { key: 'zone', value: '杭州' }];
    for (const fields of [[], extra]) {
      const writer = new LogWriter('content', encodeContents(fields));
      const logs: Log[] = [];
      for (const [n, time, timeNs] of [[0, 0, 0], [1, 127, 1], [126, 128, 999_999_999], [200, 1_763_924_400, 5], [20_000, 2 ** 32 - 1, 2 ** 31]]) {
        const src = Buffer.alloc(n + 10, 0x61 + (n % 26));
        src[3] = 0xff; // not UTF-8: written verbatim
        writer.line(time, timeNs, src, 5, 5 + n);
        logs.push({ time, contents: [{ key: 'content', value: new Uint8Array(src.subarray(5, 5 + n)) }, ...fields], timeNs });
      }
      const out = writer.take()!;
      expect(out.count).toBe(5);
      expectSameAsEncoder(out.bytes, logs);
      // Each end falls exactly after its log.
      for (let i = 0; i < out.count; i++) {
        const one = out.bytes.subarray(i === 0 ? 0 : out.ends[i - 1], out.ends[i]);
        expectSameAsEncoder(one, [logs[i]]);
      }
    }
  });

  it('writes any log through the general encoder between raw lines, and starts afresh after take()', () => {
    const writer = new LogWriter('content', encodeContents([]));
    const parsed: Log = { time: 5, contents: [{ key: 'level', value: 'info' }, { key: 'msg', value: 'héllo' }] };
    writer.line(5, 7, Buffer.from('raw one'), 0, 7);
    writer.log(parsed);
    writer.line(6, 8, Buffer.from('raw two'), 0, 7);
    const out = writer.take()!;
    expectSameAsEncoder(out.bytes, [
      { time: 5, contents: [{ key: 'content', value: 'raw one' }], timeNs: 7 },
      parsed,
      { time: 6, contents: [{ key: 'content', value: 'raw two' }], timeNs: 8 },
    ]);
    expect(writer.take()).toBeUndefined();
    writer.line(9, 0, Buffer.from('again'), 0, 5);
    const next = writer.take()!;
    expect(next.count).toBe(1);
    expect(decodeLogGroup(next.bytes).logs[0].contents[0].value).toBe('again');
    // What was taken before is not overwritten by later writes.
    expect(decodeLogGroup(out.bytes).logs).toHaveLength(3);
  });

  it('grows past any reservation: 50 000 lines written without one decode back in order', () => {
    const writer = new LogWriter('content', encodeContents([{ key: 'k', value: 'v' }]));
    const line = Buffer.from('x'.repeat(300));
    for (let i = 0; i < 50_000; i++) writer.line(i, 0, line, 0, 1 + (i % 300));
    const out = writer.take()!;
    const logs = decodeLogGroup(out.bytes).logs;
    expect(logs).toHaveLength(50_000);
    expect(out.ends[49_999]).toBe(out.bytes.length);
    expect(logs[12_345].time).toBe(12_345);
    expect(bytesOf(logs[12_345].contents[0].value).length).toBe(1 + (12_345 % 300));
    expect(logs[12_345].contents[1]).toEqual({ key: 'k', value: 'v' });
  });
});

describe.skipIf(!canFrameLines)('LogWriter.lines (the native framer)', () => {
  const offsetsOf = () => {
    let offsets = new Float64Array(0);
    return {
      get: () => offsets,
      grow: (n: number) => (n > offsets.length ? (offsets = Float64Array.from({ length: n }, (_, i) => offsets[i] ?? 0)) : offsets),
    };
  };

  it('writes each line as line() does, with the offset after its LF, growing buffers as it goes', () => {
    const extra: LogContent[] = [{ key: 'env', value: 'prod' }, { key: 'zone', value: '杭州' }];
    for (const fields of [[], extra]) {
      for (const [time, timeNs] of [[0, 0], [127, 1], [1_763_924_400, 999_999_999], [2 ** 32 - 1, 2 ** 31]]) {
        const lines = Array.from({ length: 3000 }, (_, i) => Buffer.alloc((i * 7919) % 400, 0x61 + (i % 26)));
        lines[5] = Buffer.from([0xff, 0xfe, 0x0d, 0x41]); // not UTF-8, a CR inside: written verbatim
        lines[6] = Buffer.alloc(0);
        lines[7] = Buffer.alloc(20_000, 0x62); // a 3-byte length varint
        const src = Buffer.concat(lines.flatMap((l, i) => [l, Buffer.from(i % 3 === 0 ? '\r\n' : '\n')]));
        const bulk = new LogWriter('content', encodeContents(fields));
        const offsets = offsetsOf();
        expect(bulk.lines(time, timeNs, src, 0, src.length, 1 << 20, 1000, offsets.grow)).toBe(src.length);
        const one = new LogWriter('content', encodeContents(fields));
        let at = 0;
        const expectedOffsets: number[] = [];
        for (const [i, l] of lines.entries()) {
          one.line(time, timeNs, l, 0, l.length);
          at += l.length + (i % 3 === 0 ? 2 : 1);
          expectedOffsets.push(1000 + at);
        }
        const got = bulk.take()!, want = one.take()!;
        expect(got.count).toBe(3000);
        expect(Buffer.from(got.bytes).equals(Buffer.from(want.bytes))).toBe(true);
        expect([...got.ends]).toEqual([...want.ends]);
        expect([...offsets.get().subarray(0, 3000)]).toEqual(expectedOffsets);
      }
    }
  });

  it('stops before a line longer than max and where no LF is left, and continues after line() took the long one', () => {
    const src = Buffer.from('ab\nabcdefgh\r\ncd\r\nabcdefghi\nef\npartial');
    const writer = new LogWriter('content', encodeContents([]));
    const offsets = offsetsOf();
    // "abcdefgh\r" is 8 bytes once the CR is dropped: within max 8; "abcdefghi" is not.
    const first = writer.lines(1, 0, src, 0, src.length, 8, 0, offsets.grow);
    expect(src.toString('latin1', first, first + 9)).toBe('abcdefghi');
    writer.line(1, 0, src, first, first + 9);
    const second = writer.lines(1, 0, src, first + 10, src.length, 8, 0, offsets.grow);
    expect(src.toString('latin1', second)).toBe('partial');
    const logs = decodeLogGroup(writer.take()!.bytes).logs;
    expect(logs.map((l) => String(l.contents[0].value))).toEqual(['ab', 'abcdefgh', 'cd', 'abcdefghi', 'ef']);
    expect([...offsets.get().subarray(0, 3)]).toEqual([3, 13, 17]);
  });

  it('throws on misuse of the addon function instead of crashing', () => {
    const { frameLines } = createRequire(import.meta.url)(nativeAddonPath!) as NativeAddon;
    const src = Buffer.from('a\n'), out = new Uint8Array(64), ends = new Uint32Array(4), offsets = new Float64Array(4), key = new Uint8Array(3);
    const st = (over: Record<number, number> = {}) => Float64Array.from({ length: 10 }, (_, i) => over[i] ?? [0, 2, 100, 0, 0, 0, 1, 0, 0, 0][i]);
    expect(() => frameLines(src, out, new Int32Array(4) as unknown as Uint32Array, offsets, key, key, st())).toThrow(TypeError);
    expect(() => frameLines(src, out, ends, new Float32Array(4) as unknown as Float64Array, key, key, st())).toThrow(TypeError);
    expect(() => frameLines(src, out, ends, offsets, key, key, new Float64Array(9))).toThrow(RangeError);
    expect(() => frameLines(src, out, ends, offsets, key, key, st({ 1: 3 }))).toThrow(RangeError); // end past src
    expect(() => frameLines(src, out, ends, offsets, key, key, st({ 0: 3 }))).toThrow(RangeError); // pos past end
    expect(() => frameLines(src, out, ends, offsets, key, key, st({ 3: 65 }))).toThrow(RangeError); // out position past out
    expect(() => frameLines(src, out, ends, offsets, key, key, st({ 4: 5 }))).toThrow(RangeError); // count past ends
    expect(() => frameLines(src, out, ends, offsets, key, key, st({ 6: 2 ** 32 }))).toThrow(RangeError); // time not uint32
    expect(() => frameLines(src, out, ends, offsets, key, key, st({ 0: 0.5 }))).toThrow(RangeError);
    const ok = st();
    frameLines(src, out, ends, offsets, key, key, ok);
    expect([ok[0], ok[4], offsets[0]]).toEqual([2, 1, 2]);
    // No room: nothing written, and how much the next log needs.
    const tight = st();
    frameLines(src, new Uint8Array(4), ends, offsets, key, key, tight);
    expect([tight[0], tight[3], tight[4], tight[8]]).toEqual([0, 0, 0, 2]);
    expect(tight[9]).toBeGreaterThan(4);
  });
});
