// LZ4 blocks compressed and decompressed by the lz4 package's own copy of the library (lz4.c, compiled into this
// addon for open-group.c already), so that the agent loads none of that package's JavaScript: wire/lz4.ts uses these
// where the addon is built and the package's binding where it is not. Same library, same level: the same blocks.
#include "napi-args.h"
#include "lz4.h"

/* lz4Compress(src, out, pos): number — src as one LZ4 block at out[pos], which must leave LZ4_compressBound(src.length)
   bytes; returns the block's length. */
napi_value lz4_compress_block(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!get_args(env, "lz4Compress", info, 3, argv)) return NULL;
  uint8_t *src, *out;
  size_t src_len, out_len;
  if (!get_bytes(env, "lz4Compress", argv[0], "src", &src, &src_len) || !get_bytes(env, "lz4Compress", argv[1], "out", &out, &out_len)) return NULL;
  if (src_len > LZ4_MAX_INPUT_SIZE) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "lz4Compress: src is larger than an LZ4 block can hold");
    return NULL;
  }
  int bound = LZ4_compressBound((int)src_len);
  size_t pos;
  if (!get_room_at(env, "lz4Compress", argv[2], out_len, (size_t)bound, &pos)) return NULL;
  int n = LZ4_compress_default((const char *)src, (char *)out + pos, (int)src_len, bound);
  if (n <= 0) {
    napi_throw_error(env, NULL, "lz4Compress: compression failed");
    return NULL;
  }
  napi_value result;
  CHECK("lz4Compress", napi_create_int32(env, n, &result));
  return result;
}

/* lz4Decompress(src, out): number — the LZ4 block src decoded into out; the bytes written, or a negative number when
   src is not a valid block or does not fit in out. */
napi_value lz4_decompress_block(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!get_args(env, "lz4Decompress", info, 2, argv)) return NULL;
  uint8_t *src, *out;
  size_t src_len, out_len;
  if (!get_bytes(env, "lz4Decompress", argv[0], "src", &src, &src_len) || !get_bytes(env, "lz4Decompress", argv[1], "out", &out, &out_len)) return NULL;
  int n = src_len > 0x7fffffff || out_len > 0x7fffffff ? -1 : LZ4_decompress_safe((const char *)src, (char *)out, (int)src_len, (int)out_len);
  napi_value result;
  CHECK("lz4Decompress", napi_create_int32(env, n, &result));
  return result;
}
