// SM4-GCM (sm4.c) as the other C files of the addon use it: key state, seal and open of one record.
#ifndef LOGSEAL_SM4_H
#define LOGSEAL_SM4_H

#include "ghash.h"

#define SM4_MAGIC 0x534d3447u /* "SM4G": refuses an ArrayBuffer that sm4GcmInit() did not fill */
/* The paths, each a way to compute the S-box without secret-indexed memory. */
#define SM4_KIND_AESNI 1u    /* AES-NI, eight blocks per step */
#define SM4_KIND_PORTABLE 2u /* plain C, the S-box computed as an inversion in GF(2^8) */
#define SM4_KIND_GFNI 3u     /* AVX2 and GFNI, sixteen blocks */
#define SM4_KIND_VAES 4u     /* AVX2 and VAES, sixteen blocks */
#define SM4_KIND_AVX512 5u   /* AVX-512 and GFNI, ninety-six blocks (sixteen through the GFNI path) */

typedef struct {
  uint32_t magic;
  uint32_t kind;
  uint32_t rk[32];
  ghash_state ghash;
} sm4_gcm_key;

/* Round keys and GHASH subkey for a 16-byte key on path `kind` (0: the best this CPU runs); false if it cannot. */
bool sm4_gcm_key_init(sm4_gcm_key *k, const uint8_t key[16], unsigned kind);
/* The SM4_KIND_ of a path name, or 0. */
unsigned sm4_kind_named(const char *name);
bool sm4_gcm_key_usable(const sm4_gcm_key *k);
/* out = ciphertext (n bytes) || tag (16 bytes); out may equal in. */
void sm4_gcm_seal(const sm4_gcm_key *k, const uint8_t nonce[12], const uint8_t *in, size_t n, const uint8_t *aad,
                  size_t aad_len, uint8_t *out);
/* Checks the tag of `sealed` (n bytes of ciphertext, then the tag) before writing n bytes of plaintext to out. */
bool sm4_gcm_open(const sm4_gcm_key *k, const uint8_t nonce[12], const uint8_t *sealed, size_t n, const uint8_t *aad,
                  size_t aad_len, uint8_t *out);
/* ECB: `blocks` whole blocks of in encrypted to out (out may equal in), sixteen or thirty-two a step. */
void sm4_ecb_blocks(const sm4_gcm_key *k, const uint8_t *in, uint8_t *out, size_t blocks);
/* The name of the path sm4_gcm_key_init picks on this CPU by default. */
const char *sm4_backend(void);

#endif
