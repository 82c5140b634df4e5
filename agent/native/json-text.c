// JSON text as JSON.stringify writes it (see json-text.h).
#include "json-text.h"
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define JSON_AVX2 1
#include <immintrin.h>
#endif

/* The length of the valid UTF-8 sequence (2 to 4 bytes) at s, or 0 (overlong, surrogate, beyond U+10FFFF, cut). */
size_t utf8_sequence(const uint8_t *s, size_t rem) {
  uint8_t c = s[0];
  if (c >= 0xc2 && c <= 0xdf) return rem >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (rem < 3 || (s[2] & 0xc0) != 0x80) return 0;
    uint8_t lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
    return s[1] >= lo && s[1] <= hi ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (rem < 4 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80) return 0;
    uint8_t lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
    return s[1] >= lo && s[1] <= hi ? 4 : 0;
  }
  return 0;
}

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
/* True when one of the eight bytes in w is zero. */
#define HAS_ZERO(w) ((((w) - ONES) & ~(w) & HIGHS) != 0)

#ifdef JSON_AVX2
/*
 * The plain bytes at the start of s[0, n), copied to o 32 at a time while 32 remain (as the SSE2 step below, twice as
 * wide); returns how many. The last store may run past them, as there.
 */
__attribute__((target("avx2"))) static size_t plain_run_avx2(const uint8_t *s, size_t n, uint8_t *o) {
  const __m256i space = _mm256_set1_epi8(0x20), quote = _mm256_set1_epi8('"'), backslash = _mm256_set1_epi8('\\');
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256i v = _mm256_loadu_si256((const __m256i *)(s + i));
    _mm256_storeu_si256((__m256i *)(o + i), v);
    __m256i odd = _mm256_or_si256(_mm256_cmpgt_epi8(space, v), _mm256_or_si256(_mm256_cmpeq_epi8(v, quote), _mm256_cmpeq_epi8(v, backslash)));
    unsigned mask = (unsigned)_mm256_movemask_epi8(odd);
    if (mask != 0) return i + (size_t)__builtin_ctz(mask);
  }
  return i;
}

static bool have_avx2(void) {
  static int v = -1; // written by whichever thread asks first; every thread computes the same value
  if (v < 0) v = __builtin_cpu_supports("avx2") ? 1 : 0;
  return v == 1;
}
#endif

/* Most room a JSON string of n bytes takes: every byte escaped as \u00XX, and the quotes. */
size_t json_bound(size_t n) { return 6 * n + 2; }

/* s[0, n) as a JSON string at o; NULL when it is not valid UTF-8 (JavaScript's decoder would replace bytes). */
uint8_t *json_string(uint8_t *o, const uint8_t *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  size_t i = 0;
  *o++ = '"';
#ifdef JSON_AVX2
  bool wide = n >= 64 && have_avx2();
#endif
  while (i < n) {
#ifdef JSON_AVX2
    if (wide && i + 32 <= n) {
      size_t plain = plain_run_avx2(s + i, n - i, o);
      o += plain;
      i += plain;
    }
#endif
#if defined(__SSE2__)
    // Sixteen bytes at a time are stored as they are, up to the first that needs a look (below 0x20 or from 0x80,
    // which the signed compare puts together, a quote, a backslash). The store may run past that byte: the room is
    // json_bound's, and the escapes written next overwrite it.
    while (i + 16 <= n) {
      __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
      _mm_storeu_si128((__m128i *)o, v);
      __m128i odd = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
                                 _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
      unsigned mask = (unsigned)_mm_movemask_epi8(odd);
      if (mask == 0) {
        o += 16;
        i += 16;
        continue;
      }
      unsigned plain = (unsigned)__builtin_ctz(mask);
      o += plain;
      i += plain;
      break;
    }
#endif
    // Eight printable ASCII bytes with no quote or backslash are copied as they are (the tail, or without SSE2).
    while (i + 8 <= n) {
      uint64_t w;
      memcpy(&w, s + i, 8);
      if ((w & HIGHS) || HAS_ZERO(w & (ONES * 0xe0)) || HAS_ZERO(w ^ (ONES * '"')) || HAS_ZERO(w ^ (ONES * '\\'))) break;
      memcpy(o, &w, 8);
      o += 8;
      i += 8;
    }
    if (i >= n) break;
    uint8_t c = s[i];
    if (c >= 0x80) {
      size_t len = utf8_sequence(s + i, n - i);
      if (len == 0) return NULL;
      memcpy(o, s + i, len);
      o += len;
      i += len;
      continue;
    }
    i++;
    if (c >= 0x20 && c != '"' && c != '\\') {
      *o++ = c;
      continue;
    }
    *o++ = '\\';
    switch (c) {
      case '"': *o++ = '"'; break;
      case '\\': *o++ = '\\'; break;
      case '\b': *o++ = 'b'; break;
      case '\f': *o++ = 'f'; break;
      case '\n': *o++ = 'n'; break;
      case '\r': *o++ = 'r'; break;
      case '\t': *o++ = 't'; break;
      default:
        *o++ = 'u';
        *o++ = '0';
        *o++ = '0';
        *o++ = (uint8_t)hex[c >> 4];
        *o++ = (uint8_t)hex[c & 15];
    }
  }
  *o++ = '"';
  return o;
}

/*
 * True when an object built by assigning these keys in order keeps them in that order, each once: no integer-like
 * key (JavaScript puts those first; any key starting with a digit is left to it), no `__proto__` (no own key at all),
 * no key twice.
 */
bool keys_in_order(const uint8_t *p, const span *kv, uint32_t n) {
  for (uint32_t j = 0; j < n; j++) {
    uint32_t ks = kv[j].ks, len = kv[j].ke - ks;
    if (len > 0 && p[ks] >= '0' && p[ks] <= '9') return false;
    if (len == 9 && memcmp(p + ks, "__proto__", 9) == 0) return false;
    for (uint32_t k = 0; k < j; k++) {
      if (kv[k].ke - kv[k].ks == len && memcmp(p + kv[k].ks, p + ks, len) == 0) return false;
    }
  }
  return true;
}

/* `{"k":"v",…}` of the pairs at o; NULL when a key or value is not valid UTF-8. Room: object_bound. */
uint8_t *json_object(uint8_t *o, const uint8_t *p, const span *kv, uint32_t n) {
  *o++ = '{';
  for (uint32_t j = 0; j < n && o; j++) {
    if (j > 0) *o++ = ',';
    o = json_string(o, p + kv[j].ks, kv[j].ke - kv[j].ks);
    if (!o) return NULL;
    *o++ = ':';
    o = json_string(o, p + kv[j].vs, kv[j].ve - kv[j].vs);
  }
  if (o) *o++ = '}';
  return o;
}

size_t object_bound(const span *kv, uint32_t n) {
  size_t b = 2;
  for (uint32_t j = 0; j < n; j++) b += json_bound(kv[j].ke - kv[j].ks) + json_bound(kv[j].ve - kv[j].vs) + 2;
  return b;
}


bool valid_utf8(const uint8_t *s, size_t n) {
  for (size_t i = 0; i < n;) {
    if (s[i] < 0x80) {
      i++;
      continue;
    }
    size_t len = utf8_sequence(s + i, n - i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}
