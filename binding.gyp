# Native GHASH for SM4-GCM (agent/seal/native/ghash.c): plain C against Node-API, built with node-gyp.
{
  'targets': [
    {
      'target_name': 'logseal_ghash',
      'sources': ['agent/seal/native/ghash.c'],
      'defines': ['NAPI_VERSION=8'],
      # cflags_c comes after node's own -O3 on the command line, so this -O2 is the one in force.
      'cflags_c': ['-std=c11', '-O2'],
      'xcode_settings': { 'OTHER_CFLAGS': ['-std=c11', '-O2'] },
    },
  ],
}
