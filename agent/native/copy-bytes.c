// Bytes copied into a buffer with memcpy: V8 copies into a SharedArrayBuffer (the memory the decrypt reader lends for
// PullLogs bodies) with relaxed atomic moves, several times slower than memcpy on data fresh from a socket.
#include "napi-args.h"
#include <string.h>

/* copyBytes(src, out, pos): number — src copied to out at pos (it must fit); returns pos + src.length. */
napi_value copy_bytes(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!get_args(env, "copyBytes", info, 3, argv)) return NULL;
  uint8_t *src, *out;
  size_t src_len, out_len;
  if (!get_bytes(env, "copyBytes", argv[0], "src", &src, &src_len) || !get_bytes(env, "copyBytes", argv[1], "out", &out, &out_len)) return NULL;
  double pos_d;
  if (napi_get_value_double(env, argv[2], &pos_d) != napi_ok || !(pos_d >= 0) || pos_d > (double)out_len || pos_d != (double)(size_t)pos_d ||
      out_len - (size_t)pos_d < src_len) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "copyBytes: pos must be a whole number with room for src after it in out");
    return NULL;
  }
  size_t pos = (size_t)pos_d;
  memmove(out + pos, src, src_len);
  napi_value result;
  CHECK("copyBytes", napi_create_double(env, (double)(pos + src_len), &result));
  return result;
}
