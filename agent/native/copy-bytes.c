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
  size_t pos;
  if (!get_room_at(env, "copyBytes", argv[2], out_len, src_len, &pos)) return NULL;
  memmove(out + pos, src, src_len);
  napi_value result;
  CHECK("copyBytes", napi_create_double(env, (double)(pos + src_len), &result));
  return result;
}
