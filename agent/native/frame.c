// Raw lines to LogGroup.Logs fields in one call per read chunk: the input's fast path for lines that need no parsing.
//
// For each complete line (LF-terminated, one trailing CR dropped) it writes exactly what LogWriter.line writes:
//   0x0a len(Log) | 0x08 varint(Time) | 0x12 len(Content) key-field 0x12 varint(n) line | extra | 0x25 Time_ns (LE32)
// and records where the field ends and the file offset after the line's LF. It stops, leaving the rest to
// JavaScript, at the first line longer than `max` (the framer splits it), when no LF is left, or when `out`,
// `ends` or `offsets` have no room for the next log (the caller grows them and calls again).
#include "napi-args.h"
#include <string.h>

enum { ST_POS, ST_END, ST_MAX, ST_OUT_POS, ST_COUNT, ST_FILE_OFFSET, ST_TIME, ST_TIME_NS, ST_STOP, ST_NEED, ST_FIELDS };
enum { STOP_NO_LINE = 0, STOP_TOO_LONG = 1, STOP_NO_ROOM = 2, STOP_NO_SLOT = 3 };

static size_t varint_len(uint32_t v) { return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5; }

static uint8_t *put_varint(uint8_t *p, uint32_t v) {
  while (v > 0x7f) {
    *p++ = (uint8_t)((v & 0x7f) | 0x80);
    v >>= 7;
  }
  *p++ = (uint8_t)v;
  return p;
}

/* A typed array argument of the given type; 0 after throwing a TypeError. */
static int get_typed(napi_env env, napi_value v, napi_typedarray_type want, const char *name, void **data, size_t *len) {
  bool is_typed = false;
  napi_typedarray_type type;
  void *p = NULL;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, v, &type, len, &p, NULL, NULL) != napi_ok || type != want) {
    char msg[96];
    snprintf(msg, sizeof msg, "frameLines: %s has the wrong type", name);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
    return 0;
  }
  static uint64_t none;
  *data = p ? p : &none;
  return 1;
}

static int is_uint(double d, double max) { return d >= 0 && d <= max && d == (double)(uint64_t)d; }

/* frameLines(src: Uint8Array, out: Uint8Array, ends: Uint32Array, offsets: Float64Array, keyField: Uint8Array,
 *            extra: Uint8Array, st: Float64Array(ST_FIELDS)): void — reads and updates st. */
napi_value frame_lines(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (!get_args(env, "frameLines", info, 7, argv)) return NULL;
  uint8_t *src, *out, *key, *extra;
  uint32_t *ends;
  double *offsets, *st;
  size_t src_len, out_len, ends_len, offsets_len, key_len, extra_len, st_len;
  if (!get_bytes(env, "frameLines", argv[0], "src", &src, &src_len) || !get_bytes(env, "frameLines", argv[1], "out", &out, &out_len) ||
      !get_typed(env, argv[2], napi_uint32_array, "ends", (void **)&ends, &ends_len) ||
      !get_typed(env, argv[3], napi_float64_array, "offsets", (void **)&offsets, &offsets_len) ||
      !get_bytes(env, "frameLines", argv[4], "keyField", &key, &key_len) || !get_bytes(env, "frameLines", argv[5], "extra", &extra, &extra_len) ||
      !get_typed(env, argv[6], napi_float64_array, "st", (void **)&st, &st_len))
    return NULL;
  if (st_len < ST_FIELDS || !is_uint(st[ST_END], (double)src_len) || !is_uint(st[ST_POS], st[ST_END]) ||
      !is_uint(st[ST_OUT_POS], (double)out_len) || !is_uint(st[ST_COUNT], (double)(ends_len < offsets_len ? ends_len : offsets_len)) ||
      !is_uint(st[ST_MAX], 4294967295.0) || !is_uint(st[ST_TIME], 4294967295.0) || !is_uint(st[ST_TIME_NS], 4294967295.0) ||
      !is_uint(st[ST_FILE_OFFSET], 9007199254740991.0) || key_len > 1024 || extra_len > 0x7fffffff) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "frameLines: state out of range");
    return NULL;
  }
  size_t pos = (size_t)st[ST_POS], end = (size_t)st[ST_END], o = (size_t)st[ST_OUT_POS], n = (size_t)st[ST_COUNT];
  const size_t max = (size_t)st[ST_MAX];
  const double file_offset = st[ST_FILE_OFFSET];
  const uint32_t time = (uint32_t)st[ST_TIME], time_ns = (uint32_t)st[ST_TIME_NS];
  const size_t slots = ends_len < offsets_len ? ends_len : offsets_len;
  const size_t time_len = varint_len(time);
  int stop = STOP_NO_LINE;
  double need = 0;

  while (pos < end) {
    const uint8_t *nl = memchr(src + pos, '\n', end - pos);
    if (!nl) break;
    size_t lf = (size_t)(nl - src);
    size_t stop_at = lf > pos && src[lf - 1] == '\r' ? lf - 1 : lf;
    size_t len = stop_at - pos;
    if (len > max || len > 0xffff0000u) {
      stop = STOP_TOO_LONG;
      break;
    }
    if (n >= slots) {
      stop = STOP_NO_SLOT;
      break;
    }
    size_t content = key_len + 1 + varint_len((uint32_t)len) + len;
    size_t log = 1 + time_len + 1 + varint_len((uint32_t)content) + content + extra_len + 5;
    size_t field = 1 + varint_len((uint32_t)log) + log;
    if (log > 0xffffffffu || out_len - o < field) {
      stop = STOP_NO_ROOM;
      need = (double)field;
      break;
    }
    uint8_t *p = out + o;
    *p++ = 0x0a;
    p = put_varint(p, (uint32_t)log);
    *p++ = 0x08;
    p = put_varint(p, time);
    *p++ = 0x12;
    p = put_varint(p, (uint32_t)content);
    memcpy(p, key, key_len);
    p += key_len;
    *p++ = 0x12;
    p = put_varint(p, (uint32_t)len);
    memcpy(p, src + pos, len);
    p += len;
    memcpy(p, extra, extra_len);
    p += extra_len;
    *p++ = 0x25;
    *p++ = (uint8_t)time_ns;
    *p++ = (uint8_t)(time_ns >> 8);
    *p++ = (uint8_t)(time_ns >> 16);
    *p++ = (uint8_t)(time_ns >> 24);
    o = (size_t)(p - out);
    ends[n] = (uint32_t)o;
    offsets[n] = file_offset + (double)(lf + 1);
    n++;
    pos = lf + 1;
  }
  st[ST_POS] = (double)pos;
  st[ST_OUT_POS] = (double)o;
  st[ST_COUNT] = (double)n;
  st[ST_STOP] = stop;
  st[ST_NEED] = need;
  return NULL;
}
