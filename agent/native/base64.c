// base64 (RFC 4648 §4, with padding) written straight into a caller's buffer, for sealed records that go into a
// protobuf body: Node can only encode base64 into a new string, which the record layer would then measure and copy.
#include "napi-args.h"
#include <string.h>

static const char alphabet[64] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Writes 4 * ceil(n / 3) characters at out; returns how many. Also used by seal-batch.c. */
size_t base64_write(const uint8_t *in, size_t n, uint8_t *out) {
  uint8_t *o = out;
  size_t i = 0;
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

/* base64Encode(src: Uint8Array, out: Uint8Array, pos: number): number — the position after the text written. */
napi_value base64_encode(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!get_args(env, "base64", info, 3, argv)) return NULL;
  uint8_t *src, *out;
  size_t src_len, out_len;
  if (!get_bytes(env, "base64", argv[0], "src", &src, &src_len) || !get_bytes(env, "base64", argv[1], "out", &out, &out_len)) return NULL;
  double pos_d;
  if (napi_get_value_double(env, argv[2], &pos_d) != napi_ok || !(pos_d >= 0) || pos_d != (double)(size_t)pos_d) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "base64: pos must be a non-negative integer");
    return NULL;
  }
  size_t pos = (size_t)pos_d;
  size_t need = (src_len + 2) / 3 * 4;
  if (pos > out_len || out_len - pos < need) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "base64: out has no room for the text");
    return NULL;
  }
  // Text written over bytes still to be read would be wrong: the source and the range written must not overlap.
  if (src_len > 0 && src < out + pos + need && out + pos < src + src_len) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "base64: src and out overlap");
    return NULL;
  }
  napi_value result;
  CHECK("base64", napi_create_double(env, (double)(pos + base64_write(src, src_len, out + pos)), &result));
  return result;
}
