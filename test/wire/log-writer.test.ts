// Logs written straight into LogGroup.Logs fields must be byte for byte what the general encoder writes.
import { describe, expect, it } from 'vitest';
import { encodeContents, LogWriter } from '../../agent/wire/log-writer.js';
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
