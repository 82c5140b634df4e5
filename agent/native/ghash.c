// GHASH (NIST SP 800-38D §6.4) for SM4-GCM as a Node-API addon: PCLMULQDQ where the CPU has it (sixteen blocks a
// reduction with 512-bit VPCLMULQDQ where it has that too), else 4-bit tables.
//
// The JavaScript side keeps the per-key state in an ArrayBuffer made by ghashInit(), so there is no native
// object whose lifetime Node has to manage; digest() copies it onto the stack before use, which also
// frees the layout below from any alignment the buffer may lack.

#include "napi-args.h"
#include "ghash.h"
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define GHASH_HAVE_PCLMUL 1
#include <cpuid.h>
#include <emmintrin.h>
#include <tmmintrin.h>
#include <wmmintrin.h>
// The 512-bit path needs VPCLMULQDQ intrinsics and its name in __builtin_cpu_supports: GCC 11, clang 12.
#if defined(__clang__) ? __clang_major__ >= 12 : __GNUC__ >= 11
#define GHASH_HAVE_VPCLMUL 1
#include <immintrin.h>
#endif
#endif

/* ---- portable: 4-bit tables (V. Shoup), as in mbed TLS ---- */
// Indexed by secret nibbles, so not hardened against cache-timing observers; only CPUs without
// PCLMULQDQ, or a caller that asks for it, use this path.

static const uint64_t last4[16] = {
    0x0000, 0x1c20, 0x3840, 0x2460, 0x7080, 0x6ca0, 0x48c0, 0x54e0,
    0xe100, 0xfd20, 0xd940, 0xc560, 0x9180, 0x8da0, 0xa9c0, 0xb5e0,
};

static uint64_t load_be64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
  return v;
}

static void store_be64(uint8_t *p, uint64_t v) {
  for (int i = 7; i >= 0; i--) {
    p[i] = (uint8_t)v;
    v >>= 8;
  }
}

static void portable_init(ghash_state *st, const uint8_t h[16]) {
  uint64_t *hl = st->u.shoup.hl, *hh = st->u.shoup.hh;
  uint64_t vh = load_be64(h), vl = load_be64(h + 8);
  // Nibble 8 (binary 1000) has only its first bit set, which in GCM's order is x^0: the entry is H itself.
  hl[8] = vl;
  hh[8] = vh;
  hl[0] = hh[0] = 0;
  for (int i = 4; i > 0; i >>= 1) {
    uint64_t carry = vl & 1;
    vl = (vh << 63) | (vl >> 1);
    vh = (vh >> 1) ^ (carry ? 0xe100000000000000ull : 0);
    hl[i] = vl;
    hh[i] = vh;
  }
  for (int i = 2; i <= 8; i *= 2) {
    for (int j = 1; j < i; j++) {
      hh[i + j] = hh[i] ^ hh[j];
      hl[i + j] = hl[i] ^ hl[j];
    }
  }
}

/* y = y · H */
static void portable_mult(const ghash_state *st, uint8_t y[16]) {
  const uint64_t *hl = st->u.shoup.hl, *hh = st->u.shoup.hh;
  uint8_t lo = y[15] & 0xf;
  uint64_t zh = hh[lo], zl = hl[lo];
  for (int i = 15; i >= 0; i--) {
    uint8_t hi = y[i] >> 4, rem;
    lo = y[i] & 0xf;
    if (i != 15) {
      rem = (uint8_t)(zl & 0xf);
      zl = (zh << 60) | (zl >> 4);
      zh = (zh >> 4) ^ (last4[rem] << 48) ^ hh[lo];
      zl ^= hl[lo];
    }
    rem = (uint8_t)(zl & 0xf);
    zl = (zh << 60) | (zl >> 4);
    zh = (zh >> 4) ^ (last4[rem] << 48) ^ hh[hi];
    zl ^= hl[hi];
  }
  store_be64(y, zh);
  store_be64(y + 8, zl);
}

static void portable_absorb(const ghash_state *st, uint8_t y[16], const uint8_t *d, size_t n) {
  while (n > 0) {
    size_t take = n < 16 ? n : 16;
    for (size_t i = 0; i < take; i++) y[i] ^= d[i]; // a short last block is zero-padded: XOR nothing
    portable_mult(st, y);
    d += take;
    n -= take;
  }
}

/* ---- PCLMULQDQ (Intel, "Carry-Less Multiplication Instruction and its Usage for Computing the GCM Mode") ---- */

#ifdef GHASH_HAVE_PCLMUL
#define TARGET __attribute__((target("pclmul,ssse3")))

// After a byte reversal, bit 127 of the register is GCM's x^0: the register holds the bit-reflection of
// the polynomial. The product of two reflected operands is the reflected product shifted right by one,
// hence the one-bit left shift before the reduction.

TARGET static inline __m128i bswap(__m128i x) {
  return _mm_shuffle_epi8(x, _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
}

/* 256-bit carry-less product a·b, schoolbook, XORed into (lo, hi) so that several products share a reduction. */
TARGET static inline void clmul_acc(__m128i a, __m128i b, __m128i *lo, __m128i *hi) {
  __m128i ll = _mm_clmulepi64_si128(a, b, 0x00);
  __m128i mid = _mm_xor_si128(_mm_clmulepi64_si128(a, b, 0x10), _mm_clmulepi64_si128(a, b, 0x01));
  __m128i hh = _mm_clmulepi64_si128(a, b, 0x11);
  *lo = _mm_xor_si128(*lo, _mm_xor_si128(ll, _mm_slli_si128(mid, 8)));
  *hi = _mm_xor_si128(*hi, _mm_xor_si128(hh, _mm_srli_si128(mid, 8)));
}

/* Shift the 256-bit (lo, hi) left by one, then reduce modulo x^128 + x^7 + x^2 + x + 1 (reflected). */
TARGET static inline __m128i reduce(__m128i lo, __m128i hi) {
  __m128i c_lo = _mm_srli_epi32(lo, 31), c_hi = _mm_srli_epi32(hi, 31);
  lo = _mm_slli_epi32(lo, 1);
  hi = _mm_slli_epi32(hi, 1);
  hi = _mm_or_si128(hi, _mm_or_si128(_mm_slli_si128(c_hi, 4), _mm_srli_si128(c_lo, 12)));
  lo = _mm_or_si128(lo, _mm_slli_si128(c_lo, 4));

  __m128i a = _mm_xor_si128(_mm_xor_si128(_mm_slli_epi32(lo, 31), _mm_slli_epi32(lo, 30)), _mm_slli_epi32(lo, 25));
  __m128i carry = _mm_srli_si128(a, 4);
  lo = _mm_xor_si128(lo, _mm_slli_si128(a, 12));
  __m128i b = _mm_xor_si128(_mm_xor_si128(_mm_srli_epi32(lo, 1), _mm_srli_epi32(lo, 2)), _mm_srli_epi32(lo, 7));
  b = _mm_xor_si128(b, carry);
  return _mm_xor_si128(hi, _mm_xor_si128(lo, b));
}

TARGET static inline __m128i gfmul(__m128i a, __m128i b) {
  __m128i lo = _mm_setzero_si128(), hi = _mm_setzero_si128();
  clmul_acc(a, b, &lo, &hi);
  return reduce(lo, hi);
}

/* H^16 down to H^1 (powers[16 - i] = H^i): four registers of four for the 512-bit path, the last four for this one. */
TARGET static void pclmul_init(ghash_state *st, const uint8_t h[16]) {
  __m128i h1 = bswap(_mm_loadu_si128((const __m128i *)h)), hi = h1;
  for (int i = 1; i <= 16; i++) {
    _mm_storeu_si128((__m128i *)st->u.powers[16 - i], hi);
    if (i < 16) hi = gfmul(hi, h1);
  }
}

#ifdef GHASH_HAVE_VPCLMUL
#define TARGET512 __attribute__((target("avx512f,avx512bw,vpclmulqdq,pclmul,ssse3")))

TARGET512 static inline __m128i xor_lanes(__m512i x) {
  return _mm_xor_si128(_mm_xor_si128(_mm512_extracti32x4_epi32(x, 0), _mm512_extracti32x4_epi32(x, 1)),
                       _mm_xor_si128(_mm512_extracti32x4_epi32(x, 2), _mm512_extracti32x4_epi32(x, 3)));
}

/*
 * Sixteen blocks a step with VPCLMULQDQ: block j of the step times H^(16 - j), four per register, the products summed
 * before one reduction. Absorbs the whole 256-byte steps of *d and leaves the rest to the 128-bit loop.
 */
TARGET512 static __m128i vpclmul_absorb(const ghash_state *st, __m128i y, const uint8_t **d, size_t *n) {
  const __m512i rev = _mm512_broadcast_i32x4(_mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  __m512i p[4];
  for (int j = 0; j < 4; j++) p[j] = _mm512_loadu_si512((const void *)st->u.powers[4 * j]);
  const uint8_t *at = *d;
  size_t left = *n;
  for (; left >= 256; at += 256, left -= 256) {
    __m512i lo = _mm512_setzero_si512(), mid = _mm512_setzero_si512(), hi = _mm512_setzero_si512();
    for (int j = 0; j < 4; j++) {
      __m512i x = _mm512_shuffle_epi8(_mm512_loadu_si512((const void *)(at + 64 * j)), rev);
      if (j == 0) x = _mm512_xor_si512(x, _mm512_inserti32x4(_mm512_setzero_si512(), y, 0));
      lo = _mm512_xor_si512(lo, _mm512_clmulepi64_epi128(x, p[j], 0x00));
      hi = _mm512_xor_si512(hi, _mm512_clmulepi64_epi128(x, p[j], 0x11));
      mid = _mm512_ternarylogic_epi64(mid, _mm512_clmulepi64_epi128(x, p[j], 0x10), _mm512_clmulepi64_epi128(x, p[j], 0x01), 0x96);
    }
    __m128i m = xor_lanes(mid);
    y = reduce(_mm_xor_si128(xor_lanes(lo), _mm_slli_si128(m, 8)), _mm_xor_si128(xor_lanes(hi), _mm_srli_si128(m, 8)));
  }
  *d = at;
  *n = left;
  return y;
}

static int cpu_has_vpclmul512(void) {
  static int known = -1; // as cpu_has_pclmul below
  int v = __atomic_load_n(&known, __ATOMIC_RELAXED);
  if (v < 0) {
    __builtin_cpu_init();
    v = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("vpclmulqdq") ? 1 : 0;
    __atomic_store_n(&known, v, __ATOMIC_RELAXED);
  }
  return v;
}
#endif

/* y (byte-reversed) absorbs n bytes of d; a short last block is zero-padded. */
TARGET static __m128i pclmul_absorb(const ghash_state *st, __m128i y, const uint8_t *d, size_t n) {
  const __m128i h1 = _mm_loadu_si128((const __m128i *)st->u.powers[15]);
  const __m128i h2 = _mm_loadu_si128((const __m128i *)st->u.powers[14]);
  const __m128i h3 = _mm_loadu_si128((const __m128i *)st->u.powers[13]);
  const __m128i h4 = _mm_loadu_si128((const __m128i *)st->u.powers[12]);
#ifdef GHASH_HAVE_VPCLMUL
  if (n >= 256 && st->wide && cpu_has_vpclmul512()) y = vpclmul_absorb(st, y, &d, &n);
#endif
  // ((((y + x1)H + x2)H + x3)H + x4)H = (y + x1)H^4 + x2·H^3 + x3·H^2 + x4·H: one reduction per four blocks.
  for (; n >= 64; d += 64, n -= 64) {
    __m128i x1 = _mm_xor_si128(y, bswap(_mm_loadu_si128((const __m128i *)d)));
    __m128i x2 = bswap(_mm_loadu_si128((const __m128i *)(d + 16)));
    __m128i x3 = bswap(_mm_loadu_si128((const __m128i *)(d + 32)));
    __m128i x4 = bswap(_mm_loadu_si128((const __m128i *)(d + 48)));
    __m128i lo = _mm_setzero_si128(), hi = _mm_setzero_si128();
    clmul_acc(x1, h4, &lo, &hi);
    clmul_acc(x2, h3, &lo, &hi);
    clmul_acc(x3, h2, &lo, &hi);
    clmul_acc(x4, h1, &lo, &hi);
    y = reduce(lo, hi);
  }
  for (; n >= 16; d += 16, n -= 16) y = gfmul(_mm_xor_si128(y, bswap(_mm_loadu_si128((const __m128i *)d))), h1);
  if (n > 0) {
    uint8_t last[16] = {0};
    memcpy(last, d, n);
    y = gfmul(_mm_xor_si128(y, bswap(_mm_loadu_si128((const __m128i *)last))), h1);
  }
  return y;
}

TARGET static void pclmul_digest(const ghash_state *st, const uint8_t *aad, size_t aad_len, const uint8_t *c,
                                 size_t c_len, const uint8_t lengths[16], uint8_t out[16]) {
  __m128i y = _mm_setzero_si128();
  y = pclmul_absorb(st, y, aad, aad_len);
  y = pclmul_absorb(st, y, c, c_len);
  y = pclmul_absorb(st, y, lengths, 16);
  _mm_storeu_si128((__m128i *)out, bswap(y));
}

static int cpu_has_pclmul(void) {
  // Written by whichever thread asks first; every thread computes the same value.
  static int known = -1;
  int v = __atomic_load_n(&known, __ATOMIC_RELAXED);
  if (v < 0) {
    unsigned a, b, c, d;
    v = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_PCLMUL) && (c & bit_SSSE3) ? 1 : 0;
    __atomic_store_n(&known, v, __ATOMIC_RELAXED);
  }
  return v;
}
#else
static int cpu_has_pclmul(void) { return 0; }
#endif

/* ---- for the other C files of the addon (ghash.h) ---- */

void ghash_key(ghash_state *st, const uint8_t h[16], bool portable) {
  memset(st, 0, sizeof *st);
  st->magic = STATE_MAGIC;
#ifdef GHASH_HAVE_PCLMUL
  if (!portable && cpu_has_pclmul()) {
    st->kind = KIND_PCLMUL;
    st->wide = 1;
    pclmul_init(st, h);
    return;
  }
#endif
  (void)portable;
  st->kind = KIND_PORTABLE;
  portable_init(st, h);
}

bool ghash_state_usable(const ghash_state *st) {
  return st->magic == STATE_MAGIC && st->wide <= 1 && (st->kind == KIND_PORTABLE || (st->kind == KIND_PCLMUL && cpu_has_pclmul()));
}

/* The name of the loop a state's digests run on this CPU: "vpclmul" (512-bit), "pclmul" or "portable". */
static const char *ghash_path(const ghash_state *st) {
  if (st->kind == KIND_PORTABLE) return "portable";
#ifdef GHASH_HAVE_VPCLMUL
  if (st->wide && cpu_has_vpclmul512()) return "vpclmul";
#endif
  return "pclmul";
}

void ghash_compute(const ghash_state *st, const uint8_t *aad, size_t aad_len, const uint8_t *c, size_t c_len, uint8_t out[16]) {
  uint8_t lengths[16];
  store_be64(lengths, (uint64_t)aad_len * 8);
  store_be64(lengths + 8, (uint64_t)c_len * 8);
  uint8_t y[16] = {0};
#ifdef GHASH_HAVE_PCLMUL
  if (st->kind == KIND_PCLMUL) {
    pclmul_digest(st, aad, aad_len, c, c_len, lengths, y);
  } else
#endif
  {
    portable_absorb(st, y, aad, aad_len);
    portable_absorb(st, y, c, c_len);
    portable_absorb(st, y, lengths, 16);
  }
  memcpy(out, y, 16); // out may alias an input: written only once the inputs are read
}

/* ---- Node-API ---- */

/* ghashInit(h: Uint8Array(16), path?: boolean | 'portable' | 'pclmul' | 'vpclmul'): ArrayBuffer — the best path this CPU
 * runs by default; true is 'portable' (as before paths had names), false the default. A path the CPU lacks throws a
 * RangeError. */
napi_value ghash_init(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  size_t argc = 2;
  CHECK("ghash", napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "ghash: init needs the hash subkey");
    return NULL;
  }
  uint8_t *h;
  if (!get_bytes_of(env, "ghash", argv[0], "hash subkey", 16, &h)) return NULL;
  bool portable = false;
  char want[16] = "";
  if (argc >= 2) {
    napi_valuetype t;
    size_t len = 0;
    CHECK("ghash", napi_typeof(env, argv[1], &t));
    if (t == napi_string) {
      if (napi_get_value_string_utf8(env, argv[1], want, sizeof want, &len) != napi_ok ||
          (strcmp(want, "portable") != 0 && strcmp(want, "pclmul") != 0 && strcmp(want, "vpclmul") != 0)) {
        napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "ghash: path must be 'portable', 'pclmul' or 'vpclmul'");
        return NULL;
      }
      portable = strcmp(want, "portable") == 0;
    } else if (t != napi_undefined && (t != napi_boolean || napi_get_value_bool(env, argv[1], &portable) != napi_ok)) {
      napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "ghash: path must be a boolean or 'portable', 'pclmul' or 'vpclmul'");
      return NULL;
    }
  }

  ghash_state st;
  ghash_key(&st, h, portable);
  if (strcmp(want, "pclmul") == 0) st.wide = 0;
  if (want[0] != '\0' && strcmp(want, ghash_path(&st)) != 0) {
    memset(&st, 0, sizeof st);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "ghash: this CPU cannot run that path");
    return NULL;
  }

  void *buf;
  napi_value result;
  CHECK("ghash", napi_create_arraybuffer(env, sizeof st, &buf, &result));
  memcpy(buf, &st, sizeof st);
  memset(&st, 0, sizeof st);
  return result;
}

/* ghashDigest(state: ArrayBuffer, aad: Uint8Array, ciphertext: Uint8Array, out: Uint8Array(16)): void */
napi_value ghash_digest(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!get_args(env, "ghash", info, 4, argv)) return NULL;

  bool is_ab = false;
  void *sp = NULL;
  size_t s_len = 0;
  if (napi_is_arraybuffer(env, argv[0], &is_ab) != napi_ok || !is_ab ||
      napi_get_arraybuffer_info(env, argv[0], &sp, &s_len) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "ghash: state must be the ArrayBuffer made by ghashInit()");
    return NULL;
  }
  ghash_state st;
  if (s_len != sizeof st || sp == NULL) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "ghash: state must be the ArrayBuffer made by ghashInit()");
    return NULL;
  }
  memcpy(&st, sp, sizeof st);
  // A forged kind must not reach instructions this CPU lacks.
  if (!ghash_state_usable(&st)) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "ghash: state must be the ArrayBuffer made by ghashInit()");
    return NULL;
  }

  uint8_t *aad, *c, *out;
  size_t aad_len, c_len;
  if (!get_bytes(env, "ghash", argv[1], "aad", &aad, &aad_len) || !get_bytes(env, "ghash", argv[2], "ciphertext", &c, &c_len) ||
      !get_bytes_of(env, "ghash", argv[3], "out", 16, &out))
    return NULL;

  ghash_compute(&st, aad, aad_len, c, c_len, out);
  memset(&st, 0, sizeof st);
  return NULL;
}

/* ghashBackend(): "vpclmul" | "pclmul" | "portable" — what ghashInit() picks on this CPU by default. */
napi_value ghash_backend(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value s;
  ghash_state st;
  uint8_t zero[16] = {0};
  ghash_key(&st, zero, false);
  CHECK("ghash", napi_create_string_utf8(env, ghash_path(&st), NAPI_AUTO_LENGTH, &s));
  return s;
}
