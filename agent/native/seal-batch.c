// The records of mode `log` sealed a batch per call: every log's Contents sealed under one key with its own nonce and
// AAD (FORMAT.md), written as base64(nonce || ciphertext || tag) one after another. One call replaces a cipher object,
// an AAD string and a base64 call per log line. AES-256-GCM runs the OpenSSL that Node itself links (its EVP
// functions, found at load time), SM4-GCM runs sm4.c.

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
  bool ok = sealed && aad;
  sm4_gcm_key *sm4 = NULL;
#ifdef LOGSEAL_OPENSSL
  EVP_CIPHER_CTX *ctx = NULL;
#endif
  if (ok && suite == SUITE_SM4_128_GCM) {
    sm4 = malloc(sizeof *sm4);
    ok = sm4 && sm4_gcm_key_init(sm4, key, 0);
  } else if (ok) {
#ifdef LOGSEAL_OPENSSL
    ok = openssl_linked() && (ctx = EVP_CIPHER_CTX_new()) && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, NULL) == 1;
#else
    ok = false;
#endif
  }
  if (ok) memcpy(aad, prefix, prefix_len);
  size_t pos = 0;
  for (size_t i = 0; ok && i < count; i++) {
    const uint8_t *nonce = nonces + NONCE * i, *in = src + ranges[2 * i];
    size_t n = ranges[2 * i + 1] - ranges[2 * i];
    uint8_t *p = write_decimal(aad + prefix_len, (uint64_t)times[2 * i]);
    *p++ = '|';
    p = write_decimal(p, (uint64_t)times[2 * i + 1]);
    size_t aad_len = (size_t)(p - aad);
    if (suite == SUITE_SM4_128_GCM) {
      memcpy(sealed, nonce, NONCE);
      sm4_gcm_seal(sm4, nonce, in, n, aad, aad_len, sealed + NONCE);
    } else {
#ifdef LOGSEAL_OPENSSL
      ok = aes_seal(ctx, nonce, in, n, aad, aad_len, sealed);
#endif
    }
    if (ok) pos += base64_write(sealed, NONCE + n + TAG, out + pos);
  }
#ifdef LOGSEAL_OPENSSL
  if (ctx) EVP_CIPHER_CTX_free(ctx); // cleanses the key schedule
#endif
  if (sm4) {
    memset(sm4, 0, sizeof *sm4);
    free(sm4);
  }
  free(sealed);
  free(aad);
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
