// logseal's native addon: GHASH for SM4-GCM (ghash.c) and base64 into a buffer (base64.c), against Node-API.
#include "napi-args.h"

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"ghashInit", NULL, ghash_init, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ghashDigest", NULL, ghash_digest, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ghashBackend", NULL, ghash_backend, NULL, NULL, NULL, napi_enumerable, NULL},
      {"base64Encode", NULL, base64_encode, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
