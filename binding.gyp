# logseal's native addon (agent/native/*.c), plain C against Node-API, built with node-gyp at install time: GHASH for
# SM4-GCM, base64 into a buffer, raw lines framed as protobuf, and the values of searchable fields. Each has a
# JavaScript equivalent, used without it.
{
  'targets': [
    {
      'target_name': 'logseal_native',
      'sources': ['agent/native/addon.c', 'agent/native/ghash.c', 'agent/native/base64.c', 'agent/native/frame.c', 'agent/native/field-values.c'],
      'defines': ['NAPI_VERSION=8'],
      # cflags_c comes after node's own -O3 on the command line, so this -O2 is the one in force.
      'cflags_c': ['-std=c11', '-O2'],
      'xcode_settings': { 'OTHER_CFLAGS': ['-std=c11', '-O2'] },
    },
  ],
}
