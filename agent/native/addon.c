// logseal's native addon, against Node-API: GHASH for SM4-GCM (ghash.c), base64 into a buffer (base64.c), and raw
// lines framed into LogGroup.Logs fields (frame.c), and the distinct values of searchable fields (field-values.c).
#include "napi-args.h"

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"ghashInit", NULL, ghash_init, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ghashDigest", NULL, ghash_digest, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ghashBackend", NULL, ghash_backend, NULL, NULL, NULL, napi_enumerable, NULL},
      {"base64Encode", NULL, base64_encode, NULL, NULL, NULL, napi_enumerable, NULL},
      {"frameLines", NULL, frame_lines, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fieldValues", NULL, field_values, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
