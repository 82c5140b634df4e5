// base64 (RFC 4648 §4, with padding) written straight into a caller's buffer, for sealed records that go into a
// protobuf body: Node can only encode base64 into a new string, which the record layer would then measure and copy.
// And read back from bytes (open-group.c). Both 32 characters a step with AVX2 where the CPU has it.
#include "napi-args.h"
#include <string.h>

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define BASE64_AVX2 1
#include <immintrin.h>
#endif

static const char alphabet[64] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

#ifdef BASE64_AVX2
static bool have_avx2(void);

/*
 * Whole steps of 24 bytes to 32 characters while 28 bytes can be read: each lane takes 12 bytes, spread into four
 * 6-bit values per 3 bytes with one shuffle and two 16-bit multiplies, then moved into the alphabet by an offset looked
 * up by range (W. Muła and D. Lemire, "Faster Base64 Encoding and Decoding Using AVX2 Instructions", 2018). Returns the
 * bytes read; the characters written are 4/3 of them.
 */
__attribute__((target("avx2"))) static size_t write_avx2(const uint8_t *in, size_t n, uint8_t *out) {
  // Per lane, bytes s0 s1 s2 of each group of three become the 32-bit word s1 s0 s2 s1.
  const __m256i spread = _mm256_setr_epi8(1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10, 1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10);
  // Added to a value by its range: 0-25 'A', 26-51 'a' - 26, 52-61 '0' - 52, 62 '+' - 62, 63 '/' - 63.
  const __m256i offsets = _mm256_setr_epi8(65, 71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 0, 0, 65, 71, -4, -4, -4, -4, -4, -4, -4, -4,
                                           -4, -4, -19, -16, 0, 0);
  size_t i = 0;
  for (; i + 28 <= n; i += 24, out += 32) {
    __m256i x = _mm256_shuffle_epi8(_mm256_loadu2_m128i((const __m128i *)(in + i + 12), (const __m128i *)(in + i)), spread);
    // The first and third value of each word (bits 10-15 of its low half, 6-11 of its high half) to bytes 0 and 2,
    // the second and fourth (bits 4-9, 0-5) to bytes 1 and 3.
    __m256i ac = _mm256_mulhi_epu16(_mm256_and_si256(x, _mm256_set1_epi32(0x0fc0fc00)), _mm256_set1_epi32(0x04000040));
    __m256i bd = _mm256_mullo_epi16(_mm256_and_si256(x, _mm256_set1_epi32(0x003f03f0)), _mm256_set1_epi32(0x01000010));
    __m256i v = _mm256_or_si256(ac, bd);
    // Range index: 0 for 0-25, 1 for 26-51, 2-13 for 52-63.
    __m256i range = _mm256_sub_epi8(_mm256_subs_epu8(v, _mm256_set1_epi8(51)), _mm256_cmpgt_epi8(v, _mm256_set1_epi8(25)));
    _mm256_storeu_si256((__m256i *)out, _mm256_add_epi8(v, _mm256_shuffle_epi8(offsets, range)));
  }
  return i;
}
#endif

/* Writes 4 * ceil(n / 3) characters at out; returns how many. Also used by seal-batch.c. */
size_t base64_write(const uint8_t *in, size_t n, uint8_t *out) {
  uint8_t *o = out;
  size_t i = 0;
#ifdef BASE64_AVX2
  if (n >= 64 && have_avx2()) {
    i = write_avx2(in, n, out);
    o += i / 3 * 4;
  }
#endif
  // Six input bytes at a time: two independent groups of four characters.
  for (; i + 6 <= n; i += 6, o += 8) {
    uint32_t a = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
    uint32_t b = (uint32_t)in[i + 3] << 16 | (uint32_t)in[i + 4] << 8 | in[i + 5];
    o[0] = alphabet[a >> 18];
    o[1] = alphabet[(a >> 12) & 63];
    o[2] = alphabet[(a >> 6) & 63];
    o[3] = alphabet[a & 63];
    o[4] = alphabet[b >> 18];
    o[5] = alphabet[(b >> 12) & 63];
    o[6] = alphabet[(b >> 6) & 63];
    o[7] = alphabet[b & 63];
  }
  for (; i + 3 <= n; i += 3, o += 4) {
    uint32_t a = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
    o[0] = alphabet[a >> 18];
    o[1] = alphabet[(a >> 12) & 63];
    o[2] = alphabet[(a >> 6) & 63];
    o[3] = alphabet[a & 63];
  }
  if (i < n) {
    uint32_t a = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
    o[0] = alphabet[a >> 18];
    o[1] = alphabet[(a >> 12) & 63];
    o[2] = i + 1 < n ? alphabet[(a >> 6) & 63] : '=';
    o[3] = '=';
    o += 4;
  }
  return (size_t)(o - out);
}

static int8_t decode_table[256];

static void decode_table_init(void) {
  static bool ready;
  if (ready) return; // idempotent: threads that race here write the same values
  for (int i = 0; i < 256; i++) decode_table[i] = -1;
  for (int i = 0; i < 64; i++) decode_table[(uint8_t)alphabet[i]] = (int8_t)i;
  ready = true;
}

#ifdef BASE64_AVX2
/*
 * Whole steps of 32 characters, none of them padding or outside the alphabet (the step with such a character is left
 * to the caller), each to 24 bytes: the nibble-lookup decoder of W. Muła and D. Lemire ("Faster Base64 Encoding and
 * Decoding Using AVX2 Instructions", 2018). Writes 32 bytes a step; returns the characters read.
 */
__attribute__((target("avx2"))) static size_t read_avx2(const uint8_t *s, size_t n, uint8_t *out) {
  const __m256i lut_lo = _mm256_setr_epi8(0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x13, 0x1a, 0x1b, 0x1b, 0x1b, 0x1a,
                                          0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x13, 0x1a, 0x1b, 0x1b, 0x1b, 0x1a);
  const __m256i lut_hi = _mm256_setr_epi8(0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10,
                                          0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10);
  const __m256i lut_roll = _mm256_setr_epi8(0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 19, 4, -65, -65, -71, -71, 0, 0,
                                            0, 0, 0, 0, 0, 0);
  const __m256i nibble = _mm256_set1_epi8(0x0f), slash = _mm256_set1_epi8('/');
  const __m256i pack = _mm256_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1, 2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1,
                                        -1, -1, -1);
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 7, 7);
  size_t i = 0;
  for (; i + 32 <= n; i += 32, out += 24) {
    __m256i text = _mm256_loadu_si256((const __m256i *)(s + i));
    __m256i hi_nibbles = _mm256_and_si256(_mm256_srli_epi32(text, 4), nibble);
    __m256i lo = _mm256_shuffle_epi8(lut_lo, _mm256_and_si256(text, nibble));
    __m256i hi = _mm256_shuffle_epi8(lut_hi, hi_nibbles);
    if (!_mm256_testz_si256(lo, hi)) break; // a character outside the alphabet, or padding
    __m256i roll = _mm256_shuffle_epi8(lut_roll, _mm256_add_epi8(_mm256_cmpeq_epi8(text, slash), hi_nibbles));
    __m256i sextets = _mm256_add_epi8(text, roll);
    __m256i pairs = _mm256_maddubs_epi16(sextets, _mm256_set1_epi32(0x01400140));
    __m256i words = _mm256_madd_epi16(pairs, _mm256_set1_epi32(0x00011000));
    __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(words, pack), lanes);
    _mm256_storeu_si256((__m256i *)out, bytes);
  }
  return i;
}

static bool have_avx2(void) {
  static int v = -1;
  if (v < 0) v = __builtin_cpu_supports("avx2") ? 1 : 0;
  return v == 1;
}
#endif

size_t base64_read_room(size_t n) { return n / 4 * 3 + 32; }

/*
 * Strict standard base64 (length a multiple of four, padding only at the end) into out, which has
 * base64_read_room(n) bytes; false for anything else. *len = the bytes decoded.
 */
bool base64_read(const uint8_t *s, size_t n, uint8_t *out, size_t *len) {
  decode_table_init();
  if (n % 4 != 0) return false;
  size_t pad = n >= 1 && s[n - 1] == '=' ? (n >= 2 && s[n - 2] == '=' ? 2 : 1) : 0;
  size_t full = (n - pad) / 4 * 4, i = 0, o = 0;
#ifdef BASE64_AVX2
  if (full >= 64 && have_avx2()) {
    i = read_avx2(s, full, out);
    o = i / 4 * 3;
  }
#endif
  for (; i < full; i += 4) {
    int a = decode_table[s[i]], b = decode_table[s[i + 1]], c = decode_table[s[i + 2]], d = decode_table[s[i + 3]];
    if ((a | b | c | d) < 0) return false;
    uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
    out[o++] = (uint8_t)(v >> 16);
    out[o++] = (uint8_t)(v >> 8);
    out[o++] = (uint8_t)v;
  }
  if (pad > 0) {
    int a = decode_table[s[full]], b = decode_table[s[full + 1]], c = pad == 1 ? decode_table[s[full + 2]] : 0;
    if ((a | b | c) < 0) return false;
    uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6;
    out[o++] = (uint8_t)(v >> 16);
    if (pad == 1) out[o++] = (uint8_t)(v >> 8);
  }
  *len = o;
  return true;
}

/* base64Encode(src: Uint8Array, out: Uint8Array, pos: number): number — the position after the text written. */
napi_value base64_encode(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!get_args(env, "base64", info, 3, argv)) return NULL;
  uint8_t *src, *out;
  size_t src_len, out_len;
  if (!get_bytes(env, "base64", argv[0], "src", &src, &src_len) || !get_bytes(env, "base64", argv[1], "out", &out, &out_len)) return NULL;
  size_t pos, need = (src_len + 2) / 3 * 4;
  if (!get_room_at(env, "base64", argv[2], out_len, need, &pos)) return NULL;
  // Text written over bytes still to be read would be wrong: the source and the range written must not overlap.
  if (src_len > 0 && src < out + pos + need && out + pos < src + src_len) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "base64: src and out overlap");
    return NULL;
  }
  napi_value result;
  CHECK("base64", napi_create_double(env, (double)(pos + base64_write(src, src_len, out + pos)), &result));
  return result;
}
