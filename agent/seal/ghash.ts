// GHASH (NIST SP 800-38D §6.4) for SM4-GCM, which OpenSSL 3.0 does not offer: per-key 8-bit tables, 32-bit limbs.
//
// A field element is four big-endian 32-bit words; byte 0's top bit is the coefficient of x^0.
// For each of the 16 byte positions we precompute the product of H with every possible byte there
// (16 × 256 entries × 4 words = 64 KiB), so one block multiplication is 16 table rows XORed together
// with no shifting or reduction. The tables cost ~4096 row XORs to build, which is why callers keep one per
// data key rather than one per record. Table lookups are indexed by secret-dependent bytes: like every
// table-driven GHASH in JavaScript this is not hardened against cache-timing observers on the same host.

const ROW = 4; // words per entry
const POSITION = 256 * ROW; // words per byte position

/** GHASH under one hash subkey; `digest` returns a fresh array, which the caller may overwrite (SM4-GCM XORs E_K(J0) into it). */
export interface GhashDigest {
  digest(aad: Uint8Array, ciphertext: Uint8Array): Uint8Array;
}

export class GhashKey implements GhashDigest {
  private readonly table = new Int32Array(16 * POSITION);
  // The running hash. Fields rather than a typed array: a record in mode `log` is a handful of blocks,
  // and allocating typed arrays would cost more than hashing them.
  private y0 = 0;
  private y1 = 0;
  private y2 = 0;
  private y3 = 0;

  /** `h` is the hash subkey E_K(0^128). */
  constructor(h: Uint8Array) {
    if (h.length !== 16) throw new RangeError('ghash: hash subkey must be 16 bytes');
    const t = this.table;
    let v0 = word(h, 0), v1 = word(h, 4), v2 = word(h, 8), v3 = word(h, 12);
    // Entries for single bits: bit j (0x80 >> j) of byte i stands for x^(8i+j), i.e. H·x^(8i+j).
    for (let i = 0; i < 16; i++) {
      for (let j = 0; j < 8; j++) {
        const o = i * POSITION + (0x80 >>> j) * ROW;
        t[o] = v0; t[o + 1] = v1; t[o + 2] = v2; t[o + 3] = v3;
        // Multiply by x: shift towards higher degree (rightwards in GCM's bit order), reduce by x^128 = x^7+x^2+x+1.
        const carry = v3 & 1;
        v3 = (v3 >>> 1) | (v2 << 31);
        v2 = (v2 >>> 1) | (v1 << 31);
        v1 = (v1 >>> 1) | (v0 << 31);
        v0 = (v0 >>> 1) ^ (-carry & 0xe1000000);
      }
      // Every other byte value is the XOR of its lowest set bit's entry and the entry without that bit.
      const base = i * POSITION;
      for (let b = 3; b < 256; b++) {
        const low = b & -b;
        if (low === b) continue;
        const o = base + b * ROW, x = base + (b ^ low) * ROW, y = base + low * ROW;
        t[o] = t[x] ^ t[y]; t[o + 1] = t[x + 1] ^ t[y + 1]; t[o + 2] = t[x + 2] ^ t[y + 2]; t[o + 3] = t[x + 3] ^ t[y + 3];
      }
    }
  }

  /** GHASH_H(A, C): A and C each zero-padded to whole blocks, then the 64-bit bit lengths of both. */
  digest(aad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    this.y0 = this.y1 = this.y2 = this.y3 = 0;
    this.absorb(aad);
    this.absorb(ciphertext);
    this.block(Math.floor(aad.length / 0x20000000), (aad.length * 8) >>> 0, Math.floor(ciphertext.length / 0x20000000), (ciphertext.length * 8) >>> 0);
    const out = new Uint8Array(16);
    putWord(out, 0, this.y0);
    putWord(out, 4, this.y1);
    putWord(out, 8, this.y2);
    putWord(out, 12, this.y3);
    return out;
  }

  private absorb(d: Uint8Array): void {
    const n = d.length, whole = n & ~15;
    for (let p = 0; p < whole; p += 16) this.block(word(d, p), word(d, p + 4), word(d, p + 8), word(d, p + 12));
    if (whole < n) this.block(tailWord(d, whole, n), tailWord(d, whole + 4, n), tailWord(d, whole + 8, n), tailWord(d, whole + 12, n));
  }

  /** Y = (Y XOR X) · H. */
  private block(x0: number, x1: number, x2: number, x3: number): void {
    const t = this.table;
    const y0 = this.y0 ^ x0, y1 = this.y1 ^ x1, y2 = this.y2 ^ x2, y3 = this.y3 ^ x3;
    let z0 = 0, z1 = 0, z2 = 0, z3 = 0;
    for (let i = 0; i < 16; i++) {
      const w = i < 4 ? y0 : i < 8 ? y1 : i < 12 ? y2 : y3;
      const o = i * POSITION + (((w >>> (24 - 8 * (i & 3))) & 255) << 2);
      z0 ^= t[o]; z1 ^= t[o + 1]; z2 ^= t[o + 2]; z3 ^= t[o + 3];
    }
    this.y0 = z0; this.y1 = z1; this.y2 = z2; this.y3 = z3;
  }
}

function word(b: Uint8Array, i: number): number {
  return (b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3];
}

/** A word of the last, partial block: bytes at or past `n` read as the zero padding. */
function tailWord(b: Uint8Array, i: number, n: number): number {
  let w = 0;
  for (let k = i; k < i + 4; k++) w = (w << 8) | (k < n ? b[k] : 0);
  return w;
}

function putWord(b: Uint8Array, i: number, w: number): void {
  b[i] = w >>> 24; b[i + 1] = w >>> 16; b[i + 2] = w >>> 8; b[i + 3] = w;
}
