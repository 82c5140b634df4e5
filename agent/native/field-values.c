// The distinct values of searchable fields in a run of encoded Logs, in one call: the seal worker's scan for tokens.
//
// Walks the Contents of each Log span (0x12 len { 0x0a keyLen key 0x12 valueLen value }), and for every Content whose
// key is one of the field names writes (field, valueStart, valueEnd) to `out` the first time that (field, value)
// occurs in the call. JavaScript then turns only these distinct values into tokens. Malformed bytes end the walk of
// that Log (the encoder wrote them, so this does not happen), never a read past the buffer.
#include "contents.h"
#include "napi-args.h"
#include <stdlib.h>
#include <string.h>

static uint32_t hash_value(uint32_t field, const uint8_t *v, size_t n) {
  uint32_t h = 0x811c9dc5u ^ field;
  for (size_t i = 0; i < n; i++) h = (h ^ v[i]) * 0x01000193u;
  return h;
}

/* fieldValues(bytes, spans: Uint32Array [start, end]*, names: Uint8Array, nameEnds: Uint32Array, out: Uint32Array):
 * number of (field, start, end) triples written, or -1 when `out` is too small. */
napi_value field_values(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!get_args(env, "fieldValues", info, 5, argv)) return NULL;
  uint8_t *bytes, *names;
  uint32_t *spans, *name_ends, *out;
  size_t len, spans_len, names_len, fields, out_len;
  if (!get_bytes(env, "fieldValues", argv[0], "bytes", &bytes, &len) || !get_u32(env, "fieldValues", argv[1], "spans", &spans, &spans_len) ||
      !get_bytes(env, "fieldValues", argv[2], "names", &names, &names_len) || !get_u32(env, "fieldValues", argv[3], "nameEnds", &name_ends, &fields) ||
      !get_u32(env, "fieldValues", argv[4], "out", &out, &out_len))
    return NULL;
  for (size_t f = 0; f < fields; f++) {
    if (name_ends[f] > names_len || (f > 0 && name_ends[f] < name_ends[f - 1])) {
      napi_throw_range_error(env, NULL, "fieldValues: nameEnds out of order or past names");
      return NULL;
    }
  }
  size_t slots = 64;
  while (slots < out_len / 3 * 2 + 2) slots <<= 1;
  uint32_t *table = calloc(slots, sizeof *table); // 0 = empty, else 1 + index of the triple in out
  if (!table) {
    napi_throw_error(env, NULL, "fieldValues: out of memory");
    return NULL;
  }
  int64_t written = 0;
  for (size_t s = 0; s + 1 < spans_len && written >= 0; s += 2) {
    if (spans[s] > spans[s + 1] || spans[s + 1] > len) break;
    const uint8_t *p = bytes + spans[s], *end = bytes + spans[s + 1];
    while (p < end && written >= 0) {
      const uint8_t *key, *value;
      uint32_t key_len, value_len;
      if (!next_content(&p, end, &key, &key_len, &value, &value_len)) break;
      for (uint32_t f = 0, from = 0; f < fields; from = name_ends[f], f++) {
        if (name_ends[f] - from != key_len || memcmp(names + from, key, key_len) != 0) continue;
        uint32_t h = hash_value(f, value, value_len);
        size_t i = h & (slots - 1);
        for (; table[i] != 0; i = (i + 1) & (slots - 1)) {
          const uint32_t *t = out + 3 * (size_t)(table[i] - 1);
          if (t[0] == f && t[2] - t[1] == value_len && memcmp(bytes + t[1], value, value_len) == 0) break;
        }
        if (table[i] != 0) continue; // seen in this call
        if ((size_t)(written + 1) * 3 > out_len) {
          written = -1;
          break;
        }
        uint32_t *t = out + 3 * (size_t)written;
        t[0] = f;
        t[1] = (uint32_t)(value - bytes);
        t[2] = (uint32_t)(value - bytes) + value_len;
        table[i] = (uint32_t)++written;
      }
    }
  }
  free(table);
  napi_value result;
  CHECK("fieldValues", napi_create_int64(env, written, &result));
  return result;
}
