// The building blocks of SM4-GCM: the table SM4 block cipher and its GCM counter mode, and the table GHASH.
import { createCipheriv, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { GhashKey } from '../../agent/seal/ghash.js';
import { sm4Ctr, sm4EncryptBlock, sm4RoundKeys } from '../../agent/seal/sm4.js';
import { referenceGhash } from './reference-ghash.js';

const require = createRequire(import.meta.url);
const smCrypto = require('sm-crypto') as {
  sm4: { encrypt(input: Uint8Array, key: Uint8Array, o: { padding: 'none'; output: 'string' }): string };
};
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('SM4 block (GB/T 32907)', () => {
  const key = Buffer.from('0123456789abcdeffedcba9876543210', 'hex');

  it('encrypts the standard example', () => {
    expect(toHex(sm4EncryptBlock(sm4RoundKeys(key), key))).toBe('681edf34d206965e86b3e94f536e4246');
  });

  it('matches the standard example iterated 1,000,000 times', () => {
    const rk = sm4RoundKeys(key);
    let block: Uint8Array = key;
    for (let i = 0; i < 1_000_000; i++) block = sm4EncryptBlock(rk, block);
    expect(toHex(block)).toBe('595298c7c6fd271f0402f804c33d3f66');
  });

  it('agrees with sm-crypto and OpenSSL on random keys and blocks', () => {
    for (let i = 0; i < 200; i++) {
      const k = randomBytes(16), block = randomBytes(16);
      const ours = toHex(sm4EncryptBlock(sm4RoundKeys(k), block));
      expect(ours).toBe(smCrypto.sm4.encrypt(block, k, { padding: 'none', output: 'string' }));
      expect(ours).toBe(createCipheriv('sm4-ecb', k, null).setAutoPadding(false).update(block).toString('hex'));
    }
  });

  it('rejects a key that is not 16 bytes', () => {
    expect(() => sm4RoundKeys(new Uint8Array(32))).toThrow(RangeError);
  });
});

describe('SM4 counter mode for GCM', () => {
  it('agrees with OpenSSL sm4-ctr for every length 0..100 and a long input', () => {
    const key = randomBytes(16), counter = randomBytes(16);
    counter.writeUInt32BE(2, 12);
    for (const n of [...Array.from({ length: 101 }, (_, i) => i), 70_001]) {
      const data = randomBytes(n);
      const ours = sm4Ctr(sm4RoundKeys(key), counter, data);
      expect(toHex(ours)).toBe(createCipheriv('sm4-ctr', key, counter).update(data).toString('hex'));
    }
  });

  it('increments only the low 32 bits of the counter block (inc32)', () => {
    const rk = sm4RoundKeys(randomBytes(16));
    const counter = Buffer.from('00112233445566778899aabbffffffff', 'hex');
    const stream = sm4Ctr(rk, counter, new Uint8Array(32));
    expect(toHex(stream.subarray(0, 16))).toBe(toHex(sm4EncryptBlock(rk, counter)));
    // A full 128-bit increment would carry into byte 11; inc32 wraps to zero instead.
    expect(toHex(stream.subarray(16))).toBe(toHex(sm4EncryptBlock(rk, Buffer.from('00112233445566778899aabb00000000', 'hex'))));
  });
});

describe('GHASH', () => {
  const reference = (h: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): string => toHex(referenceGhash(h, aad, ciphertext));

  it('matches the GCM specification, test case 2 (GHASH(H, {}, C) = f38cbb1a…)', () => {
    const h = Buffer.from('66e94bd4ef8a2c3b884cfa59ca342b2e', 'hex');
    const c = Buffer.from('0388dace60b6a392f328c2b971b2fe78', 'hex');
    expect(toHex(new GhashKey(h).digest(new Uint8Array(0), c))).toBe('f38cbb1ad69223dcc3457ae5b6b0f885');
  });

  it('agrees with @noble/ciphers on random keys, AAD and ciphertext lengths', () => {
    for (let i = 0; i < 500; i++) {
      const h = randomBytes(16), aad = randomBytes(i % 70), ciphertext = randomBytes((i * 37) % 600);
      expect(toHex(new GhashKey(h).digest(aad, ciphertext))).toBe(reference(h, aad, ciphertext));
    }
  });
});
