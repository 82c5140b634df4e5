// What seal-batch.c (sealing) and open-group.c (opening) share of FORMAT.md v1: the suites, nonce and tag sizes, and
// the decimal numbers of the AAD.
#ifndef LOGSEAL_SEALED_H
#define LOGSEAL_SEALED_H

#include <stdint.h>

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

#endif
