// AEAD suites: published vectors, native vs pure-JS agreement on random inputs, and rejection of every single-bit change.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AuthenticationError, type AeadCipher, type CipherBackend, type SealAlgorithm } from '../../agent/seal/aead.js';
import { cipherFor, selfTest } from '../../agent/seal/cipher.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const backends: CipherBackend[] = ['addon', 'native', 'js'];
const algorithms: SealAlgorithm[] = ['AES_256_GCM', 'SM4_128_GCM'];
const keyBytes = { AES_256_GCM: 32, SM4_128_GCM: 16 } as const;

interface Vector {
  name: string;
  key: string;
  nonce: string;
  aad: string;
  plaintext: string;
  ciphertext: string;
  tag: string;
}

const K15 = 'feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308';
const P15 =
  'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255';
const C15 =
  '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad';

// McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 13–16 (AES-256, 96-bit IV),
// and NIST CAVP gcmEncryptExtIV256.rsp entries.
const aesVectors: Vector[] = [
  { name: 'GCM test case 13', key: '00'.repeat(32), nonce: '00'.repeat(12), aad: '', plaintext: '', ciphertext: '', tag: '530f8afbc74536b9a963b4f1c4cb738b' },
  {
    name: 'GCM test case 14',
    key: '00'.repeat(32),
    nonce: '00'.repeat(12),
    aad: '',
    plaintext: '00'.repeat(16),
    ciphertext: 'cea7403d4d606b6e074ec5d3baf39d18',
    tag: 'd0d1c8a799996bf0265b98b5d48ab919',
  },
  { name: 'GCM test case 15', key: K15, nonce: 'cafebabefacedbaddecaf888', aad: '', plaintext: P15, ciphertext: C15, tag: 'b094dac5d93471bdec1a502270e3cc6c' },
  {
    name: 'GCM test case 16 (AAD)',
    key: K15,
    nonce: 'cafebabefacedbaddecaf888',
    aad: 'feedfacedeadbeeffeedfacedeadbeefabaddad2',
    plaintext: P15.slice(0, 120),
    ciphertext: C15.slice(0, 120),
    tag: '76fc6ece0f4e1768cddf8853bb2d551b',
  },
  {
    name: 'CAVP PTlen=0 AADlen=0 Count=0',
    key: 'b52c505a37d78eda5dd34f20c22540ea1b58963cf8e5bf8ffa85f9f2492505b4',
    nonce: '516c33929df5a3284ff463d7',
    aad: '',
    plaintext: '',
    ciphertext: '',
    tag: 'bdc1ac884d332457a1d2664f168c76f0',
  },
  {
    name: 'CAVP PTlen=128 AADlen=0 Count=0',
    key: '31bdadd96698c204aa9ce1448ea94ae1fb4a9a0b3c9d773b51bb1822666b8f22',
    nonce: '0d18e06c7c725ac9e362e1ce',
    aad: '',
    plaintext: '2db5168e932556f8089a0622981d017d',
    ciphertext: 'fa4362189661d163fcd6a56d8bf0405a',
    tag: 'd636ac1bbedd5cc3ee727dc2ab4a9489',
  },
  {
    name: 'CAVP PTlen=128 AADlen=128 Count=0',
    key: '92e11dcdaa866f5ce790fd24501f92509aacf4cb8b1339d50c9c1240935dd08b',
    nonce: 'ac93a1a6145299bde902f21a',
    aad: '1e0889016f67601c8ebea4943bc23ad6',
    plaintext: '2d71bcfa914e4ac045b2aa60955fad24',
    ciphertext: '8995ae2e6df3dbf96fac7b7137bae67f',
    tag: 'eca5aa77d51d4a0a14d9c51e1da474ab',
  },
  {
    name: 'CAVP PTlen=104 AADlen=160 Count=1',
    key: '97431e565e8370a4879de962746a2fd67eca868b1c8e51eece2c1f94f74af407',
    nonce: '17fb63066e2726d282ecc610',
    aad: '78e7374da7c77be5938de8dd76cf0308618306a9',
    plaintext: 'e21629cc973fbe40176e621d9d',
    ciphertext: '80dbd469de480389ba6c2fca52',
    tag: '4e284abb8b4f9f13c7497ae56df05fa5',
  },
  {
    name: 'CAVP PTlen=408 AADlen=720 Count=2',
    key: 'c277df045d0a1a3956958f271055c229d2634427b1d73e99d54920da69f72e01',
    nonce: '79e24f84bc77a21a6cb14ee2',
    aad:
      'ca09282238d492029afbd30ea9b4aa9d448d77b4b41a791c35ebe3f8e5034ac71210117a843fae647cea020712c27e' +
      '5c8f85acf933d5e28430c7770862d8dbb197cbbcfe49dd63f6aa05fbd13e32c459342698dfee5935c7c321',
    plaintext: '5ca68d858cc30b1cb0514c4e9de98e1a1a835df401f69e9ec6f1bcb1158f09114dff551683b3827457f77e17a7097b1ea69eac',
    ciphertext: '5c5223c8eda59a8dc28b08e6c21482a46e5d84d32c7050bf144fc57f4e8094de133198da7b4b8398b167204aff837da15d9ab2',
    tag: '378885950a4491bee3cd681d3c957b9a',
  },
];

// RFC 8998 Appendix A.1, as quoted in FORMAT.md.
const sm4Vectors: Vector[] = [
  {
    name: 'RFC 8998 A.1',
    key: '0123456789ABCDEFFEDCBA9876543210',
    nonce: '00001234567800000000ABCD',
    aad: 'FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2',
    plaintext:
      'AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDDEEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA',
    ciphertext:
      '17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D',
    tag: '83DE3541E4C2B58177E065A9BF7B62EC',
  },
];

const vectors: Record<SealAlgorithm, Vector[]> = { AES_256_GCM: aesVectors, SM4_128_GCM: sm4Vectors };

// A seeded generator, so that a failing random case can be reproduced.
function rng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * n;
  };
}

function bytes(random: (n: number) => number, n: number): Uint8Array {
  // Counter-mode SHA-256 keystream: fast, deterministic, and nothing like the ciphers under test.
  const out = new Uint8Array(n);
  const seed = Math.floor(random(2 ** 32));
  for (let i = 0; i < n; i += 32) {
    const block = createHash('sha256').update(`${seed}:${i}`).digest();
    out.set(block.subarray(0, Math.min(32, n - i)), i);
  }
  return out;
}

for (const algorithm of algorithms) {
  for (const backend of backends) {
    describe(`${algorithm} (${backend})`, () => {
      const cipher = cipherFor(algorithm, backend);

      it('identifies itself', () => {
        expect(cipher.algorithm).toBe(algorithm);
        // For AES the addon's choice is node:crypto's OpenSSL.
        expect(cipher.backend).toBe(algorithm === 'AES_256_GCM' && backend === 'addon' ? 'native' : backend);
      });

      for (const v of vectors[algorithm]) {
        it(`matches ${v.name}`, () => {
          const sealed = cipher.seal(hex(v.key), hex(v.nonce), hex(v.plaintext), hex(v.aad));
          expect(toHex(sealed)).toBe((v.ciphertext + v.tag).toLowerCase());
          const opened = cipher.open(hex(v.key), hex(v.nonce), hex(v.ciphertext + v.tag), hex(v.aad));
          expect(toHex(opened)).toBe(v.plaintext.toLowerCase());
        });
      }

      it('refuses every single-bit change of nonce, ciphertext, tag and AAD', () => {
        const random = rng(0x5ea1 + algorithm.length + backend.length);
        const key = bytes(random, keyBytes[algorithm]);
        const nonce = bytes(random, 12);
        const aad = bytes(random, 24);
        const sealed = cipher.seal(key, nonce, bytes(random, 40), aad);
        expect(sealed.length).toBe(56);
        let refused = 0;
        const expectRefused = (n: Uint8Array, s: Uint8Array, a: Uint8Array) => {
          expect(() => cipher.open(key, n, s, a)).toThrow(AuthenticationError);
          refused++;
        };
        const flipped = (b: Uint8Array, bit: number) => {
          const c = Uint8Array.from(b);
          c[bit >> 3] ^= 1 << (bit & 7);
          return c;
        };
        for (let bit = 0; bit < nonce.length * 8; bit++) expectRefused(flipped(nonce, bit), sealed, aad);
        for (let bit = 0; bit < sealed.length * 8; bit++) expectRefused(nonce, flipped(sealed, bit), aad); // ciphertext, then tag
        for (let bit = 0; bit < aad.length * 8; bit++) expectRefused(nonce, sealed, flipped(aad, bit));
        expect(refused).toBe(96 + 56 * 8 + 24 * 8);
        expect(cipher.open(key, nonce, sealed, aad)).toHaveLength(40); // the unmodified input still opens
      });

      it('refuses a wrong key, a truncated input and a dropped AAD', () => {
        const random = rng(7);
        const key = bytes(random, keyBytes[algorithm]);
        const nonce = bytes(random, 12);
        const aad = bytes(random, 5);
        const sealed = cipher.seal(key, nonce, bytes(random, 100), aad);
        const otherKey = Uint8Array.from(key);
        otherKey[0] ^= 0x80;
        expect(() => cipher.open(otherKey, nonce, sealed, aad)).toThrow(AuthenticationError);
        expect(() => cipher.open(key, nonce, sealed.subarray(0, sealed.length - 1), aad)).toThrow(AuthenticationError);
        expect(() => cipher.open(key, nonce, sealed.subarray(0, 15), aad)).toThrow(AuthenticationError);
        expect(() => cipher.open(key, nonce, sealed, new Uint8Array(0))).toThrow(AuthenticationError);
      });

      it('seals the empty plaintext to a bare tag', () => {
        const key = new Uint8Array(keyBytes[algorithm]).fill(9);
        const sealed = cipher.seal(key, new Uint8Array(12), new Uint8Array(0), new Uint8Array(0));
        expect(sealed).toHaveLength(16);
        expect(cipher.open(key, new Uint8Array(12), sealed, new Uint8Array(0))).toHaveLength(0);
      });

      it('rejects keys and nonces of the wrong size as caller errors', () => {
        const key = new Uint8Array(keyBytes[algorithm]);
        expect(() => cipher.seal(new Uint8Array(24), new Uint8Array(12), new Uint8Array(1), new Uint8Array(0))).toThrow(RangeError);
        expect(() => cipher.seal(key, new Uint8Array(16), new Uint8Array(1), new Uint8Array(0))).toThrow(RangeError);
        expect(() => cipher.open(key, new Uint8Array(8), new Uint8Array(32), new Uint8Array(0))).toThrow(RangeError);
      });

      it('follows a key array whose bytes are replaced between calls', () => {
        const random = rng(99);
        const key = bytes(random, keyBytes[algorithm]);
        const nonce = bytes(random, 12);
        const plaintext = bytes(random, 50);
        const first = cipher.seal(key, nonce, plaintext, new Uint8Array(0));
        const second = bytes(random, key.length);
        key.set(second); // same array object, different key
        expect(toHex(cipher.seal(key, nonce, plaintext, new Uint8Array(0)))).toBe(
          toHex(cipher.seal(Uint8Array.from(second), nonce, plaintext, new Uint8Array(0))),
        );
        expect(() => cipher.open(key, nonce, first, new Uint8Array(0))).toThrow(AuthenticationError);
      });
    });
  }

  describe(`${algorithm}: native and js agree`, () => {
    it('on 2000 random inputs, each backend opening what the other sealed', () => {
      const native = cipherFor(algorithm, 'native');
      const js = cipherFor(algorithm, 'js');
      const random = rng(algorithm === 'AES_256_GCM' ? 1 : 2);
      let large = 0;
      for (let i = 0; i < 2000; i++) {
        // Mostly log-line sizes, some tens of KB; lengths hit every residue mod 16.
        const r = random(1);
        const length = Math.floor(r < 0.85 ? random(1024) : r < 0.95 ? random(8192) : 8192 + random(70 * 1024 - 8192));
        if (length > 8192) large++;
        const key = bytes(random, keyBytes[algorithm]);
        const nonce = bytes(random, 12);
        const aad = bytes(random, Math.floor(random(65)));
        const plaintext = bytes(random, length);
        const a = native.seal(key, nonce, plaintext, aad);
        const b = js.seal(key, nonce, plaintext, aad);
        expect(toHex(a), `input ${i} (${length} bytes)`).toBe(toHex(b));
        // The parts the record layer seals with join to the same bytes, in both backends.
        expect(toHex(Buffer.concat(native.sealParts(key, nonce, plaintext, aad)))).toBe(toHex(a));
        expect(toHex(Buffer.concat(js.sealParts(key, nonce, plaintext, aad)))).toBe(toHex(a));
        expect(toHex(js.open(key, nonce, a, aad))).toBe(toHex(plaintext));
        expect(toHex(native.open(key, nonce, b, aad))).toBe(toHex(plaintext));
      }
      expect(large).toBeGreaterThan(20);
    });

    it('on every length around 2 KiB, where native SM4 switches from a cached ECB keystream to sm4-ctr', () => {
      const native = cipherFor(algorithm, 'native');
      const js = cipherFor(algorithm, 'js');
      const random = rng(3);
      const key = bytes(random, keyBytes[algorithm]);
      for (let length = 2000; length <= 2100; length++) {
        const nonce = bytes(random, 12);
        const plaintext = bytes(random, length);
        const sealed = native.seal(key, nonce, plaintext, nonce);
        expect(toHex(sealed), `${length} bytes`).toBe(toHex(js.seal(key, nonce, plaintext, nonce)));
        expect(toHex(native.open(key, nonce, sealed, nonce))).toBe(toHex(plaintext));
      }
    });
  });
}

describe('auto backend', () => {
  it('picks an implementation that passes its known-answer test', () => {
    for (const algorithm of algorithms) {
      const cipher = cipherFor(algorithm);
      expect(cipher.algorithm).toBe(algorithm);
      expect(selfTest(cipher)).toBe(true);
      expect(cipherFor(algorithm, 'auto')).toBe(cipher); // decided once
    }
  });

  it('self-test fails an implementation that is wrong, unavailable, or accepts forgeries', () => {
    const good = cipherFor('SM4_128_GCM', 'js');
    const wrong: AeadCipher = {
      ...good,
      algorithm: good.algorithm,
      backend: good.backend,
      seal: (k, n, p, a) => {
        const s = good.seal(k, n, p, a);
        s[0] ^= 1;
        return s;
      },
      sealParts: (k, n, p, a) => good.sealParts(k, n, p, a),
      open: (k, n, s, a) => good.open(k, n, s, a),
    };
    // Right as a whole, wrong in the parts the record layer seals with.
    const wrongParts: AeadCipher = {
      algorithm: good.algorithm,
      backend: good.backend,
      seal: (k, n, p, a) => good.seal(k, n, p, a),
      sealParts: (k, n, p, a) => good.sealParts(k, n, p, a).slice(0, 1),
      open: (k, n, s, a) => good.open(k, n, s, a),
    };
    const unavailable: AeadCipher = {
      algorithm: 'SM4_128_GCM',
      backend: 'native',
      seal: () => {
        throw new Error('Unsupported cipher');
      },
      sealParts: () => {
        throw new Error('Unsupported cipher');
      },
      open: () => {
        throw new Error('Unsupported cipher');
      },
    };
    const credulous: AeadCipher = {
      algorithm: 'SM4_128_GCM',
      backend: 'js',
      seal: (k, n, p, a) => good.seal(k, n, p, a),
      sealParts: (k, n, p, a) => good.sealParts(k, n, p, a),
      open: (k, n, s, a) => {
        try {
          return good.open(k, n, s, a);
        } catch {
          return new Uint8Array(0);
        }
      },
    };
    expect(selfTest(good)).toBe(true);
    expect(selfTest(wrong)).toBe(false);
    expect(selfTest(wrongParts)).toBe(false);
    expect(selfTest(unavailable)).toBe(false);
    expect(selfTest(credulous)).toBe(false);
  });
});
