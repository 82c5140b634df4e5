// Argument checks shared by the addon's functions: every misuse becomes a JavaScript TypeError or Error, never a crash.
#ifndef LOGSEAL_NAPI_ARGS_H
#define LOGSEAL_NAPI_ARGS_H

#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Returns NULL from the calling function, with an Error naming `what` and the failed call, if `call` fails. */
#define CHECK(what, call)                          \
  do {                                             \
    if ((call) != napi_ok) {                       \
      napi_throw_error(env, NULL, what ": " #call); \
      return NULL;                                 \
    }                                              \
  } while (0)

/* A Uint8Array (or Buffer) argument; any byte offset. 0 after throwing a TypeError. */
static inline int get_bytes(napi_env env, const char *what, napi_value v, const char *name, uint8_t **data, size_t *len) {
  bool is_typed = false;
  napi_typedarray_type type;
  void *p = NULL;
  char msg[96];
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, v, &type, len, &p, NULL, NULL) != napi_ok || type != napi_uint8_array) {
    snprintf(msg, sizeof msg, "%s: %s must be a Uint8Array", what, name);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
    return 0;
  }
  static uint8_t none;
  *data = p ? (uint8_t *)p : &none; // an empty or detached view may have no storage
  return 1;
}

/* A Uint8Array argument of exactly `want` bytes; 0 after throwing (TypeError, or RangeError naming the length). */
static inline int get_bytes_of(napi_env env, const char *what, napi_value v, const char *name, size_t want, uint8_t **data) {
  size_t len;
  if (!get_bytes(env, what, v, name, data, &len)) return 0;
  if (len != want) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s: %s must be %zu bytes", what, name, want);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
    return 0;
  }
  return 1;
}

#define ANY_LENGTH ((size_t)-1)

/* A Uint32Array or Float64Array argument of exactly `want` elements (or ANY_LENGTH); its
   length in *length when it is not NULL. 0 after throwing a TypeError. */
static inline int get_numbers(napi_env env, const char *what, napi_value v, const char *name, napi_typedarray_type type, size_t want,
                              void **data, size_t *length) {
  bool is_typed = false;
  napi_typedarray_type t;
  size_t len = 0;
  char msg[112];
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, v, &t, &len, data, NULL, NULL) != napi_ok || t != type || (want != ANY_LENGTH && len != want)) {
    const char *kind = type == napi_uint32_array ? "Uint32Array" : "Float64Array";
    if (want != ANY_LENGTH) snprintf(msg, sizeof msg, "%s: %s must be a %s of %zu elements", what, name, kind, want);
    else snprintf(msg, sizeof msg, "%s: %s must be a %s", what, name, kind);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
    return 0;
  }
  if (length) *length = len;
  return 1;
}

/* A Uint32Array argument of any length; an empty or detached one gets a valid pointer. 0 after throwing a TypeError. */
static inline int get_u32(napi_env env, const char *what, napi_value v, const char *name, uint32_t **data, size_t *len) {
  void *p = NULL;
  if (!get_numbers(env, what, v, name, napi_uint32_array, ANY_LENGTH, &p, len)) return 0;
  static uint32_t none;
  *data = p ? (uint32_t *)p : &none;
  return 1;
}

/* A write position in `out` (out_len bytes) with room for `need` bytes after it; 0 after throwing (a TypeError for a
   position that is not a whole number, a RangeError for too little room). */
static inline int get_room_at(napi_env env, const char *what, napi_value v, size_t out_len, size_t need, size_t *pos) {
  double d;
  char msg[96];
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0) || d != (double)(size_t)d) {
    snprintf(msg, sizeof msg, "%s: pos must be a non-negative integer", what);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
    return 0;
  }
  if ((size_t)d > out_len || out_len - (size_t)d < need) {
    snprintf(msg, sizeof msg, "%s: out has no room for %zu bytes at pos", what, need);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
    return 0;
  }
  *pos = (size_t)d;
  return 1;
}

/* Exactly `want` arguments into argv, or 0 after throwing a TypeError. */
static inline int get_args(napi_env env, const char *what, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return 0;
  if (argc < want) {
    char msg[64];
    snprintf(msg, sizeof msg, "%s: too few arguments", what);
    napi_throw_type_error(env, "ERR_MISSING_ARGS", msg);
    return 0;
  }
  return 1;
}

/* base64 (base64.c) of n bytes at out: 4 * ceil(n / 3) characters, the count returned. */
size_t base64_write(const uint8_t *in, size_t n, uint8_t *out);
/* Strict base64 (base64.c) of n characters into out, which has base64_read_room(n) bytes; false if it is not. */
bool base64_read(const uint8_t *s, size_t n, uint8_t *out, size_t *len);
size_t base64_read_room(size_t n);

/* Functions of the addon, registered by addon.c. */
napi_value ghash_init(napi_env env, napi_callback_info info);
napi_value ghash_digest(napi_env env, napi_callback_info info);
napi_value ghash_backend(napi_env env, napi_callback_info info);
napi_value base64_encode(napi_env env, napi_callback_info info);
napi_value frame_lines(napi_env env, napi_callback_info info);
napi_value sm4_gcm_init(napi_env env, napi_callback_info info);
napi_value sm4_gcm_seal_js(napi_env env, napi_callback_info info);
napi_value sm4_gcm_open_js(napi_env env, napi_callback_info info);
napi_value sm4_encrypt_blocks(napi_env env, napi_callback_info info);
napi_value sm4_backend_js(napi_env env, napi_callback_info info);
napi_value seal_log_records(napi_env env, napi_callback_info info);
napi_value seal_batch_suites(napi_env env, napi_callback_info info);
napi_value field_values(napi_env env, napi_callback_info info);
napi_value open_sealed_group(napi_env env, napi_callback_info info);
napi_value page_groups(napi_env env, napi_callback_info info);
napi_value copy_bytes(napi_env env, napi_callback_info info);
napi_value set_pipe_size(napi_env env, napi_callback_info info);
napi_value field_tokens_init(napi_env env, napi_callback_info info);
napi_value field_tokens(napi_env env, napi_callback_info info);
napi_value replace_file_durably(napi_env env, napi_callback_info info);
napi_value lz4_compress_block(napi_env env, napi_callback_info info);
napi_value lz4_decompress_block(napi_env env, napi_callback_info info);

#endif
