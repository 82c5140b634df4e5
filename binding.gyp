# logseal's native addon (agent/native/*.c): GHASH for SM4-GCM and base64 into a buffer, plain C against Node-API,
# built with node-gyp at install time. Everything in it has a JavaScript equivalent used when it is not built.
{
  'targets': [
    {
      'target_name': 'logseal_native',
      'sources': ['agent/native/addon.c', 'agent/native/ghash.c', 'agent/native/base64.c'],
      'defines': ['NAPI_VERSION=8'],
      # cflags_c comes after node's own -O3 on the command line, so this -O2 is the one in force.
      'cflags_c': ['-std=c11', '-O2'],
      'xcode_settings': { 'OTHER_CFLAGS': ['-std=c11', '-O2'] },
    },
  ],
}
