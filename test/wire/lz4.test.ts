// LZ4 block codec: hand-made blocks from the LZ4 block format spec, round trips, and size checks.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { lz4Bound, lz4Codec, lz4Compress, lz4CompressInto, lz4Decompress } from '../../agent/wire/lz4.js';

describe('LZ4 block format', () => {
  it('decodes a literals-only block: token 0x50 = 5 literals, no match', () => {
    expect(lz4Decompress(Buffer.from([0x50, ...Buffer.from('hello')]), 5).toString()).toBe('hello');
  });

  it('decodes a block with an overlapping match', () => {
    const block = Buffer.from([
      0x35, //              3 literals, match length 5 + 4 (minimum match) = 9
      ...Buffer.from('abc'),
      0x03, 0x00, //        offset 3, little-endian: copy from 3 bytes back, overlapping itself
      0x50, //              last sequence: 5 literals (a block must end with literals)
      ...Buffer.from('XYZWV'),
    ]);
    expect(lz4Decompress(block, 17).toString()).toBe('abcabcabcabcXYZWV');
  });

  it('round-trips compressible, incompressible and empty input', () => {
    const text = Buffer.from('GET /api/v1/orders HTTP/1.1 200\n'.repeat(500));
    const packed = lz4Compress(text);
    expect(packed.length).toBeLessThan(text.length / 10);
    expect(lz4Decompress(packed, text.length)).toEqual(text);
    const noise = randomBytes(10_000);
    expect(lz4Decompress(lz4Compress(noise), noise.length)).toEqual(noise);
    expect(lz4Decompress(lz4Compress(new Uint8Array(0)), 0)).toEqual(Buffer.alloc(0));
  });

  it('accepts a Uint8Array view into a larger buffer', () => {
    const backing = Buffer.from('xxxx' + 'hello hello hello hello hello' + 'yyyy');
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 4, backing.length - 8);
    expect(lz4Decompress(lz4Compress(view), view.length).toString()).toBe('hello hello hello hello hello');
  });

  it('compresses into a caller\'s buffer at an offset, block after block, without touching the bytes before', () => {
    const a = Buffer.from('first block '.repeat(200));
    const b = randomBytes(3000);
    const out = Buffer.alloc(7 + lz4Bound(a.length) + lz4Bound(b.length), 0xee);
    const na = lz4CompressInto(a, out, 7);
    const nb = lz4CompressInto(b, out, 7 + na);
    expect(out.subarray(0, 7).every((x) => x === 0xee)).toBe(true);
    expect(lz4Decompress(out.subarray(7, 7 + na), a.length)).toEqual(a);
    expect(lz4Decompress(out.subarray(7 + na, 7 + na + nb), b.length)).toEqual(b);
    expect(Buffer.from(out.subarray(7, 7 + na)).equals(lz4Compress(a))).toBe(true);
    expect(() => lz4CompressInto(a, Buffer.alloc(10), 0)).toThrow(/room/);
  });

  it('throws when the block does not hold rawSize bytes', () => {
    const packed = lz4Compress(Buffer.from('some text some text some text'));
    expect(() => lz4Decompress(packed, 10)).toThrow(/lz4/);
    expect(() => lz4Decompress(packed, 100)).toThrow(/lz4/);
    expect(() => lz4Decompress(Buffer.from([0xf0, 0xff]), 50)).toThrow(/lz4/);
  });
});

describe.skipIf(!lz4Codec('addon'))("the addon's LZ4 blocks against the lz4 package's", () => {
  const addon = lz4Codec('addon')!;
  const pkg = lz4Codec('package')!;
  // Lines with repeats (matches) and varying fields (literals), as log text has.
  const logText = (bytes: number) => {
    let text = '';
    for (let i = 0; text.length < bytes; i++) {
      const id = Math.imul(i, 2654435761) >>> 0;
      text += `2026-12-04T10:${String(i % 60).padStart(2, '0')}:07.${i % 1000}Z INFO [svc-${i % 7}] req=${id.toString(16)} took ${i % 997} ms path=/api/v${i % 3}/orders/${id % 10007}\n`;
    }
    return Buffer.from(text).subarray(0, bytes);
  };
  const compress = (codec: typeof addon, input: Uint8Array, at = 0) => {
    const out = Buffer.alloc(at + lz4Bound(input.length), 0xee);
    const n = codec.compress(input, out, at, lz4Bound(input.length));
    expect(out.subarray(0, at).every((x) => x === 0xee)).toBe(true);
    return out.subarray(at, at + n);
  };
  const decompress = (codec: typeof addon, block: Uint8Array, size: number) => {
    const out = Buffer.alloc(size);
    expect(codec.decompress(block, out)).toBe(size);
    return out;
  };

  it('makes the same bytes, and each decodes the other, for log text, noise, runs and sizes around the block rules', () => {
    const inputs: Uint8Array[] = [logText(2 * 1024 * 1024), logText(1000), randomBytes(70_000), Buffer.alloc(300_000, 0x61)];
    for (const n of [1, 4, 5, 12, 13, 64, 65, 255, 256, 4096]) inputs.push(randomBytes(n), Buffer.alloc(n, 0x7a), logText(n));
    for (const input of inputs) {
      const a = compress(addon, input, 3);
      const p = compress(pkg, input);
      expect(Buffer.from(a).equals(p), `${input.length} bytes`).toBe(true);
      expect(decompress(addon, p, input.length).equals(Buffer.from(input))).toBe(true);
      expect(decompress(pkg, a, input.length).equals(Buffer.from(input))).toBe(true);
    }
  });

  it('bounds blocks as the library does', () => {
    const { encodeBound } = createRequire(import.meta.url)('lz4') as { encodeBound(n: number): number };
    for (const n of [0, 1, 254, 255, 256, 65_536, 2 * 1024 * 1024, 0x7e000000]) expect(lz4Bound(n), `${n}`).toBe(encodeBound(n));
  });

  it('takes a view into a larger buffer, and refuses what does not fit or is no block', () => {
    const backing = Buffer.concat([Buffer.from('xxxx'), logText(5000), Buffer.from('yyyy')]);
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 4, 5000);
    const block = compress(addon, view);
    expect(decompress(addon, block, 5000).equals(Buffer.from(view))).toBe(true);
    expect(addon.decompress(block, Buffer.alloc(4999))).toBeLessThan(0);
    expect(addon.decompress(Buffer.from([0xf0, 0xff]), Buffer.alloc(50))).toBeLessThan(0);
    expect(() => addon.compress(view, Buffer.alloc(100), 0, lz4Bound(view.length))).toThrow(/room/);
    expect(() => addon.compress('text' as unknown as Uint8Array, Buffer.alloc(100), 0, 100)).toThrow(/src must be a Uint8Array/);
  });
});
