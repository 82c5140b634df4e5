// Raw lines to LogGroup.Logs fields in one call per read chunk: the input's fast path for lines that need no parsing.
//
// For each complete line (LF-terminated, one trailing CR dropped) it writes exactly what LogWriter.line writes:
//   0x0a len(Log) | 0x08 varint(Time) | 0x12 len(Content) key-field 0x12 varint(n) line | extra | 0x25 Time_ns (LE32)
// and records where the field ends and the file offset after the line's LF. It stops, leaving the rest to
// JavaScript, at the first line longer than `max` (the framer splits it), when no LF is left, or when `out`,
// `ends` or `offsets` have no room for the next log (the caller grows them and calls again).
//
// In CRI mode (st[ST_MODE] = 1) each line is a container log line `<time> <stream> F <log>`: the log becomes the
// content, the line's own time Time and Time_ns, and `extra` is the first st[ST_EXTRA_SPLIT] bytes for stdout, the
// rest for stderr. Any other line (a `P` fragment, a malformed one, a time it does not take) stops it with
// STOP_NOT_PLAIN: JavaScript's decoder (agent/input/container-format.ts) handles that line, with the same result.
#include "napi-args.h"
#include <string.h>

enum { ST_POS, ST_END, ST_MAX, ST_OUT_POS, ST_COUNT, ST_FILE_OFFSET, ST_TIME, ST_TIME_NS, ST_STOP, ST_NEED, ST_MODE, ST_EXTRA_SPLIT, ST_FIELDS };
enum { STOP_NO_LINE = 0, STOP_TOO_LONG = 1, STOP_NO_ROOM = 2, STOP_NO_SLOT = 3, STOP_NOT_PLAIN = 4 };

static size_t varint_len(uint32_t v) { return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5; }

static uint8_t *put_varint(uint8_t *p, uint32_t v) {
  while (v > 0x7f) {
    *p++ = (uint8_t)((v & 0x7f) | 0x80);
    v >>= 7;
  }
  *p++ = (uint8_t)v;
  return p;
}

static int digits(const uint8_t *s, size_t n, uint32_t *v) {
  uint32_t x = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return 0;
    x = x * 10 + (uint32_t)(s[i] - '0');
  }
  *v = x;
  return 1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, uint32_t m, uint32_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const uint32_t yoe = (uint32_t)(y - era * 400);
  const uint32_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const uint32_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

/* RFC 3339 `YYYY-MM-DDTHH:MM:SS[.1-9 digits](Z|+HH:MM|-HH:MM)` filling all of s[0, n); only valid dates. */
static int parse_time(const uint8_t *s, size_t n, uint32_t *sec, uint32_t *nsec) {
  uint32_t y, mo, d, h, mi, se, ns = 0;
  if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':') return 0;
  if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) || !digits(s + 11, 2, &h) ||
      !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &se))
    return 0;
  static const uint8_t month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo < 1 || mo > 12 || d < 1 || d > (uint32_t)(month_days[mo - 1] + (mo == 2 && leap)) || h > 23 || mi > 59 || se > 59) return 0;
  size_t p = 19;
  if (s[p] == '.') {
    size_t k = 0;
    for (p++; p < n && k < 9 && s[p] >= '0' && s[p] <= '9'; p++, k++) ns = ns * 10 + (uint32_t)(s[p] - '0');
    if (k == 0) return 0;
    for (; k < 9; k++) ns *= 10;
  }
  int64_t offset = 0;
  if (p + 1 == n && s[p] == 'Z') {
  } else if (p + 6 == n && (s[p] == '+' || s[p] == '-') && s[p + 3] == ':') {
    uint32_t zh, zm;
    if (!digits(s + p + 1, 2, &zh) || !digits(s + p + 4, 2, &zm) || zh > 23 || zm > 59) return 0;
    offset = (s[p] == '+' ? 1 : -1) * (int64_t)(zh * 3600 + zm * 60);
  } else {
    return 0;
  }
  const int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset;
  if (t < 0 || t > 0xffffffffLL) return 0;
  *sec = (uint32_t)t;
  *nsec = ns;
  return 1;
}

/* A complete CRI line s[0, n): its log's start, time and stream (0 stdout, 1 stderr); 0 for anything else. */
static int parse_cri(const uint8_t *s, size_t n, size_t *log_at, uint32_t *sec, uint32_t *nsec, int *stream) {
  const uint8_t *sp1 = memchr(s, ' ', n);
  if (!sp1 || (size_t)(sp1 - s) + 8 > n) return 0;
  const uint8_t *st = sp1 + 1;
  if (st[6] != ' ' || memcmp(st, "std", 3) != 0) return 0;
  if (memcmp(st + 3, "out", 3) == 0) *stream = 0;
  else if (memcmp(st + 3, "err", 3) == 0) *stream = 1;
  else return 0;
  size_t tag = (size_t)(st - s) + 7;
  if (tag >= n || s[tag] != 'F') return 0;
  size_t after = tag + 1;
  if (after < n && s[after] != ' ' && s[after] != ':') return 0;
  while (after < n && s[after] != ' ') after++;
  *log_at = after < n ? after + 1 : n;
  return parse_time(s, (size_t)(sp1 - s), sec, nsec);
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
  if (st_len < ST_MODE || !is_uint(st[ST_END], (double)src_len) || !is_uint(st[ST_POS], st[ST_END]) ||
      !is_uint(st[ST_OUT_POS], (double)out_len) || !is_uint(st[ST_COUNT], (double)(ends_len < offsets_len ? ends_len : offsets_len)) ||
      !is_uint(st[ST_MAX], 4294967295.0) || !is_uint(st[ST_TIME], 4294967295.0) || !is_uint(st[ST_TIME_NS], 4294967295.0) ||
      !is_uint(st[ST_FILE_OFFSET], 9007199254740991.0) || key_len > 1024 || extra_len > 0x7fffffff) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "frameLines: state out of range");
    return NULL;
  }
  size_t pos = (size_t)st[ST_POS], end = (size_t)st[ST_END], o = (size_t)st[ST_OUT_POS], n = (size_t)st[ST_COUNT];
  const size_t max = (size_t)st[ST_MAX];
  const double file_offset = st[ST_FILE_OFFSET];
  // A state array without the mode fields (as before CRI mode) frames plain lines.
  const int cri = st_len >= ST_FIELDS && st[ST_MODE] == 1;
  const size_t extra_split = cri && is_uint(st[ST_EXTRA_SPLIT], (double)extra_len) ? (size_t)st[ST_EXTRA_SPLIT] : extra_len;
  uint32_t time = (uint32_t)st[ST_TIME], time_ns = (uint32_t)st[ST_TIME_NS];
  const size_t slots = ends_len < offsets_len ? ends_len : offsets_len;
  size_t time_len = varint_len(time);
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
    const uint8_t *line = src + pos, *x = extra;
    size_t x_len = extra_len;
    if (cri) {
      size_t log_at;
      int stream;
      if (!parse_cri(src + pos, len, &log_at, &time, &time_ns, &stream)) {
        stop = STOP_NOT_PLAIN;
        break;
      }
      time_len = varint_len(time);
      line += log_at;
      len -= log_at;
      x = stream == 0 ? extra : extra + extra_split;
      x_len = stream == 0 ? extra_split : extra_len - extra_split;
    }
    size_t content = key_len + 1 + varint_len((uint32_t)len) + len;
    size_t log = 1 + time_len + 1 + varint_len((uint32_t)content) + content + x_len + 5;
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
    memcpy(p, line, len);
    p += len;
    memcpy(p, x, x_len);
    p += x_len;
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
