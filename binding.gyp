# logseal's native addon (agent/native/*.c), plain C against Node-API, built with node-gyp at install time: SM4 and
# GHASH for SM4-GCM, mode `log` records sealed a batch per call, base64 into a buffer, raw lines (plain or CRI
# container lines) framed as protobuf, the values and tokens of searchable fields, shipped groups opened for
# `logseal decrypt`, the checkpoint file replaced durably in one thread-pool job, LZ4 blocks, and a larger pipe for
# what decrypt prints. Each but the last has an equivalent used without the addon (JavaScript, node:crypto, or for
# LZ4 the lz4 package's binding); without the last the pipe keeps its size.
{
  'targets': [
    {
      'target_name': 'logseal_native',
      'sources': ['agent/native/addon.c', 'agent/native/ghash.c', 'agent/native/base64.c', 'agent/native/frame.c',
                  'agent/native/sm4.c', 'agent/native/seal-batch.c', 'agent/native/field-values.c',
                  'agent/native/field-tokens.c', 'agent/native/open-group.c', 'agent/native/json-text.c',
                  'agent/native/copy-bytes.c', 'agent/native/durable-file.c', 'agent/native/pipe-size.c',
                  'agent/native/lz4-block.c',
                  # The lz4 package's own copy of the library: LZ4 blocks for the records of mode `group` and for
                  # PutLogs bodies (lz4-block.c), and the decoder open-group.c reads shipped groups with.
                  'node_modules/lz4/deps/lz4/lib/lz4.c'],
      'include_dirs': ['node_modules/lz4/deps/lz4/lib'],
      'defines': ['NAPI_VERSION=8'],
      'conditions': [
        # Node's own OpenSSL, whose headers ship with Node's: AES batches for mode `log` call it (seal-batch.c), and
        # SHA-256 for the tokens of searchable fields (field-tokens.c).
        ['node_use_openssl=="true" and node_shared_openssl=="false"', { 'defines': ['LOGSEAL_OPENSSL'] }],
      ],
      # cflags_c comes after node's own -O3 on the command line, so this -O2 is the one in force.
      'cflags_c': ['-std=c11', '-O2'],
      'xcode_settings': { 'OTHER_CFLAGS': ['-std=c11', '-O2'] },
    },
  ],
}
