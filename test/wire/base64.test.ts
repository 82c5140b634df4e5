// writeBase64: the native encoder and the Buffer fallback against Node's own base64, for any split of the input.
import { randomBytes, randomInt } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { nativeAddon, nativeAddonPath, type NativeAddon } from '../../agent/native/addon.js';
import { base64Backend, base64Length, writeBase64 } from '../../agent/wire/base64.js';

const backends = (nativeAddon ? ['native', 'js'] : ['js']) as ('native' | 'js')[];
if (!nativeAddon) console.warn('base64.test.ts: the native addon is not built; only the Buffer fallback is tested');

/** `bytes` cut into parts at random places (empty parts included). */
function split(bytes: Uint8Array): Uint8Array[] {
  const cuts = Array.from({ length: randomInt(0, 5) }, () => randomInt(0, bytes.length + 1)).sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const c of [...cuts, bytes.length]) {
    parts.push(bytes.subarray(from, c));
    from = c;
  }
  return parts;
}

describe('writeBase64', () => {
  it('uses the native encoder when the addon is built', () => {
    expect(base64Backend).toBe(nativeAddon ? 'native' : 'js');
  });

  for (const backend of backends) {
    it(`${backend}: equals Buffer's base64 for every length up to 100 and random ones, however the input is split`, () => {
      const lengths = [...Array.from({ length: 101 }, (_, i) => i), ...Array.from({ length: 200 }, () => randomInt(0, 70_000))];
      for (const n of lengths) {
        const bytes = randomBytes(n);
        const expected = bytes.toString('base64');
        expect(base64Length(n)).toBe(expected.length);
        const at = randomInt(0, 8);
        const out = Buffer.alloc(at + expected.length + 3, 0x2e);
        const end = writeBase64(split(bytes), out, at, backend);
        expect(end).toBe(at + expected.length);
        expect(out.toString('latin1', at, end)).toBe(expected);
        // Nothing written outside the text.
        expect(out.subarray(0, at).every((b) => b === 0x2e) && out.subarray(end).every((b) => b === 0x2e)).toBe(true);
      }
    });

    it(`${backend}: writes into a view at a byte offset of a larger buffer`, () => {
      const backing = new Uint8Array(64).fill(1);
      const view = backing.subarray(10, 40);
      expect(writeBase64([Uint8Array.of(0xfb, 0xff), Uint8Array.of(0xbf)], view, 2, backend)).toBe(6);
      expect(Buffer.from(backing.subarray(12, 16)).toString('latin1')).toBe('+/+/');
      expect(backing[11]).toBe(1);
      expect(backing[16]).toBe(1);
    });

    it(`${backend}: refuses an output without room for the whole text, writing nothing`, () => {
      const out = Buffer.alloc(7, 0x2e);
      expect(() => writeBase64([randomBytes(6)], out, 0, backend)).toThrow(RangeError);
      expect(() => writeBase64([randomBytes(3)], out, 4, backend)).toThrow(RangeError);
      expect(out.every((b) => b === 0x2e)).toBe(true);
    });
  }
});

describe.skipIf(!nativeAddon)('the addon base64Encode itself', () => {
  const a = (): NativeAddon => createRequire(import.meta.url)(nativeAddonPath!) as NativeAddon;

  it('throws on misuse instead of crashing or writing out of bounds', () => {
    const { base64Encode } = a();
    const out = new Uint8Array(16);
    expect(() => base64Encode('abc' as unknown as Uint8Array, out, 0)).toThrow(TypeError);
    expect(() => base64Encode(new Uint8Array(3), new Uint16Array(8) as unknown as Uint8Array, 0)).toThrow(TypeError);
    expect(() => base64Encode(new Uint8Array(3), out, -1)).toThrow(TypeError);
    expect(() => base64Encode(new Uint8Array(3), out, 1.5)).toThrow(TypeError);
    expect(() => base64Encode(new Uint8Array(3), out, '0' as unknown as number)).toThrow(TypeError);
    expect(() => (base64Encode as (s: Uint8Array) => number)(new Uint8Array(3))).toThrow(TypeError);
    expect(() => base64Encode(new Uint8Array(12), out, 1)).toThrow(RangeError);
    expect(() => base64Encode(new Uint8Array(3), out, 17)).toThrow(RangeError);
    expect(base64Encode(new Uint8Array(12), out, 0)).toBe(16);
    expect(base64Encode(new Uint8Array(0), out, 16)).toBe(16);
  });

  it('refuses a source that overlaps the range it would write', () => {
    const { base64Encode } = a();
    const buf = new Uint8Array(32);
    expect(() => base64Encode(buf.subarray(0, 6), buf, 4)).toThrow(RangeError);
    expect(() => base64Encode(buf.subarray(6, 12), buf, 0)).toThrow(RangeError);
    expect(base64Encode(buf.subarray(8, 14), buf, 0)).toBe(8); // writes [0, 8), reads [8, 14)
    expect(base64Encode(buf.subarray(0, 6), buf, 6)).toBe(14); // adjacent, not overlapping
  });
});
