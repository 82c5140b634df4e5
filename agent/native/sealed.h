// What seal-batch.c (sealing), open-group.c (opening) and sm4.c share of FORMAT.md v1: the suites, nonce and tag sizes,
// the decimal numbers of the AAD, and GCM's key stream applied to a record.
#ifndef LOGSEAL_SEALED_H
#define LOGSEAL_SEALED_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SUITE_AES_256_GCM 0
#define SUITE_SM4_128_GCM 1
#define NONCE 12
#define TAG 16

/* Decimal digits of v at p; returns the position after them. */
static inline uint8_t *write_decimal(uint8_t *p, uint64_t v) {
  uint8_t digits[20];
  int k = 0;
  do {
    digits[k++] = (uint8_t)('0' + v % 10);
    v /= 10;
  } while (v > 0);
  while (k > 0) *p++ = digits[--k];
  return p;
}

/* A record's AAD (FORMAT.md): the fixed part already at aad, then `<Time>|<second>`; returns its length. */
static inline size_t record_aad(uint8_t *aad, size_t fixed, uint64_t time, uint64_t second) {
  uint8_t *a = write_decimal(aad + fixed, time);
  *a++ = '|';
  return (size_t)(write_decimal(a, second) - aad);
}

/* out = a ^ b, eight bytes at a time where it can (out may equal a). */
static inline void xor_bytes(uint8_t *out, const uint8_t *a, const uint8_t *b, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x, y;
    memcpy(&x, a + i, 8);
    memcpy(&y, b + i, 8);
    x ^= y;
    memcpy(out + i, &x, 8);
  }
  for (; i < n; i++) out[i] = a[i] ^ b[i];
}

#endif
