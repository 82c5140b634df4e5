// GHASH (ghash.c) as the other C files of the addon use it: per-key state, and the digest of AAD and ciphertext.
#ifndef LOGSEAL_GHASH_H
#define LOGSEAL_GHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATE_MAGIC 0x47484b31u /* "GHK1": refuses an ArrayBuffer that ghashInit() did not fill */
#define KIND_PCLMUL 1u
#define KIND_PORTABLE 2u

typedef struct {
  uint32_t magic;
  uint32_t kind;
  uint32_t wide; /* 1: the 512-bit VPCLMULQDQ loop may be used (where the CPU has it); 0 keeps to the 128-bit one */
  union {
    /* H^16 down to H^1, byte-reversed as the carry-less multiply wants them: 16 (or 4) blocks folded per reduction. */
    uint8_t powers[16][16];
    /* Shoup's tables: H times every 4-bit value, as big-endian halves. */
    struct {
      uint64_t hl[16];
      uint64_t hh[16];
    } shoup;
  } u;
} ghash_state;

/* State for the hash subkey h: the PCLMULQDQ path unless `portable` or the CPU lacks it. */
void ghash_key(ghash_state *st, const uint8_t h[16], bool portable);
/* False for a state ghash_key did not make, or one whose path this CPU cannot run. */
bool ghash_state_usable(const ghash_state *st);
/* GHASH_H(A, C) with the lengths block, into out (which may alias an input). */
void ghash_compute(const ghash_state *st, const uint8_t *aad, size_t aad_len, const uint8_t *c, size_t c_len, uint8_t out[16]);

#endif
