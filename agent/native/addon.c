// logseal's native addon, against Node-API: GHASH (ghash.c) and SM4 (sm4.c) for SM4-GCM, base64 into a buffer
// (base64.c), the records of mode `log` sealed a batch per call (seal-batch.c), raw lines (plain or CRI container
// lines) framed into LogGroup.Logs fields (frame.c), the distinct values of searchable fields (field-values.c) and
// their tokens (field-tokens.c), shipped groups opened and printed for `logseal decrypt` (open-group.c), memcpy
// into shared memory (copy-bytes.c), the capacity of the pipe it prints to (pipe-size.c), the checkpoint file
// replaced durably in one thread-pool job (durable-file.c), and LZ4 blocks (lz4-block.c).
#include "napi-args.h"

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"ghashInit", NULL, ghash_init, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ghashDigest", NULL, ghash_digest, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ghashBackend", NULL, ghash_backend, NULL, NULL, NULL, napi_enumerable, NULL},
      {"base64Encode", NULL, base64_encode, NULL, NULL, NULL, napi_enumerable, NULL},
      {"frameLines", NULL, frame_lines, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sm4GcmInit", NULL, sm4_gcm_init, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sm4GcmSeal", NULL, sm4_gcm_seal_js, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sm4GcmOpen", NULL, sm4_gcm_open_js, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sm4EncryptBlocks", NULL, sm4_encrypt_blocks, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sm4Backend", NULL, sm4_backend_js, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sealLogRecords", NULL, seal_log_records, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sealBatchSuites", NULL, seal_batch_suites, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fieldValues", NULL, field_values, NULL, NULL, NULL, napi_enumerable, NULL},
      {"openSealedGroup", NULL, open_sealed_group, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pageGroups", NULL, page_groups, NULL, NULL, NULL, napi_enumerable, NULL},
      {"copyBytes", NULL, copy_bytes, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setPipeSize", NULL, set_pipe_size, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fieldTokensInit", NULL, field_tokens_init, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fieldTokens", NULL, field_tokens, NULL, NULL, NULL, napi_enumerable, NULL},
      {"lz4Compress", NULL, lz4_compress_block, NULL, NULL, NULL, napi_enumerable, NULL},
      {"lz4Decompress", NULL, lz4_decompress_block, NULL, NULL, NULL, napi_enumerable, NULL},
#ifndef _WIN32
      {"replaceFileDurably", NULL, replace_file_durably, NULL, NULL, NULL, napi_enumerable, NULL},
#endif
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
