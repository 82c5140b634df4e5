// SM4 (GB/T 32907) in GCM (RFC 8998) for the addon: the S-box through AES-NI on eight blocks at once, through GFNI
// on sixteen (AVX2) or ninety-six (AVX-512), or a portable table-free S-box, so that no path indexes memory with
// secret bytes. GHASH comes from ghash.c.
//
// The SM4 and AES S-boxes are both inversion in GF(2^8) between affine maps, and the two fields are isomorphic:
// S_sm4(x) = A2 · S_aes(A1 · x + c1) + c2 (M.-J. O. Saarinen, "sm4ni", 2018; the Linux kernel's sm4-aesni-avx).
// The affine maps are applied a nibble at a time with PSHUFB; AESENCLAST with a zero round key applies the AES
// S-box, after an inverse ShiftRows so that its ShiftRows puts every byte back where it was.

#include "napi-args.h"
#include "sealed.h"
#include "sm4.h"
#include <string.h>

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define SM4_HAVE_AESNI 1
#include <cpuid.h>
#include <immintrin.h>
// The AVX2 paths need GFNI and VAES intrinsics and their names in __builtin_cpu_supports: GCC 11, clang 12.
#if defined(__clang__) ? __clang_major__ >= 12 : __GNUC__ >= 11
#define SM4_HAVE_AVX2 1
#endif
#endif

static uint32_t load_be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void store_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static uint32_t rotl(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

/* ---- portable, constant time: the S-box computed, four bytes at once in a 32-bit word ---- */

/* An affine map of GF(2)^8 on each byte of w: c XOR the columns of the bits set. */
static uint32_t affine4(uint32_t w, const uint8_t col[8], uint8_t c) {
  uint32_t y = 0x01010101u * c;
  for (int i = 0; i < 8; i++) y ^= ((w >> i) & 0x01010101u) * col[i];
  return y;
}

/* Bytewise product in GF(2^8) modulo the AES polynomial x^8 + x^4 + x^3 + x + 1, without branches. */
static uint32_t gmul4(uint32_t a, uint32_t b) {
  uint32_t r = 0;
  for (int i = 0; i < 8; i++) {
    r ^= a & (((b >> i) & 0x01010101u) * 0xffu);
    a = ((a & 0x7f7f7f7fu) << 1) ^ (((a >> 7) & 0x01010101u) * 0x1bu);
  }
  return r;
}

/* x^254 bytewise: the inverse, with 0 mapped to 0. */
static uint32_t ginv4(uint32_t x) {
  uint32_t x2 = gmul4(x, x), x3 = gmul4(x2, x), x6 = gmul4(x3, x3), x7 = gmul4(x6, x);
  uint32_t x12 = gmul4(x6, x6), x15 = gmul4(x12, x3), x30 = gmul4(x15, x15), x60 = gmul4(x30, x30);
  uint32_t x120 = gmul4(x60, x60), x127 = gmul4(x120, x7);
  return gmul4(x127, x127);
}

// A1 into the AES field, then the inverse there, then the AES affine map and A2 folded into one map back.
// Derived from the nibble tables of the AES-NI path below; the tests check all 256 inputs against GB/T 32907.
static const uint8_t into_aes_col[8] = {0x75, 0xc9, 0xdf, 0x3a, 0x98, 0x37, 0x6c, 0xab};
static const uint8_t from_aes_col[8] = {0xcb, 0x24, 0x79, 0xb8, 0x23, 0x17, 0x93, 0xca};

static uint32_t tau(uint32_t w) { return affine4(ginv4(affine4(w, into_aes_col, 0x69)), from_aes_col, 0xd3); }

static uint32_t portable_t(uint32_t w) {
  uint32_t b = tau(w);
  return b ^ rotl(b, 2) ^ rotl(b, 10) ^ rotl(b, 18) ^ rotl(b, 24);
}

static void portable_encrypt(const uint32_t rk[32], const uint8_t in[16], uint8_t out[16]) {
  uint32_t x0 = load_be32(in), x1 = load_be32(in + 4), x2 = load_be32(in + 8), x3 = load_be32(in + 12);
  for (int r = 0; r < 32; r += 4) {
    x0 ^= portable_t(x1 ^ x2 ^ x3 ^ rk[r]);
    x1 ^= portable_t(x2 ^ x3 ^ x0 ^ rk[r + 1]);
    x2 ^= portable_t(x3 ^ x0 ^ x1 ^ rk[r + 2]);
    x3 ^= portable_t(x0 ^ x1 ^ x2 ^ rk[r + 3]);
  }
  store_be32(out, x3);
  store_be32(out + 4, x2);
  store_be32(out + 8, x1);
  store_be32(out + 12, x0);
}

static void key_schedule(const uint8_t key[16], uint32_t rk[32]) {
  static const uint32_t fk[4] = {0xa3b1bac6u, 0x56aa3350u, 0x677d9197u, 0xb27022dcu};
  uint32_t k[4];
  for (int i = 0; i < 4; i++) k[i] = load_be32(key + 4 * i) ^ fk[i];
  for (int i = 0; i < 32; i++) {
    uint32_t ck = 0; // byte j of CK_i is (4i + j) · 7 mod 256
    for (int j = 0; j < 4; j++) ck = (ck << 8) | (((4 * i + j) * 7) & 0xff);
    uint32_t b = tau(k[1] ^ k[2] ^ k[3] ^ ck);
    uint32_t next = k[0] ^ b ^ rotl(b, 13) ^ rotl(b, 23);
    rk[i] = next;
    k[0] = k[1];
    k[1] = k[2];
    k[2] = k[3];
    k[3] = next;
  }
  memset(k, 0, sizeof k);
}

/* ---- AES-NI: eight blocks as two groups of four, each word of the four blocks in one register ---- */

#ifdef SM4_HAVE_AESNI
#define TARGET __attribute__((target("aes,ssse3,sse4.1")))

typedef struct {
  __m128i m1l, m1h, m2l, m2h, inv_shift_rows, nibble, rol8, rol16, rol24;
} sbox_consts;

TARGET static inline sbox_consts load_consts(void) {
  sbox_consts c;
  c.m1l = _mm_set_epi64x(0x3045F98CEF9A2653LL, 0x0A7FC3B6D5A01C69LL);
  c.m1h = _mm_set_epi64x(0x68F05FC7049C33ABLL, (long long)0xC35BF46CAF379800ULL);
  c.m2l = _mm_set_epi64x(0x0E019E916A65FAF5LL, (long long)0x9A950A05FEF16E61ULL);
  c.m2h = _mm_set_epi64x(0x2C88CC68E14501A5LL, (long long)0x892D69CD44E0A400ULL);
  c.inv_shift_rows = _mm_set_epi64x(0x0306090C0F020508LL, 0x0B0E0104070A0D00LL);
  c.nibble = _mm_set1_epi8(0x0f);
  // Rotations of each 32-bit lane by whole bytes: lane byte k takes byte k - r/8 (mod 4).
  c.rol8 = _mm_set_epi8(14, 13, 12, 15, 10, 9, 8, 11, 6, 5, 4, 7, 2, 1, 0, 3);
  c.rol16 = _mm_set_epi8(13, 12, 15, 14, 9, 8, 11, 10, 5, 4, 7, 6, 1, 0, 3, 2);
  c.rol24 = _mm_set_epi8(12, 15, 14, 13, 8, 11, 10, 9, 4, 7, 6, 5, 0, 3, 2, 1);
  return c;
}

/* T(x) = L(S-box of every byte of x) on four words at once. */
TARGET static inline __m128i aesni_t(const sbox_consts *c, __m128i x) {
  __m128i lo = _mm_shuffle_epi8(c->m1l, _mm_and_si128(x, c->nibble));
  __m128i hi = _mm_shuffle_epi8(c->m1h, _mm_and_si128(_mm_srli_epi64(x, 4), c->nibble));
  x = _mm_shuffle_epi8(_mm_xor_si128(lo, hi), c->inv_shift_rows);
  x = _mm_aesenclast_si128(x, _mm_setzero_si128());
  lo = _mm_shuffle_epi8(c->m2l, _mm_and_si128(x, c->nibble));
  hi = _mm_shuffle_epi8(c->m2h, _mm_and_si128(_mm_srli_epi64(x, 4), c->nibble));
  x = _mm_xor_si128(lo, hi);
  // L(x) = x ^ rol(x, 24) ^ rol(x ^ rol(x, 8) ^ rol(x, 16), 2)
  __m128i t = _mm_xor_si128(_mm_xor_si128(x, _mm_shuffle_epi8(x, c->rol8)), _mm_shuffle_epi8(x, c->rol16));
  t = _mm_xor_si128(_mm_slli_epi32(t, 2), _mm_srli_epi32(t, 30));
  return _mm_xor_si128(_mm_xor_si128(x, _mm_shuffle_epi8(x, c->rol24)), t);
}

/* Four blocks from memory into word-sliced registers: w[k] holds word k (big-endian) of each block. */
TARGET static inline void load4(const uint8_t *in, __m128i w[4]) {
  const __m128i bswap32 = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
  __m128i b0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)in), bswap32);
  __m128i b1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(in + 16)), bswap32);
  __m128i b2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(in + 32)), bswap32);
  __m128i b3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(in + 48)), bswap32);
  __m128i t0 = _mm_unpacklo_epi32(b0, b1), t1 = _mm_unpackhi_epi32(b0, b1);
  __m128i t2 = _mm_unpacklo_epi32(b2, b3), t3 = _mm_unpackhi_epi32(b2, b3);
  w[0] = _mm_unpacklo_epi64(t0, t2);
  w[1] = _mm_unpackhi_epi64(t0, t2);
  w[2] = _mm_unpacklo_epi64(t1, t3);
  w[3] = _mm_unpackhi_epi64(t1, t3);
}

/* The inverse of load4, for the output words (already in output order). */
TARGET static inline void store4(uint8_t *out, __m128i y0, __m128i y1, __m128i y2, __m128i y3) {
  const __m128i bswap32 = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
  __m128i t0 = _mm_unpacklo_epi32(y0, y1), t1 = _mm_unpackhi_epi32(y0, y1);
  __m128i t2 = _mm_unpacklo_epi32(y2, y3), t3 = _mm_unpackhi_epi32(y2, y3);
  _mm_storeu_si128((__m128i *)out, _mm_shuffle_epi8(_mm_unpacklo_epi64(t0, t2), bswap32));
  _mm_storeu_si128((__m128i *)(out + 16), _mm_shuffle_epi8(_mm_unpackhi_epi64(t0, t2), bswap32));
  _mm_storeu_si128((__m128i *)(out + 32), _mm_shuffle_epi8(_mm_unpacklo_epi64(t1, t3), bswap32));
  _mm_storeu_si128((__m128i *)(out + 48), _mm_shuffle_epi8(_mm_unpackhi_epi64(t1, t3), bswap32));
}

/* Encrypts eight blocks: two independent groups of four keep the AES unit and the shuffles busy together. */
TARGET static void aesni_encrypt8(const uint32_t rk[32], const uint8_t in[128], uint8_t out[128]) {
  const sbox_consts c = load_consts();
  __m128i a[4], b[4];
  load4(in, a);
  load4(in + 64, b);
#define SM4_ROUND(i, x0, x1, x2, x3)                                                                      \
  do {                                                                                                  \
    const __m128i k = _mm_set1_epi32((int)rk[i]);                                                       \
    a[x0] = _mm_xor_si128(a[x0], aesni_t(&c, _mm_xor_si128(_mm_xor_si128(a[x1], a[x2]), _mm_xor_si128(a[x3], k)))); \
    b[x0] = _mm_xor_si128(b[x0], aesni_t(&c, _mm_xor_si128(_mm_xor_si128(b[x1], b[x2]), _mm_xor_si128(b[x3], k)))); \
  } while (0)
  for (int r = 0; r < 32; r += 4) {
    SM4_ROUND(r, 0, 1, 2, 3);
    SM4_ROUND(r + 1, 1, 2, 3, 0);
    SM4_ROUND(r + 2, 2, 3, 0, 1);
    SM4_ROUND(r + 3, 3, 0, 1, 2);
  }
#undef SM4_ROUND
  store4(out, a[3], a[2], a[1], a[0]);
  store4(out + 64, b[3], b[2], b[1], b[0]);
}

#ifdef SM4_HAVE_AVX2
/* ---- AVX2: sixteen blocks as two groups of eight, two 128-bit lanes per register ---- */
// The same word-sliced layout, lane by lane. The S-box comes from GFNI where the CPU has it (one affine map
// into the AES field, then inversion and the way back in one GF2P8AFFINEINVQB, as the kernel's sm4-gfni does),
// else from VAES (the AES-NI technique above, on both lanes at once).

#define TARGET_GFNI __attribute__((target("avx2,gfni")))
#define TARGET_VAES __attribute__((target("avx2,vaes,aes")))

/* The affine maps of the portable path as GF2P8AFFINEQB matrices: byte 7 - i of the qword is the row of output bit i. */
#define INTO_AES_MATRIX 0xa7ac65de3de94796LL
#define FROM_AES_MATRIX 0x75f1228d6c1e85c9LL

#define YMM_BYTES(m) _mm256_broadcastsi128_si256(m)

#define YMM_LINEAR(x, rol8, rol16, rol24, out)                                                                      \
  do {                                                                                                              \
    __m256i t_ = _mm256_xor_si256(_mm256_xor_si256(x, _mm256_shuffle_epi8(x, rol8)), _mm256_shuffle_epi8(x, rol16)); \
    t_ = _mm256_xor_si256(_mm256_slli_epi32(t_, 2), _mm256_srli_epi32(t_, 30));                                     \
    out = _mm256_xor_si256(_mm256_xor_si256(x, _mm256_shuffle_epi8(x, rol24)), t_);                                 \
  } while (0)

#define YMM_LOAD8(in, w)                                                                                            \
  do {                                                                                                              \
    const __m256i bswap32_ = YMM_BYTES(_mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3));         \
    __m256i b_[4];                                                                                                  \
    for (int j_ = 0; j_ < 4; j_++)                                                                                  \
      b_[j_] = _mm256_shuffle_epi8(_mm256_loadu2_m128i((const __m128i *)((in) + 64 + 16 * j_),                      \
                                                       (const __m128i *)((in) + 16 * j_)), bswap32_);               \
    __m256i t0_ = _mm256_unpacklo_epi32(b_[0], b_[1]), t1_ = _mm256_unpackhi_epi32(b_[0], b_[1]);                  \
    __m256i t2_ = _mm256_unpacklo_epi32(b_[2], b_[3]), t3_ = _mm256_unpackhi_epi32(b_[2], b_[3]);                  \
    w[0] = _mm256_unpacklo_epi64(t0_, t2_);                                                                         \
    w[1] = _mm256_unpackhi_epi64(t0_, t2_);                                                                         \
    w[2] = _mm256_unpacklo_epi64(t1_, t3_);                                                                         \
    w[3] = _mm256_unpackhi_epi64(t1_, t3_);                                                                         \
  } while (0)

#define YMM_STORE8(out, y0, y1, y2, y3)                                                                             \
  do {                                                                                                              \
    const __m256i bswap32_ = YMM_BYTES(_mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3));         \
    __m256i t0_ = _mm256_unpacklo_epi32(y0, y1), t1_ = _mm256_unpackhi_epi32(y0, y1);                              \
    __m256i t2_ = _mm256_unpacklo_epi32(y2, y3), t3_ = _mm256_unpackhi_epi32(y2, y3);                              \
    __m256i o_[4] = {_mm256_unpacklo_epi64(t0_, t2_), _mm256_unpackhi_epi64(t0_, t2_),                              \
                     _mm256_unpacklo_epi64(t1_, t3_), _mm256_unpackhi_epi64(t1_, t3_)};                             \
    for (int j_ = 0; j_ < 4; j_++)                                                                                  \
      _mm256_storeu2_m128i((__m128i *)((out) + 64 + 16 * j_), (__m128i *)((out) + 16 * j_),                        \
                           _mm256_shuffle_epi8(o_[j_], bswap32_));                                                  \
  } while (0)

#define YMM_ROUND(sbox, i, x0, x1, x2, x3)                                                                           \
  do {                                                                                                              \
    const __m256i k_ = _mm256_set1_epi32((int)rk[i]);                                                               \
    __m256i sa_ = sbox(_mm256_xor_si256(_mm256_xor_si256(a[x1], a[x2]), _mm256_xor_si256(a[x3], k_)));              \
    __m256i sb_ = sbox(_mm256_xor_si256(_mm256_xor_si256(b[x1], b[x2]), _mm256_xor_si256(b[x3], k_)));              \
    __m256i la_, lb_;                                                                                               \
    YMM_LINEAR(sa_, rol8, rol16, rol24, la_);                                                                       \
    YMM_LINEAR(sb_, rol8, rol16, rol24, lb_);                                                                       \
    a[x0] = _mm256_xor_si256(a[x0], la_);                                                                           \
    b[x0] = _mm256_xor_si256(b[x0], lb_);                                                                           \
  } while (0)

/* Sixteen blocks with `sbox(x)` the S-box of every byte of a register; the rest is shared by both paths. */
#define YMM_ENCRYPT16(sbox)                                                                                         \
  const __m256i rol8 = YMM_BYTES(_mm_set_epi8(14, 13, 12, 15, 10, 9, 8, 11, 6, 5, 4, 7, 2, 1, 0, 3));               \
  const __m256i rol16 = YMM_BYTES(_mm_set_epi8(13, 12, 15, 14, 9, 8, 11, 10, 5, 4, 7, 6, 1, 0, 3, 2));              \
  const __m256i rol24 = YMM_BYTES(_mm_set_epi8(12, 15, 14, 13, 8, 11, 10, 9, 4, 7, 6, 5, 0, 3, 2, 1));              \
  __m256i a[4], b[4];                                                                                               \
  YMM_LOAD8(in, a);                                                                                                 \
  YMM_LOAD8(in + 128, b);                                                                                           \
  for (int r = 0; r < 32; r += 4) {                                                                                 \
    YMM_ROUND(sbox, r, 0, 1, 2, 3);                                                                                 \
    YMM_ROUND(sbox, r + 1, 1, 2, 3, 0);                                                                             \
    YMM_ROUND(sbox, r + 2, 2, 3, 0, 1);                                                                             \
    YMM_ROUND(sbox, r + 3, 3, 0, 1, 2);                                                                             \
  }                                                                                                                 \
  YMM_STORE8(out, a[3], a[2], a[1], a[0]);                                                                          \
  YMM_STORE8(out + 128, b[3], b[2], b[1], b[0]);

TARGET_GFNI static inline __m256i gfni_sbox(__m256i x) {
  x = _mm256_gf2p8affine_epi64_epi8(x, _mm256_set1_epi64x(INTO_AES_MATRIX), 0x69);
  return _mm256_gf2p8affineinv_epi64_epi8(x, _mm256_set1_epi64x(FROM_AES_MATRIX), 0xd3);
}

TARGET_GFNI static void gfni_encrypt16(const uint32_t rk[32], const uint8_t in[256], uint8_t out[256]) {
  YMM_ENCRYPT16(gfni_sbox)
}

TARGET_VAES static inline __m256i vaes_sbox(__m256i x) {
  const __m256i nibble = _mm256_set1_epi8(0x0f);
  const __m256i m1l = YMM_BYTES(_mm_set_epi64x(0x3045F98CEF9A2653LL, 0x0A7FC3B6D5A01C69LL));
  const __m256i m1h = YMM_BYTES(_mm_set_epi64x(0x68F05FC7049C33ABLL, (long long)0xC35BF46CAF379800ULL));
  const __m256i m2l = YMM_BYTES(_mm_set_epi64x(0x0E019E916A65FAF5LL, (long long)0x9A950A05FEF16E61ULL));
  const __m256i m2h = YMM_BYTES(_mm_set_epi64x(0x2C88CC68E14501A5LL, (long long)0x892D69CD44E0A400ULL));
  const __m256i inv_shift_rows = YMM_BYTES(_mm_set_epi64x(0x0306090C0F020508LL, 0x0B0E0104070A0D00LL));
  __m256i lo = _mm256_shuffle_epi8(m1l, _mm256_and_si256(x, nibble));
  __m256i hi = _mm256_shuffle_epi8(m1h, _mm256_and_si256(_mm256_srli_epi64(x, 4), nibble));
  x = _mm256_shuffle_epi8(_mm256_xor_si256(lo, hi), inv_shift_rows);
  x = _mm256_aesenclast_epi128(x, _mm256_setzero_si256());
  lo = _mm256_shuffle_epi8(m2l, _mm256_and_si256(x, nibble));
  hi = _mm256_shuffle_epi8(m2h, _mm256_and_si256(_mm256_srli_epi64(x, 4), nibble));
  return _mm256_xor_si256(lo, hi);
}

TARGET_VAES static void vaes_encrypt16(const uint32_t rk[32], const uint8_t in[256], uint8_t out[256]) {
  YMM_ENCRYPT16(vaes_sbox)
}

/* ---- AVX-512 and GFNI: ninety-six blocks as six groups of sixteen, four 128-bit lanes per register ---- */
// Each register holds one word of sixteen blocks: its lane l that of blocks l, 4 + l, 8 + l and 12 + l after a 4x4
// transpose within the lanes of four registers loaded whole (the store is the same transpose, so no block moves).
// The S-box is GFNI's as above; the rotations of L are VPROLD and the XORs of three terms one VPTERNLOGD each.

#define TARGET_AVX512 __attribute__((target("avx512f,avx512bw,gfni")))
#define XOR3 0x96 /* VPTERNLOGD's truth table of a ^ b ^ c */

#define ZMM_BSWAP32()                                                                                               \
  _mm512_broadcast_i32x4(_mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3))

#define ZMM_TRANSPOSE(x0, x1, x2, x3, y0, y1, y2, y3)                                                               \
  do {                                                                                                              \
    __m512i t0_ = _mm512_unpacklo_epi32(x0, x1), t1_ = _mm512_unpackhi_epi32(x0, x1);                              \
    __m512i t2_ = _mm512_unpacklo_epi32(x2, x3), t3_ = _mm512_unpackhi_epi32(x2, x3);                              \
    y0 = _mm512_unpacklo_epi64(t0_, t2_);                                                                           \
    y1 = _mm512_unpackhi_epi64(t0_, t2_);                                                                           \
    y2 = _mm512_unpacklo_epi64(t1_, t3_);                                                                           \
    y3 = _mm512_unpackhi_epi64(t1_, t3_);                                                                           \
  } while (0)

#define ZMM_LOAD16(in, w)                                                                                           \
  do {                                                                                                              \
    __m512i b_[4];                                                                                                  \
    for (int j_ = 0; j_ < 4; j_++)                                                                                  \
      b_[j_] = _mm512_shuffle_epi8(_mm512_loadu_si512((const void *)((in) + 64 * j_)), bswap32);                   \
    ZMM_TRANSPOSE(b_[0], b_[1], b_[2], b_[3], w[0], w[1], w[2], w[3]);                                               \
  } while (0)

#define ZMM_STORE16(out, y0, y1, y2, y3)                                                                            \
  do {                                                                                                              \
    __m512i o_[4];                                                                                                  \
    ZMM_TRANSPOSE(y0, y1, y2, y3, o_[0], o_[1], o_[2], o_[3]);                                                      \
    for (int j_ = 0; j_ < 4; j_++) _mm512_storeu_si512((void *)((out) + 64 * j_), _mm512_shuffle_epi8(o_[j_], bswap32)); \
  } while (0)

TARGET_AVX512 static inline __m512i zmm_sbox(__m512i x) {
  x = _mm512_gf2p8affine_epi64_epi8(x, _mm512_set1_epi64(INTO_AES_MATRIX), 0x69);
  return _mm512_gf2p8affineinv_epi64_epi8(x, _mm512_set1_epi64(FROM_AES_MATRIX), 0xd3);
}

/* x0 ^= L(S(x1 ^ x2 ^ x3 ^ k)), L(s) = s ^ (s <<< 2) ^ (s <<< 10) ^ (s <<< 18) ^ (s <<< 24). */
TARGET_AVX512 static inline __m512i zmm_round(__m512i x0, __m512i x1, __m512i x2, __m512i x3, __m512i k) {
  __m512i s = zmm_sbox(_mm512_xor_si512(_mm512_ternarylogic_epi32(x1, x2, x3, XOR3), k));
  __m512i t = _mm512_ternarylogic_epi32(x0, s, _mm512_rol_epi32(s, 2), XOR3);
  t = _mm512_ternarylogic_epi32(t, _mm512_rol_epi32(s, 10), _mm512_rol_epi32(s, 18), XOR3);
  return _mm512_xor_si512(t, _mm512_rol_epi32(s, 24));
}

/* ZMM_CHAINS groups of sixteen blocks, interleaved round by round: one group alone waits on the latency of its S-box.
 * ECB on 1 MiB here (best of 15): 2754, 3726, 4070 and 4154 MB/CPU-s with 2, 4, 6 and 8 groups; GFNI on AVX2 1120. */
#define ZMM_CHAINS 6
TARGET_AVX512 static void avx512_encrypt(const uint32_t rk[32], const uint8_t in[256 * ZMM_CHAINS], uint8_t out[256 * ZMM_CHAINS]) {
  const __m512i bswap32 = ZMM_BSWAP32();
  __m512i x[ZMM_CHAINS][4];
#pragma GCC unroll 8
  for (int c = 0; c < ZMM_CHAINS; c++) ZMM_LOAD16(in + 256 * c, x[c]);
  for (int r = 0; r < 32; r += 4) {
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
      __m512i k = _mm512_set1_epi32((int)rk[r + i]);
#pragma GCC unroll 8
      for (int c = 0; c < ZMM_CHAINS; c++) x[c][i] = zmm_round(x[c][i], x[c][(i + 1) & 3], x[c][(i + 2) & 3], x[c][(i + 3) & 3], k);
    }
  }
#pragma GCC unroll 8
  for (int c = 0; c < ZMM_CHAINS; c++) ZMM_STORE16(out + 256 * c, x[c][3], x[c][2], x[c][1], x[c][0]);
}
#endif

static unsigned detect_best_kind(void) {
  unsigned a, b, c, d;
  if (!(__get_cpuid(1, &a, &b, &c, &d) && (c & bit_AES) && (c & bit_SSSE3) && (c & bit_SSE4_1))) return SM4_KIND_PORTABLE;
#ifdef SM4_HAVE_AVX2
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("gfni"))
    return SM4_KIND_AVX512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("gfni")) return SM4_KIND_GFNI;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("vaes")) return SM4_KIND_VAES;
#endif
  return SM4_KIND_AESNI;
}
#else
static unsigned detect_best_kind(void) { return SM4_KIND_PORTABLE; }
#endif

static unsigned best_kind(void) {
#ifdef __GNUC__
  static unsigned known = 0; // written by whichever thread asks first; every thread computes the same value
  unsigned v = __atomic_load_n(&known, __ATOMIC_RELAXED);
  if (v == 0) {
    v = detect_best_kind();
    __atomic_store_n(&known, v, __ATOMIC_RELAXED);
  }
  return v;
#else
  return detect_best_kind();
#endif
}

/* Whether this CPU runs a path: each one needs what the portable < aesni < vaes < gfni < avx512 order puts before
 * it, but a CPU may have GFNI without VAES. */
static bool cpu_runs(unsigned kind) {
  unsigned best = best_kind();
  if (kind == SM4_KIND_PORTABLE || kind == best) return true;
  if (kind == SM4_KIND_AESNI) return best != SM4_KIND_PORTABLE;
#ifdef SM4_HAVE_AVX2
  if (kind == SM4_KIND_GFNI) return best == SM4_KIND_AVX512 && __builtin_cpu_supports("avx2");
  if (kind == SM4_KIND_VAES) return (best == SM4_KIND_GFNI || best == SM4_KIND_AVX512) && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("vaes");
#endif
  return false;
}

static const char *const kind_names[] = {"", "aesni", "portable", "gfni", "vaes", "avx512"};

/* Sixteen blocks under the key's path (the AVX-512 path's sixteen are its GFNI path's: it runs ninety-six at once). */
static void encrypt16(const sm4_gcm_key *k, const uint8_t in[256], uint8_t out[256]) {
  switch (k->kind) {
#ifdef SM4_HAVE_AVX2
    case SM4_KIND_AVX512:
    case SM4_KIND_GFNI:
      gfni_encrypt16(k->rk, in, out);
      return;
    case SM4_KIND_VAES:
      vaes_encrypt16(k->rk, in, out);
      return;
#endif
#ifdef SM4_HAVE_AESNI
    case SM4_KIND_AESNI:
      aesni_encrypt8(k->rk, in, out);
      aesni_encrypt8(k->rk, in + 128, out + 128);
      return;
#endif
    default:
      for (int i = 0; i < 256; i += 16) portable_encrypt(k->rk, in + i, out + i);
  }
}

/* The blocks one step of the key's path encrypts at once: 16 · ZMM_CHAINS (AVX-512) or 16; STEP_MAX bytes at most. */
#ifdef SM4_HAVE_AVX2
#define STEP_MAX (256 * ZMM_CHAINS)
static size_t step_blocks(const sm4_gcm_key *k) { return k->kind == SM4_KIND_AVX512 ? 16 * ZMM_CHAINS : 16; }
#else
#define STEP_MAX 256
static size_t step_blocks(const sm4_gcm_key *k) { (void)k; return 16; }
#endif

static void encrypt_step(const sm4_gcm_key *k, const uint8_t in[STEP_MAX], uint8_t out[STEP_MAX]) {
#ifdef SM4_HAVE_AVX2
  if (k->kind == SM4_KIND_AVX512) {
    avx512_encrypt(k->rk, in, out);
    return;
  }
#endif
  encrypt16(k, in, out);
}

/* ---- GCM ---- */

/*
 * XORs n bytes of in with the key stream from counter J0 + 1 = inc32(J0) into out (which may equal in), and
 * writes E_K(J0) to ekj0: the first block of the first batch of sixteen.
 */
static void gcm_ctr(const sm4_gcm_key *k, const uint8_t nonce[12], const uint8_t *in, size_t n, uint8_t *out, uint8_t ekj0[16]) {
  uint8_t counters[STEP_MAX], stream[STEP_MAX];
  const size_t wide = step_blocks(k);
  // Wide steps come only while that many blocks are needed: a shorter input fills sixteen counters, not `wide`.
  const size_t filled = n + 16 >= 16 * wide ? wide : 16;
  for (size_t j = 0; j < filled; j++) memcpy(counters + 16 * j, nonce, 12);
  uint32_t counter = 1; // J0; inc32 wraps modulo 2^32 (SP 800-38D)
  size_t pos = 0;
  bool first = true;
  do {
    // A wide step while that many blocks are still needed (E(J0) included), else sixteen.
    size_t skip = first ? 16 : 0, step = skip + (n - pos) >= 16 * wide ? wide : 16;
    for (size_t j = 0; j < step; j++) store_be32(counters + 16 * j + 12, counter + (uint32_t)j);
    counter += (uint32_t)step;
    if (step == 16)
      encrypt16(k, counters, stream);
    else
      encrypt_step(k, counters, stream);
    if (first) {
      memcpy(ekj0, stream, 16);
      first = false;
    }
    size_t take = n - pos < 16 * step - skip ? n - pos : 16 * step - skip;
    xor_bytes(out + pos, in + pos, stream + skip, take);
    pos += take;
  } while (pos < n);
  memset(stream, 0, sizeof stream);
}

bool sm4_gcm_key_init(sm4_gcm_key *k, const uint8_t key[16], unsigned kind) {
  memset(k, 0, sizeof *k);
  if (kind == 0) kind = best_kind();
  if (!cpu_runs(kind)) return false;
  k->magic = SM4_MAGIC;
  k->kind = kind;
  key_schedule(key, k->rk);
  uint8_t h[16] = {0};
  portable_encrypt(k->rk, h, h); // H = E_K(0^128)
  ghash_key(&k->ghash, h, kind == SM4_KIND_PORTABLE);
  memset(h, 0, sizeof h);
  return true;
}

bool sm4_gcm_key_usable(const sm4_gcm_key *k) {
  return k->magic == SM4_MAGIC && k->kind >= SM4_KIND_AESNI && k->kind <= SM4_KIND_AVX512 && cpu_runs(k->kind) &&
         ghash_state_usable(&k->ghash);
}

void sm4_gcm_seal(const sm4_gcm_key *k, const uint8_t nonce[12], const uint8_t *in, size_t n, const uint8_t *aad,
                  size_t aad_len, uint8_t *out) {
  uint8_t ekj0[16], tag[16];
  gcm_ctr(k, nonce, in, n, out, ekj0);
  ghash_compute(&k->ghash, aad, aad_len, out, n, tag);
  for (int i = 0; i < 16; i++) out[n + i] = tag[i] ^ ekj0[i];
  memset(ekj0, 0, sizeof ekj0);
}

bool sm4_gcm_open(const sm4_gcm_key *k, const uint8_t nonce[12], const uint8_t *sealed, size_t n, const uint8_t *aad,
                  size_t aad_len, uint8_t *out) {
  uint8_t ekj0[16], tag[16], zero[1] = {0};
  ghash_compute(&k->ghash, aad, aad_len, sealed, n, tag);
  if (n <= 240) {
    // A short record (a log line in mode `log`): E(J0) and its whole key stream come from one run of sixteen blocks,
    // kept here until the tag is checked, instead of one run for E(J0) and another for the text.
    uint8_t counters[256], stream[256];
    for (int j = 0; j < 16; j++) {
      memcpy(counters + 16 * j, nonce, 12);
      store_be32(counters + 16 * j + 12, 1 + (uint32_t)j);
    }
    encrypt16(k, counters, stream);
    uint8_t diff = 0;
    for (int i = 0; i < 16; i++) diff |= (uint8_t)(tag[i] ^ stream[i] ^ sealed[n + i]);
    if (diff == 0) xor_bytes(out, sealed, stream + 16, n);
    memset(stream, 0, sizeof stream);
    return diff == 0;
  }
  gcm_ctr(k, nonce, zero, 0, zero, ekj0);
  uint8_t diff = 0;
  for (int i = 0; i < 16; i++) diff |= (uint8_t)(tag[i] ^ ekj0[i] ^ sealed[n + i]);
  memset(ekj0, 0, sizeof ekj0);
  if (diff != 0) return false;
  uint8_t unused[16];
  gcm_ctr(k, nonce, sealed, n, out, unused);
  memset(unused, 0, sizeof unused);
  return true;
}

void sm4_ecb_blocks(const sm4_gcm_key *k, const uint8_t *in, uint8_t *out, size_t blocks) {
  size_t n = 16 * blocks, pos = 0, step = 16 * step_blocks(k);
  uint8_t buf[STEP_MAX];
  for (; pos + step <= n; pos += step) {
    memcpy(buf, in + pos, step); // in and out may be the same memory
    encrypt_step(k, buf, out + pos);
  }
  for (; pos + 256 <= n; pos += 256) {
    memcpy(buf, in + pos, 256);
    encrypt16(k, buf, out + pos);
  }
  if (pos < n) {
    memset(buf, 0, sizeof buf);
    memcpy(buf, in + pos, n - pos);
    encrypt16(k, buf, buf);
    memcpy(out + pos, buf, n - pos);
  }
  memset(buf, 0, sizeof buf);
}

const char *sm4_backend(void) { return kind_names[best_kind()]; }

unsigned sm4_kind_named(const char *name) {
  for (unsigned kind = SM4_KIND_AESNI; kind <= SM4_KIND_AVX512; kind++)
    if (strcmp(name, kind_names[kind]) == 0) return kind;
  return 0;
}

/* ---- Node-API ---- */

/* The key state an ArrayBuffer argument holds, copied to `k`; 0 after throwing. */
static int get_key(napi_env env, napi_value v, sm4_gcm_key *k) {
  bool is_ab = false;
  void *p = NULL;
  size_t len = 0;
  if (napi_is_arraybuffer(env, v, &is_ab) != napi_ok || !is_ab || napi_get_arraybuffer_info(env, v, &p, &len) != napi_ok ||
      len != sizeof *k || p == NULL) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "sm4: state must be the ArrayBuffer made by sm4GcmInit()");
    return 0;
  }
  memcpy(k, p, sizeof *k);
  if (!sm4_gcm_key_usable(k)) {
    memset(k, 0, sizeof *k);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "sm4: state must be the ArrayBuffer made by sm4GcmInit()");
    return 0;
  }
  return 1;
}

/* sm4GcmInit(key: Uint8Array(16), path?: 'avx512' | 'gfni' | 'vaes' | 'aesni' | 'portable'): ArrayBuffer; the best path by default. */
napi_value sm4_gcm_init(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  size_t argc = 2;
  CHECK("sm4", napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "sm4: init needs the key");
    return NULL;
  }
  uint8_t *key;
  if (!get_bytes_of(env, "sm4", argv[0], "key", 16, &key)) return NULL;
  unsigned kind = 0;
  if (argc >= 2) {
    napi_valuetype t;
    char name[16];
    size_t name_len = 0;
    CHECK("sm4", napi_typeof(env, argv[1], &t));
    if (t != napi_undefined) {
      if (t != napi_string || napi_get_value_string_utf8(env, argv[1], name, sizeof name, &name_len) != napi_ok ||
          (kind = sm4_kind_named(name)) == 0) {
        napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "sm4: path must be 'avx512', 'gfni', 'vaes', 'aesni' or 'portable'");
        return NULL;
      }
    }
  }
  sm4_gcm_key k;
  if (!sm4_gcm_key_init(&k, key, kind)) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "sm4: this CPU cannot run that path");
    return NULL;
  }
  void *buf;
  napi_value result;
  if (napi_create_arraybuffer(env, sizeof k, &buf, &result) != napi_ok) {
    memset(&k, 0, sizeof k);
    napi_throw_error(env, NULL, "sm4: could not allocate the key state");
    return NULL;
  }
  memcpy(buf, &k, sizeof k);
  memset(&k, 0, sizeof k);
  return result;
}

/* Arguments shared by seal and open: (state, nonce(12), input, aad, out), out of `out_len(input)` bytes. */
static int gcm_args(napi_env env, napi_callback_info info, sm4_gcm_key *k, uint8_t **nonce, uint8_t **in, size_t *in_len,
                    uint8_t **aad, size_t *aad_len, uint8_t **out, size_t *out_len) {
  napi_value argv[5];
  if (!get_args(env, "sm4", info, 5, argv)) return 0;
  if (!get_bytes_of(env, "sm4", argv[1], "nonce", 12, nonce) || !get_bytes(env, "sm4", argv[2], "input", in, in_len) ||
      !get_bytes(env, "sm4", argv[3], "aad", aad, aad_len) || !get_bytes(env, "sm4", argv[4], "out", out, out_len))
    return 0;
  return get_key(env, argv[0], k);
}

/* sm4GcmSeal(state, nonce, plaintext, aad, out): out (plaintext.length + 16 bytes) = ciphertext || tag. */
napi_value sm4_gcm_seal_js(napi_env env, napi_callback_info info) {
  sm4_gcm_key k;
  uint8_t *nonce, *in, *aad, *out;
  size_t in_len, aad_len, out_len;
  if (!gcm_args(env, info, &k, &nonce, &in, &in_len, &aad, &aad_len, &out, &out_len)) return NULL;
  if (out_len != in_len + 16 || (out != in && out < in + in_len && in < out + out_len)) {
    memset(&k, 0, sizeof k);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "sm4: out must be plaintext.length + 16 bytes, apart from the inputs");
    return NULL;
  }
  sm4_gcm_seal(&k, nonce, in, in_len, aad, aad_len, out);
  memset(&k, 0, sizeof k);
  return NULL;
}

/* sm4GcmOpen(state, nonce, sealed, aad, out): true and out (sealed.length - 16 bytes) = plaintext, or false. */
napi_value sm4_gcm_open_js(napi_env env, napi_callback_info info) {
  sm4_gcm_key k;
  uint8_t *nonce, *in, *aad, *out;
  size_t in_len, aad_len, out_len;
  if (!gcm_args(env, info, &k, &nonce, &in, &in_len, &aad, &aad_len, &out, &out_len)) return NULL;
  if (in_len < 16 || out_len != in_len - 16 || (out != in && out < in + in_len && in < out + out_len)) {
    memset(&k, 0, sizeof k);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "sm4: out must be sealed.length - 16 bytes, apart from the inputs");
    return NULL;
  }
  bool ok = sm4_gcm_open(&k, nonce, in, out_len, aad, aad_len, out);
  memset(&k, 0, sizeof k);
  napi_value result;
  CHECK("sm4", napi_get_boolean(env, ok, &result));
  return result;
}

/* sm4EncryptBlocks(state, input, out): SM4 of whole 16-byte blocks, for the GB/T 32907 known answer. */
napi_value sm4_encrypt_blocks(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!get_args(env, "sm4", info, 3, argv)) return NULL;
  uint8_t *in, *out;
  size_t in_len, out_len;
  if (!get_bytes(env, "sm4", argv[1], "input", &in, &in_len) || !get_bytes(env, "sm4", argv[2], "out", &out, &out_len)) return NULL;
  if (in_len % 16 != 0 || out_len != in_len) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "sm4: input must be whole blocks, out as long");
    return NULL;
  }
  sm4_gcm_key k;
  if (!get_key(env, argv[0], &k)) return NULL;
  sm4_ecb_blocks(&k, in, out, in_len / 16);
  memset(&k, 0, sizeof k);
  return NULL;
}

/* sm4Backend(): the path sm4GcmInit() picks on this CPU, "gfni" | "vaes" | "aesni" | "portable" */
napi_value sm4_backend_js(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value s;
  CHECK("sm4", napi_create_string_utf8(env, sm4_backend(), NAPI_AUTO_LENGTH, &s));
  return s;
}
