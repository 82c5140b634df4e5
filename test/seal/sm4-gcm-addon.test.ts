// The addon's SM4-GCM on every path this CPU runs: GB/T 32907 and RFC 8998 vectors, the JS SM4 on random blocks,
// the node:crypto and JS SM4-GCM on random records, and refusal of forgeries before any plaintext is written.
import { createCipheriv, getCiphers, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nativeAddon } from '../../agent/native/addon.js';
import { AuthenticationError } from '../../agent/seal/aead.js';
import { cipherFor } from '../../agent/seal/cipher.js';
import { addonSm4Gcm, addonSm4GcmOn, addonSm4Path, type Sm4Path } from '../../agent/seal/sm4-gcm-addon.js';
import { jsSm4Gcm, nativeSm4Gcm } from '../../agent/seal/sm4-gcm.js';
import { sm4EncryptBlock, sm4RoundKeys } from '../../agent/seal/sm4.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const addon = nativeAddon!;

/** The paths this CPU runs: init refuses the others with a RangeError. */
const paths = (['avx512', 'gfni', 'vaes', 'aesni', 'portable'] as Sm4Path[]).filter((path) => {
  if (!nativeAddon) return false;
  try {
    addon.sm4GcmInit(new Uint8Array(16), path);
    return true;
  } catch (e) {
    expect(e).toBeInstanceOf(RangeError);
    return false;
  }
});

// Node's OpenSSL 3.0 has SM4 but no SM4-GCM; a later one may, and is then a third, independent implementation.
const opensslSm4Gcm = getCiphers().includes('sm4-gcm');

describe.skipIf(!nativeAddon)('addon SM4-GCM', () => {
  it('runs the portable path everywhere and picks the first path this CPU runs', () => {
    expect(paths).toContain('portable');
    expect(addonSm4Path).toBe(paths[0]);
  });

  it('is what auto picks for SM4_128_GCM', () => {
    expect(cipherFor('SM4_128_GCM')).toBe(addonSm4Gcm);
  });

  for (const path of paths) {
    describe(`path ${path}`, () => {
      const cipher = addonSm4GcmOn(path)!;

      it('matches the GB/T 32907 block vector', () => {
        const key = hex('0123456789abcdeffedcba9876543210');
        const out = new Uint8Array(16);
        addon.sm4EncryptBlocks(addon.sm4GcmInit(key, path), key, out);
        expect(toHex(out)).toBe('681edf34d206965e86b3e94f536e4246');
      });

      it('agrees with the JS SM4 on 4096 random blocks under random keys (S-box inputs all covered)', () => {
        for (let k = 0; k < 4; k++) {
          const key = randomBytes(16), blocks = randomBytes(1024 * 16), out = new Uint8Array(blocks.length);
          addon.sm4EncryptBlocks(addon.sm4GcmInit(key, path), blocks, out);
          const rk = sm4RoundKeys(key);
          for (let i = 0; i < blocks.length; i += 16) {
            expect(toHex(out.subarray(i, i + 16))).toBe(toHex(sm4EncryptBlock(rk, blocks.subarray(i, i + 16))));
          }
        }
      });

      it('agrees with the JS SM4 on runs of 1..200 blocks (wide steps, steps of 16 and the tail)', () => {
        const key = randomBytes(16), rk = sm4RoundKeys(key), state = addon.sm4GcmInit(key, path);
        const counts = [...Array.from({ length: 40 }, (_, i) => i + 1), 95, 96, 97, 111, 112, 113, 191, 192, 193, 200];
        for (const blocks of counts) {
          const input = randomBytes(16 * blocks), out = new Uint8Array(input.length);
          addon.sm4EncryptBlocks(state, input, out);
          const want = Buffer.concat(Array.from({ length: blocks }, (_, i) => sm4EncryptBlock(rk, input.subarray(16 * i, 16 * i + 16))));
          expect(toHex(out), `${blocks} blocks`).toBe(toHex(want));
        }
      });

      it('matches RFC 8998 A.1', () => {
        const key = hex('0123456789abcdeffedcba9876543210'), nonce = hex('00001234567800000000abcd');
        const aad = hex('feedfacedeadbeeffeedfacedeadbeefabaddad2');
        const plaintext = hex('aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbccccccccccccccccddddddddddddddddeeeeeeeeeeeeeeeeffffffffffffffffeeeeeeeeeeeeeeeeaaaaaaaaaaaaaaaa');
        const sealed = cipher.seal(key, nonce, plaintext, aad);
        expect(toHex(sealed)).toBe(
          '17f399f08c67d5ee19d0dc9969c4bb7d5fd46fd3756489069157b282bb200735d82710ca5c22f0ccfa7cbf93d496ac15a56834cbcf98c397b4024a2691233b8d' +
            '83de3541e4c2b58177e065a9bf7b62ec',
        );
        expect(toHex(cipher.open(key, nonce, sealed, aad))).toBe(toHex(plaintext));
      });

      it('agrees with the node:crypto and JS SM4-GCM on every length 0..300 and long inputs, with random AAD', () => {
        const key = randomBytes(16);
        const lengths = [...Array.from({ length: 301 }, (_, i) => i), 1519, 1520, 1521, 1536, 3055, 3056, 3057, 4095, 4096, 4097, 65_536 + 7, path === 'portable' ? 20_000 : 1_000_003];
        for (const length of lengths) {
          const nonce = randomBytes(12), plaintext = randomBytes(length), aad = randomBytes(length % 67);
          const sealed = cipher.seal(key, nonce, plaintext, aad);
          expect(toHex(sealed), `${length} bytes`).toBe(toHex(nativeSm4Gcm.seal(key, nonce, plaintext, aad)));
          if (length < 5000) expect(toHex(sealed), `${length} bytes`).toBe(toHex(jsSm4Gcm.seal(key, nonce, plaintext, aad)));
          if (opensslSm4Gcm) {
            const c = createCipheriv('sm4-gcm' as 'aes-128-gcm', key, nonce);
            c.setAAD(aad);
            expect(toHex(sealed)).toBe(toHex(Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()])));
          }
          expect(toHex(cipher.open(key, nonce, sealed, aad))).toBe(toHex(plaintext));
        }
      });

      it('refuses a flipped bit anywhere, writing no plaintext', () => {
        const key = randomBytes(16), nonce = randomBytes(12), aad = randomBytes(20);
        const sealed = cipher.seal(key, nonce, randomBytes(50), aad);
        const state = addon.sm4GcmInit(key, path);
        for (let bit = 0; bit < sealed.length * 8; bit += 7) {
          const forged = Uint8Array.from(sealed);
          forged[bit >> 3] ^= 1 << (bit & 7);
          expect(() => cipher.open(key, nonce, forged, aad)).toThrow(AuthenticationError);
          const out = new Uint8Array(50).fill(0xee);
          expect(addon.sm4GcmOpen(state, nonce, forged, aad, out)).toBe(false);
          expect(out.every((b) => b === 0xee)).toBe(true);
        }
        expect(() => cipher.open(key, nonce, sealed, randomBytes(20))).toThrow(AuthenticationError);
      });
    });
  }

  it('turns misuse into errors, not crashes', () => {
    const state = addon.sm4GcmInit(new Uint8Array(16));
    const n = new Uint8Array(12), none = new Uint8Array(0);
    expect(() => addon.sm4GcmInit(new Uint8Array(15))).toThrow(RangeError);
    expect(() => addon.sm4GcmInit(new Uint8Array(16), 'avx9000')).toThrow(TypeError);
    expect(() => addon.sm4GcmSeal(new ArrayBuffer(10), n, none, none, new Uint8Array(16))).toThrow(TypeError);
    expect(() => addon.sm4GcmSeal(new ArrayBuffer(state.byteLength), n, none, none, new Uint8Array(16))).toThrow(RangeError);
    expect(() => addon.sm4GcmSeal(state, new Uint8Array(8), none, none, new Uint8Array(16))).toThrow(RangeError);
    expect(() => addon.sm4GcmSeal(state, n, new Uint8Array(4), none, new Uint8Array(16))).toThrow(RangeError);
    expect(() => addon.sm4GcmOpen(state, n, new Uint8Array(10), none, new Uint8Array(0))).toThrow(RangeError);
    expect(() => addon.sm4EncryptBlocks(state, new Uint8Array(17), new Uint8Array(17))).toThrow(RangeError);
    const shared = new Uint8Array(40);
    expect(() => addon.sm4GcmSeal(state, n, shared.subarray(0, 20), none, shared.subarray(4, 40))).toThrow(RangeError);
  });
});
