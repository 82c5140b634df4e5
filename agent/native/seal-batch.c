// The records of mode `log` sealed a batch per call: every log's Contents sealed under one key with its own nonce and
// AAD (FORMAT.md), written as base64(nonce || ciphertext || tag) one after another. One call replaces a cipher object,
// an AAD string and a base64 call per log line. AES-256 runs the OpenSSL that Node itself links (its EVP functions,
// found at load time), SM4 runs sm4.c.
//
// GCM is computed in steps, as open-group.c opens these records: the counter blocks of many records (each record's
// J0, then its key stream's) are encrypted in one ECB pass (H = E(0) once per batch), and each record's ciphertext
// is its plaintext XOR its key stream, its tag GHASH (ghash.c) XOR E(J0). One GCM initialisation per
// record (OpenSSL's EVP_EncryptInit_ex with the IV, a run of sixteen SM4 blocks for a line of 200 bytes) cost more
// than the record's cipher work. A record too long for one pass is sealed on its own, as before.

#include "napi-args.h"
#include "evp.h"
#include "sealed.h"
#include "sm4.h"
#include <stdlib.h>
#include <string.h>

#ifdef LOGSEAL_OPENSSL
/* nonce || ciphertext || tag of one record into `sealed`; false if OpenSSL reports an error. */
static bool aes_seal(EVP_CIPHER_CTX *ctx, const uint8_t *nonce, const uint8_t *in, size_t n, const uint8_t *aad, size_t aad_len,
                     uint8_t *sealed) {
  int len = 0, fin = 0;
  if (n > 0x7fffffff || aad_len > 0x7fffffff) return false;
  memcpy(sealed, nonce, NONCE);
  // The key stays set from the first init; a new IV restarts GCM for the next record.
  return EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce) == 1 && EVP_EncryptUpdate(ctx, NULL, &len, aad, (int)aad_len) == 1 &&
         EVP_EncryptUpdate(ctx, sealed + NONCE, &len, in, (int)n) == 1 &&
         EVP_EncryptFinal_ex(ctx, sealed + NONCE + len, &fin) == 1 && (size_t)(len + fin) == n &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG, sealed + NONCE + n) == 1;
}
#endif

/* Counter blocks of one ECB pass: the records' J0 and key streams (64 KiB, within L2). */
#define PASS_BLOCKS 4096

/* `blocks` whole blocks of `in` encrypted to `out` under the batch's key (ECB). */
static bool ecb_blocks(int suite, const sm4_gcm_key *sm4, void *aes_ecb, const uint8_t *in, uint8_t *out, size_t blocks) {
  if (suite == SUITE_SM4_128_GCM) {
    sm4_ecb_blocks(sm4, in, out, blocks);
    return true;
  }
#ifdef LOGSEAL_OPENSSL
  int len = 0;
  return EVP_EncryptUpdate((EVP_CIPHER_CTX *)aes_ecb, out, &len, in, (int)(blocks * 16)) == 1 && (size_t)len == blocks * 16;
#else
  (void)aes_ecb, (void)in, (void)out, (void)blocks;
  return false;
#endif
}

static bool whole(double d) { return d >= 0 && d <= 9007199254740991.0 && d == (double)(uint64_t)d; }

/*
 * sealLogRecords(suite: 0 = AES_256_GCM | 1 = SM4_128_GCM, key, src, ranges: Uint32Array, times: Float64Array,
 *                prefix, nonces, out): number
 * Record i seals src[ranges[2i], ranges[2i+1]) with nonce nonces[12i, 12i+12) and AAD prefix || times[2i] || "|" ||
 * times[2i+1]; its base64 text follows the previous record's in out. Returns the characters written.
 */
napi_value seal_log_records(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  if (!get_args(env, "sealLogRecords", info, 8, argv)) return NULL;
  uint32_t suite;
  if (napi_get_value_uint32(env, argv[0], &suite) != napi_ok || suite > SUITE_SM4_128_GCM) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "sealLogRecords: suite must be 0 (AES_256_GCM) or 1 (SM4_128_GCM)");
    return NULL;
  }
  uint8_t *key, *src, *prefix, *nonces, *out;
  size_t key_len, src_len, prefix_len, nonces_len, out_len;
  if (!get_bytes(env, "sealLogRecords", argv[1], "key", &key, &key_len) || !get_bytes(env, "sealLogRecords", argv[2], "src", &src, &src_len) ||
      !get_bytes(env, "sealLogRecords", argv[5], "prefix", &prefix, &prefix_len) ||
      !get_bytes(env, "sealLogRecords", argv[6], "nonces", &nonces, &nonces_len) ||
      !get_bytes(env, "sealLogRecords", argv[7], "out", &out, &out_len))
    return NULL;
  if (key_len != (suite == SUITE_AES_256_GCM ? 32u : 16u)) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "sealLogRecords: key has the wrong length for the suite");
    return NULL;
  }
  if (nonces_len % NONCE != 0) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "sealLogRecords: nonces must be 12 bytes per record");
    return NULL;
  }
  size_t count = nonces_len / NONCE;
  uint32_t *ranges;
  double *times;
  if (!get_numbers(env, "sealLogRecords", argv[3], "ranges", napi_uint32_array, 2 * count, (void **)&ranges, NULL) ||
      !get_numbers(env, "sealLogRecords", argv[4], "times", napi_float64_array, 2 * count, (void **)&times, NULL))
    return NULL;

  // Everything is checked before anything is sealed: a bad batch writes nothing.
  size_t need = 0, largest = 0;
  for (size_t i = 0; i < count; i++) {
    if (ranges[2 * i] > ranges[2 * i + 1] || ranges[2 * i + 1] > src_len || !whole(times[2 * i]) || !whole(times[2 * i + 1])) {
      napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "sealLogRecords: a range lies outside src or a time is not a whole number");
      return NULL;
    }
    size_t n = ranges[2 * i + 1] - ranges[2 * i];
    if (n > largest) largest = n;
    need += (NONCE + n + TAG + 2) / 3 * 4;
  }
  if (need > out_len || (out_len > 0 && src_len > 0 && src < out + out_len && out < src + src_len)) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "sealLogRecords: out is too small or overlaps src");
    return NULL;
  }

  uint8_t *sealed = malloc(NONCE + largest + TAG), *aad = malloc(prefix_len + 48);
  uint8_t *counters = malloc(PASS_BLOCKS * 16), *stream = malloc(PASS_BLOCKS * 16);
  bool ok = sealed && aad && counters && stream;
  sm4_gcm_key *sm4 = NULL;
#ifdef LOGSEAL_OPENSSL
  EVP_CIPHER_CTX *ctx = NULL, *ecb = NULL;
#else
  void *ecb = NULL;
#endif
  if (ok && suite == SUITE_SM4_128_GCM) {
    sm4 = malloc(sizeof *sm4);
    ok = sm4 && sm4_gcm_key_init(sm4, key, 0);
  } else if (ok) {
#ifdef LOGSEAL_OPENSSL
    ok = openssl_linked() && (ctx = EVP_CIPHER_CTX_new()) && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, NULL) == 1 &&
         (ecb = EVP_CIPHER_CTX_new()) && EVP_EncryptInit_ex(ecb, EVP_aes_256_ecb(), NULL, key, NULL) == 1 && EVP_CIPHER_CTX_set_padding(ecb, 0) == 1;
#else
    ok = false;
#endif
  }
  if (ok) memcpy(aad, prefix, prefix_len);
  ghash_state gs;
  if (ok) {
    memset(counters, 0, 16); // E(0) = H, on its own: the passes below start with a record
    ok = ecb_blocks((int)suite, sm4, ecb, counters, stream, 1);
    if (ok) ghash_key(&gs, stream, sm4 && sm4->kind == SM4_KIND_PORTABLE);
  }
  size_t pos = 0;
  for (size_t first = 0; ok && first < count;) {
    // One pass: the records from `first` whose blocks fit, or one record too long for a pass, sealed on its own.
    size_t last = first, blocks = 0;
    while (last < count) {
      size_t rb = 1 + (ranges[2 * last + 1] - ranges[2 * last] + 15) / 16;
      if (blocks + rb > PASS_BLOCKS) break;
      const uint8_t *nonce = nonces + NONCE * last;
      for (size_t b = 0; b < rb; b++) {
        uint8_t *c = counters + 16 * (blocks + b);
        uint32_t counter = 1 + (uint32_t)b; // J0 = nonce || 1, the key stream from nonce || 2 (inc32)
        memcpy(c, nonce, NONCE);
        c[12] = (uint8_t)(counter >> 24), c[13] = (uint8_t)(counter >> 16), c[14] = (uint8_t)(counter >> 8), c[15] = (uint8_t)counter;
      }
      blocks += rb;
      last++;
    }
    if (last == first) {
      const uint8_t *nonce = nonces + NONCE * first, *in = src + ranges[2 * first];
      size_t n = ranges[2 * first + 1] - ranges[2 * first];
      size_t aad_len = record_aad(aad, prefix_len, (uint64_t)times[2 * first], (uint64_t)times[2 * first + 1]);
      memcpy(sealed, nonce, NONCE);
      if (suite == SUITE_SM4_128_GCM) {
        sm4_gcm_seal(sm4, nonce, in, n, aad, aad_len, sealed + NONCE);
      } else {
#ifdef LOGSEAL_OPENSSL
        ok = aes_seal(ctx, nonce, in, n, aad, aad_len, sealed);
#endif
      }
      if (ok) pos += base64_write(sealed, NONCE + n + TAG, out + pos);
      first++;
      continue;
    }
    ok = ecb_blocks((int)suite, sm4, ecb, counters, stream, blocks);
    const uint8_t *ks = stream;
    for (size_t i = first; ok && i < last; i++) {
      const uint8_t *in = src + ranges[2 * i];
      size_t n = ranges[2 * i + 1] - ranges[2 * i];
      size_t aad_len = record_aad(aad, prefix_len, (uint64_t)times[2 * i], (uint64_t)times[2 * i + 1]);
      uint8_t tag[16];
      memcpy(sealed, nonces + NONCE * i, NONCE);
      xor_bytes(sealed + NONCE, in, ks + 16, n);
      ghash_compute(&gs, aad, aad_len, sealed + NONCE, n, tag);
      xor_bytes(sealed + NONCE + n, tag, ks, TAG); // tag = GHASH XOR E(J0)
      pos += base64_write(sealed, NONCE + n + TAG, out + pos);
      ks += 16 * (1 + (n + 15) / 16);
    }
    first = last;
  }
  memset(&gs, 0, sizeof gs);
  if (stream) memset(stream, 0, PASS_BLOCKS * 16); // key stream; the counters are public
  if (sealed) memset(sealed, 0, NONCE + largest + TAG);
#ifdef LOGSEAL_OPENSSL
  if (ctx) EVP_CIPHER_CTX_free(ctx); // cleanses the key schedule
  if (ecb) EVP_CIPHER_CTX_free(ecb);
#endif
  if (sm4) {
    memset(sm4, 0, sizeof *sm4);
    free(sm4);
  }
  free(sealed);
  free(aad);
  free(counters);
  free(stream);
  if (!ok) {
    napi_throw_error(env, NULL, suite == SUITE_AES_256_GCM && !openssl_linked() ? "sealLogRecords: AES needs Node's OpenSSL, which this build cannot reach"
                                                                                : "sealLogRecords: the cipher failed");
    return NULL;
  }
  napi_value result;
  CHECK("sealLogRecords", napi_create_double(env, (double)pos, &result));
  return result;
}

/* sealBatchSuites(): the suites sealLogRecords can seal in this process, e.g. ["AES_256_GCM", "SM4_128_GCM"]. */
napi_value seal_batch_suites(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value list, s;
  uint32_t n = 0;
  CHECK("sealBatchSuites", napi_create_array(env, &list));
  if (openssl_linked()) {
    CHECK("sealBatchSuites", napi_create_string_utf8(env, "AES_256_GCM", NAPI_AUTO_LENGTH, &s));
    CHECK("sealBatchSuites", napi_set_element(env, list, n++, s));
  }
  CHECK("sealBatchSuites", napi_create_string_utf8(env, "SM4_128_GCM", NAPI_AUTO_LENGTH, &s));
  CHECK("sealBatchSuites", napi_set_element(env, list, n++, s));
  return list;
}
