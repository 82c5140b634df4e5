// The SM4 block cipher (GB/T 32907) in pure JavaScript, and the GCM counter mode over it, for the 'js' backend.
//
// Each round's S-box layer and linear transform L are folded into four 256-entry word tables
// (T_k[x] = L(Sbox[x] << 8(3-k)), the rotations of one table), so a round is four lookups and XORs.
// That is several times faster than sm-crypto's byte-array implementation (see native-bench/seal.ts),
// and, like any table-driven cipher, not hardened against cache-timing observers on the same host.

const SBOX = Uint8Array.from([
  0xd6, 0x90, 0xe9, 0xfe, 0xcc, 0xe1, 0x3d, 0xb7, 0x16, 0xb6, 0x14, 0xc2, 0x28, 0xfb, 0x2c, 0x05,
  0x2b, 0x67, 0x9a, 0x76, 0x2a, 0xbe, 0x04, 0xc3, 0xaa, 0x44, 0x13, 0x26, 0x49, 0x86, 0x06, 0x99,
  0x9c, 0x42, 0x50, 0xf4, 0x91, 0xef, 0x98, 0x7a, 0x33, 0x54, 0x0b, 0x43, 0xed, 0xcf, 0xac, 0x62,
  0xe4, 0xb3, 0x1c, 0xa9, 0xc9, 0x08, 0xe8, 0x95, 0x80, 0xdf, 0x94, 0xfa, 0x75, 0x8f, 0x3f, 0xa6,
  0x47, 0x07, 0xa7, 0xfc, 0xf3, 0x73, 0x17, 0xba, 0x83, 0x59, 0x3c, 0x19, 0xe6, 0x85, 0x4f, 0xa8,
  0x68, 0x6b, 0x81, 0xb2, 0x71, 0x64, 0xda, 0x8b, 0xf8, 0xeb, 0x0f, 0x4b, 0x70, 0x56, 0x9d, 0x35,
  0x1e, 0x24, 0x0e, 0x5e, 0x63, 0x58, 0xd1, 0xa2, 0x25, 0x22, 0x7c, 0x3b, 0x01, 0x21, 0x78, 0x87,
  0xd4, 0x00, 0x46, 0x57, 0x9f, 0xd3, 0x27, 0x52, 0x4c, 0x36, 0x02, 0xe7, 0xa0, 0xc4, 0xc8, 0x9e,
  0xea, 0xbf, 0x8a, 0xd2, 0x40, 0xc7, 0x38, 0xb5, 0xa3, 0xf7, 0xf2, 0xce, 0xf9, 0x61, 0x15, 0xa1,
  0xe0, 0xae, 0x5d, 0xa4, 0x9b, 0x34, 0x1a, 0x55, 0xad, 0x93, 0x32, 0x30, 0xf5, 0x8c, 0xb1, 0xe3,
  0x1d, 0xf6, 0xe2, 0x2e, 0x82, 0x66, 0xca, 0x60, 0xc0, 0x29, 0x23, 0xab, 0x0d, 0x53, 0x4e, 0x6f,
  0xd5, 0xdb, 0x37, 0x45, 0xde, 0xfd, 0x8e, 0x2f, 0x03, 0xff, 0x6a, 0x72, 0x6d, 0x6c, 0x5b, 0x51,
  0x8d, 0x1b, 0xaf, 0x92, 0xbb, 0xdd, 0xbc, 0x7f, 0x11, 0xd9, 0x5c, 0x41, 0x1f, 0x10, 0x5a, 0xd8,
  0x0a, 0xc1, 0x31, 0x88, 0xa5, 0xcd, 0x7b, 0xbd, 0x2d, 0x74, 0xd0, 0x12, 0xb8, 0xe5, 0xb4, 0xb0,
  0x89, 0x69, 0x97, 0x4a, 0x0c, 0x96, 0x77, 0x7e, 0x65, 0xb9, 0xf1, 0x09, 0xc5, 0x6e, 0xc6, 0x84,
  0x18, 0xf0, 0x7d, 0xec, 0x3a, 0xdc, 0x4d, 0x20, 0x79, 0xee, 0x5f, 0x3e, 0xd7, 0xcb, 0x39, 0x48,
]);

const FK = [0xa3b1bac6, 0x56aa3350, 0x677d9197, 0xb27022dc];

const rotl = (x: number, n: number): number => (x << n) | (x >>> (32 - n));

// Round constants CK_i: byte j of CK_i is (4i + j) · 7 mod 256.
const CK = Int32Array.from({ length: 32 }, (_, i) => {
  let w = 0;
  for (let j = 0; j < 4; j++) w = (w << 8) | (((4 * i + j) * 7) & 0xff);
  return w;
});

const T0 = new Int32Array(256), T1 = new Int32Array(256), T2 = new Int32Array(256), T3 = new Int32Array(256);
for (let x = 0; x < 256; x++) {
  const b = SBOX[x] << 24;
  const l = b ^ rotl(b, 2) ^ rotl(b, 10) ^ rotl(b, 18) ^ rotl(b, 24);
  T0[x] = l; T1[x] = rotl(l, 24); T2[x] = rotl(l, 16); T3[x] = rotl(l, 8);
}

function tau(a: number): number {
  return (SBOX[a >>> 24] << 24) | (SBOX[(a >>> 16) & 255] << 16) | (SBOX[(a >>> 8) & 255] << 8) | SBOX[a & 255];
}

/** The 32 encryption round keys for a 16-byte key. */
export function sm4RoundKeys(key: Uint8Array): Int32Array {
  if (key.length !== 16) throw new RangeError('sm4: key must be 16 bytes');
  let k0 = readWord(key, 0) ^ FK[0], k1 = readWord(key, 4) ^ FK[1], k2 = readWord(key, 8) ^ FK[2], k3 = readWord(key, 12) ^ FK[3];
  const rk = new Int32Array(32);
  for (let i = 0; i < 32; i++) {
    const b = tau(k1 ^ k2 ^ k3 ^ CK[i]);
    const k4 = k0 ^ b ^ rotl(b, 13) ^ rotl(b, 23);
    rk[i] = k4;
    k0 = k1; k1 = k2; k2 = k3; k3 = k4;
  }
  return rk;
}

/** Encrypts one 16-byte block. */
export function sm4EncryptBlock(rk: Int32Array, input: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  const s = new Int32Array([readWord(input, 0), readWord(input, 4), readWord(input, 8), readWord(input, 12)]);
  encryptWords(rk, s);
  for (let i = 0; i < 4; i++) writeWord(out, 4 * i, s[i]);
  return out;
}

/**
 * GCM's CTR step: XORs `src` with E_K(counter), E_K(inc32(counter)), … into a new array.
 * Only the low 32 bits of the counter block count, per SP 800-38D.
 */
export function sm4Ctr(rk: Int32Array, counter: Uint8Array, src: Uint8Array): Uint8Array {
  const out = new Uint8Array(src.length);
  const c0 = readWord(counter, 0), c1 = readWord(counter, 4), c2 = readWord(counter, 8);
  let c3 = readWord(counter, 12);
  const s = new Int32Array(4);
  for (let p = 0; p < src.length; p += 16) {
    s[0] = c0; s[1] = c1; s[2] = c2; s[3] = c3;
    encryptWords(rk, s);
    c3 = (c3 + 1) | 0;
    const n = Math.min(16, src.length - p);
    if (n === 16) {
      writeWord(out, p, readWord(src, p) ^ s[0]);
      writeWord(out, p + 4, readWord(src, p + 4) ^ s[1]);
      writeWord(out, p + 8, readWord(src, p + 8) ^ s[2]);
      writeWord(out, p + 12, readWord(src, p + 12) ^ s[3]);
    } else {
      for (let i = 0; i < n; i++) out[p + i] = src[p + i] ^ (s[i >>> 2] >>> (24 - 8 * (i & 3)));
    }
  }
  s.fill(0);
  return out;
}

// X_{i+4} = X_i ^ T(X_{i+1} ^ X_{i+2} ^ X_{i+3} ^ rk_i); the output is the last four words reversed.
function encryptWords(rk: Int32Array, s: Int32Array): void {
  let x0 = s[0], x1 = s[1], x2 = s[2], x3 = s[3];
  for (let r = 0; r < 32; r += 4) {
    let a = x1 ^ x2 ^ x3 ^ rk[r];
    x0 ^= T0[a >>> 24] ^ T1[(a >>> 16) & 255] ^ T2[(a >>> 8) & 255] ^ T3[a & 255];
    a = x2 ^ x3 ^ x0 ^ rk[r + 1];
    x1 ^= T0[a >>> 24] ^ T1[(a >>> 16) & 255] ^ T2[(a >>> 8) & 255] ^ T3[a & 255];
    a = x3 ^ x0 ^ x1 ^ rk[r + 2];
    x2 ^= T0[a >>> 24] ^ T1[(a >>> 16) & 255] ^ T2[(a >>> 8) & 255] ^ T3[a & 255];
    a = x0 ^ x1 ^ x2 ^ rk[r + 3];
    x3 ^= T0[a >>> 24] ^ T1[(a >>> 16) & 255] ^ T2[(a >>> 8) & 255] ^ T3[a & 255];
  }
  s[0] = x3; s[1] = x2; s[2] = x1; s[3] = x0;
}

function readWord(b: Uint8Array, i: number): number {
  return (b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3];
}

function writeWord(b: Uint8Array, i: number, w: number): void {
  b[i] = w >>> 24; b[i + 1] = w >>> 16; b[i + 2] = w >>> 8; b[i + 3] = w;
}
