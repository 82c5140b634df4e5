// PutLogs payloads: each compression gives a body SLS can decompress back to the encoded LogGroup.
import { createHash } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { preparePayload } from '../../agent/ship/payload.js';
import { decodeLogGroup, encodeLogGroup, type LogGroup } from '../../agent/wire/loggroup.js';
import { lz4Decompress } from '../../agent/wire/lz4.js';
import { zstdDecompress } from '../../agent/wire/zstd.js';

const group: LogGroup = {
  logs: Array.from({ length: 50 }, (_, i) => ({ time: 1_700_000_000 + i, contents: [{ key: 'content', value: `line ${i} of a repetitive log` }] })),
  topic: 'app',
  logTags: [{ key: 'env', value: 'test' }],
};
const encoded = encodeLogGroup(group);

describe('preparePayload', () => {
  it('lz4: an LZ4 block of the encoded group, rawSize = encoded length', () => {
    const p = preparePayload(encoded, 'lz4');
    expect(p.compressType).toBe('lz4');
    expect(p.rawSize).toBe(encoded.length);
    expect(p.body.length).toBeLessThan(encoded.length);
    expect(decodeLogGroup(lz4Decompress(p.body, p.rawSize))).toEqual(group);
  });

  it('deflate: zlib format', () => {
    const p = preparePayload(encoded, 'deflate');
    expect(p.body[0]).toBe(0x78); // zlib header (CMF: deflate, 32K window)
    expect(Buffer.from(inflateSync(p.body))).toEqual(Buffer.from(encoded));
    expect(p.rawSize).toBe(encoded.length);
  });

  it('zstd: one Zstandard frame', () => {
    const p = preparePayload(encoded, 'zstd');
    expect(Buffer.from(p.body.subarray(0, 4))).toEqual(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])); // zstd frame magic
    expect(Buffer.from(zstdDecompress(p.body))).toEqual(Buffer.from(encoded));
    expect(p.rawSize).toBe(encoded.length);
  });

  it('none: the encoded bytes as they are', () => {
    const p = preparePayload(encoded, 'none');
    expect(p.body).toBe(encoded);
    expect(p.rawSize).toBe(encoded.length);
  });

  it('carries the Content-MD5 of the body it sends, so the sender need not hash it again', () => {
    for (const type of ['lz4', 'deflate', 'zstd', 'none'] as const) {
      const p = preparePayload(encoded, type);
      expect(p.contentMd5).toBe(createHash('md5').update(p.body).digest('hex').toUpperCase());
    }
  });

  it('an unknown compress type is refused', () => {
    expect(() => preparePayload(encoded, 'brotli' as never)).toThrow(/unknown compress type brotli/);
  });
});
