// Shipped (sealed) LogGroups opened and printed in one call per group: the decrypt worker's fast path. For each record
// of a FORMAT.md v1 group it decodes the base64, authenticates and decrypts (AES-256-GCM through Node's OpenSSL,
// SM4-GCM through sm4.c), decompresses the LZ4 block of mode `group` (the lz4 library's own decoder), and writes the
// logs as `logseal decrypt` prints them: NDJSON, raw `content`, or only counted.
//
// The bytes are exactly those of the JavaScript path (agent/decrypt/render-bytes.ts and render.ts: JSON.stringify of
// each log's object). Whatever this file does not handle the same way for certain, it leaves to JavaScript, whole
// group at a time, without having written anything that counts (OPEN_NOT_FAST): a record that does not authenticate
// or decode, a header it does not know, text that is not valid UTF-8, keys that a JavaScript object would reorder
// (integer-like, `__proto__`, repeated), more than 64 contents or tags. JavaScript then reports errors in its words.
#include "napi-args.h"
#include "evp.h"
#include "ghash.h"
#include "json-text.h"
#include "lz4.h"
#include "pb-read.h"
#include "sealed.h"
#include "sm4.h"
#include <stdlib.h>
#include <string.h>

// FORMAT_OPENED: no lines, the records' plaintext for JavaScript to filter (--where needs each log's fields), laid out
// as openedRecords in agent/decrypt/open-page.ts reads it.
enum { FORMAT_NDJSON = 0, FORMAT_RAW = 1, FORMAT_COUNT = 2, FORMAT_OPENED = 3 };
enum { OPEN_DONE = 0, OPEN_NO_ROOM = 1, OPEN_NOT_FAST = 2 };
enum { ST_POS, ST_LINES, ST_LOGS, ST_FIELDS };
// pageGroups: six numbers a group (start, end, blob start, blob end, flags, logs end).
enum { PG_START, PG_END, PG_BLOB_START, PG_BLOB_END, PG_FLAGS, PG_LOGS_END, PG_FIELDS };
#define FLAG_SM4 1u
#define FLAG_LOG 2u
#define FLAG_LZ4 4u
#define FLAG_UNKNOWN 0xffffffffu
#define MAX_RAW (256u << 20) /* larger `__raw__` counts go to JavaScript, which reports them */

/* ---- output ---- */

typedef struct {
  int format;
  double from, to; /* logs with from <= Time < to are written */
  /* Conditions on the group's Topic, Source and tags (--topic, --source, --tag), all of which must hold. */
  const uint8_t *conditions;
  size_t conditions_len;
  bool group_kept; /* whether the group being written meets them */
  uint8_t *out;
  size_t pos, cap;
  double lines, logs;
  /* `,"topic":…,"source":…,"tags":{…},"contents":` of the group being written */
  uint8_t *group_json;
  size_t group_len, group_cap;
} writer;


static uint32_t read_le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/*
 * Whether the group meets every condition: entries of a kind byte ('t' Topic, 's' Source, 'g' tag), then the tag key
 * and the value each as a little-endian 32-bit length and the bytes. A tag's value is that of the last tag with the
 * key, as in the object JavaScript builds; `__proto__` is no tag there. False in *ok for text JavaScript would decode
 * with replacement characters.
 */
static bool group_meets(const writer *w, const uint8_t *p, const group_fields *g, const span *tags, uint32_t n, bool *ok) {
  *ok = true;
  bool meets = true;
  for (size_t at = 0; at + 9 <= w->conditions_len;) {
    uint8_t kind = w->conditions[at];
    uint32_t key_len = read_le32(w->conditions + at + 1);
    const uint8_t *key = w->conditions + at + 5;
    uint32_t value_len = read_le32(key + key_len);
    const uint8_t *value = key + key_len + 4;
    at += 9 + (size_t)key_len + value_len;
    const uint8_t *text = NULL;
    size_t text_len = 0;
    bool present = true;
    if (kind == 't' || kind == 's') {
      const span *f = kind == 't' ? &g->topic : &g->source;
      text = p + f->vs;
      text_len = f->ve - f->vs; // an absent Topic or Source reads as ""
    } else {
      present = false;
      if (!(key_len == 9 && memcmp(key, "__proto__", 9) == 0)) {
        for (uint32_t j = n; j-- > 0;) {
          if (tags[j].ke - tags[j].ks == key_len && memcmp(p + tags[j].ks, key, key_len) == 0) {
            text = p + tags[j].vs;
            text_len = tags[j].ve - tags[j].vs;
            present = true;
            break;
          }
        }
      }
    }
    if (present && !valid_utf8(text, text_len)) *ok = false;
    if (!present || text_len != value_len || memcmp(text, value, value_len) != 0) meets = false;
  }
  return meets;
}

/* The group's part of every line, from its Topic, Source and the tags [0, n), and whether it meets the conditions. */
static bool set_group_json(writer *w, const uint8_t *p, const group_fields *g, const span *tags, uint32_t n) {
  bool ok;
  w->group_kept = group_meets(w, p, g, tags, n, &ok);
  if (!ok) return false;
  if (w->format != FORMAT_NDJSON) return true;
  if (!keys_in_order(p, tags, n)) return false;
  size_t topic_len = g->has_topic ? g->topic.ve - g->topic.vs : 0, source_len = g->has_source ? g->source.ve - g->source.vs : 0;
  size_t need = 64 + json_bound(topic_len) + json_bound(source_len) + object_bound(tags, n);
  if (need > w->group_cap) {
    uint8_t *b = realloc(w->group_json, need);
    if (!b) return false;
    w->group_json = b;
    w->group_cap = need;
  }
  uint8_t *o = w->group_json;
  memcpy(o, ",\"topic\":", 9);
  o = json_string(o + 9, p + g->topic.vs, topic_len);
  if (!o) return false;
  memcpy(o, ",\"source\":", 10);
  o = json_string(o + 10, p + g->source.vs, source_len);
  if (!o) return false;
  memcpy(o, ",\"tags\":", 8);
  o = json_object(o + 8, p, tags, n);
  if (!o) return false;
  memcpy(o, ",\"contents\":", 12);
  w->group_len = (size_t)(o + 12 - w->group_json);
  return true;
}

/* One log as the format prints it; OPEN_NO_ROOM when `out` is full. */
static int emit(writer *w, const uint8_t *p, const log_fields *log, uint32_t time, bool has_time_ns, uint32_t time_ns) {
  w->logs++;
  if (!w->group_kept || !((double)time >= w->from && (double)time < w->to)) return OPEN_DONE;
  if (w->format == FORMAT_COUNT) {
    w->lines++;
    return OPEN_DONE;
  }
  if (w->format == FORMAT_RAW) {
    for (uint32_t j = log->count; j-- > 0;) {
      if (!pb_key_is(p, log->pairs[j], "content")) continue;
      size_t n = log->pairs[j].ve - log->pairs[j].vs;
      if (n + 1 > w->cap - w->pos) return OPEN_NO_ROOM;
      memcpy(w->out + w->pos, p + log->pairs[j].vs, n);
      w->pos += n;
      w->out[w->pos++] = '\n';
      w->lines++;
      break;
    }
    return OPEN_DONE;
  }
  if (!keys_in_order(p, log->pairs, log->count)) return OPEN_NOT_FAST;
  if (48 + w->group_len + object_bound(log->pairs, log->count) > w->cap - w->pos) return OPEN_NO_ROOM;
  uint8_t *o = w->out + w->pos;
  memcpy(o, "{\"time\":", 8);
  o = write_decimal(o + 8, time);
  if (has_time_ns) {
    memcpy(o, ",\"time_ns\":", 11);
    o = write_decimal(o + 11, time_ns);
  }
  memcpy(o, w->group_json, w->group_len);
  o = json_object(o + w->group_len, p, log->pairs, log->count);
  if (!o) return OPEN_NOT_FAST;
  *o++ = '}';
  *o++ = '\n';
  w->pos = (size_t)(o - w->out);
  w->lines++;
  return OPEN_DONE;
}

/* n bytes at the output position; false when out has no room. */
static bool put(writer *w, const void *b, size_t n) {
  if (n > w->cap - w->pos) return false;
  memcpy(w->out + w->pos, b, n);
  w->pos += n;
  return true;
}

static bool put_u32(writer *w, uint32_t v) {
  uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  return put(w, b, 4);
}

/* FORMAT_OPENED, mode `log`: the group's Topic, Source and tags, each text as a length and its bytes. */
static bool put_group_fields(writer *w, const uint8_t *p, const group_fields *g, const span *tags, uint32_t n) {
  bool ok = put_u32(w, g->has_topic) && put_u32(w, g->topic.ve - g->topic.vs) && put(w, p + g->topic.vs, g->topic.ve - g->topic.vs) &&
            put_u32(w, g->has_source) && put_u32(w, g->source.ve - g->source.vs) && put(w, p + g->source.vs, g->source.ve - g->source.vs) &&
            put_u32(w, n);
  for (uint32_t j = 0; ok && j < n; j++) {
    ok = put_u32(w, tags[j].ke - tags[j].ks) && put(w, p + tags[j].ks, tags[j].ke - tags[j].ks) && put_u32(w, tags[j].ve - tags[j].vs) &&
         put(w, p + tags[j].vs, tags[j].ve - tags[j].vs);
  }
  return ok;
}

/* The logs of a plaintext LogGroup (mode `group`); its logs' smallest Time must be the record's Time. */
static int write_plain_group(writer *w, const uint8_t *p, size_t n, uint32_t record_time, log_fields *log) {
  group_fields g;
  if (!pb_scan_group(p, 0, n, &g) || !set_group_json(w, p, &g, g.tags, g.tag_count)) return OPEN_NOT_FAST;
  size_t at = 0;
  uint32_t s, e, min_time = 0;
  bool any = false;
  while (pb_next_log(p, &at, n, &s, &e)) {
    if (!pb_scan_log(p, s, e, log) || !log->has_time) return OPEN_NOT_FAST;
    if (!any || log->time < min_time) min_time = log->time;
    any = true;
    int r = emit(w, p, log, log->time, log->has_time_ns, log->time_ns);
    if (r != OPEN_DONE) return r;
  }
  return any && min_time != record_time ? OPEN_NOT_FAST : OPEN_DONE;
}

/* ---- records ---- */

typedef struct {
  int suite;
  sm4_gcm_key *sm4;
#ifdef LOGSEAL_OPENSSL
  EVP_CIPHER_CTX *aes;
  EVP_CIPHER_CTX *aes_ecb; /* the same key in ECB, for the counter blocks of a whole mode `log` group */
#endif
  const uint8_t *key;
} opener;

/* Authenticates nonce || ciphertext || tag (len bytes) and writes the plaintext (len - 28 bytes) to out. */
static bool open_record(opener *k, const uint8_t *sealed, size_t len, const uint8_t *aad, size_t aad_len, uint8_t *out) {
  if (len < NONCE + TAG) return false;
  size_t n = len - NONCE - TAG;
  if (k->suite == SUITE_SM4_128_GCM) return sm4_gcm_open(k->sm4, sealed, sealed + NONCE, n, aad, aad_len, out);
#ifdef LOGSEAL_OPENSSL
  int got = 0, fin = 0;
  uint8_t tag[TAG];
  memcpy(tag, sealed + NONCE + n, TAG);
  return n <= 0x7fffffff && aad_len <= 0x7fffffff && EVP_DecryptInit_ex(k->aes, NULL, NULL, NULL, sealed) == 1 &&
         EVP_DecryptUpdate(k->aes, NULL, &got, aad, (int)aad_len) == 1 && EVP_DecryptUpdate(k->aes, out, &got, sealed + NONCE, (int)n) == 1 &&
         EVP_CIPHER_CTX_ctrl(k->aes, EVP_CTRL_GCM_SET_TAG, TAG, tag) == 1 && EVP_DecryptFinal_ex(k->aes, out + got, &fin) == 1 &&
         (size_t)(got + fin) == n;
#else
  (void)aad;
  (void)aad_len;
  (void)out;
  return false;
#endif
}

/* Per-thread buffers that grow to the largest record seen (a decrypt worker opens one group after another). */
typedef struct {
  uint8_t *data;
  size_t cap;
} scratch;
static _Thread_local scratch sealed_buf, plain_buf, text_buf, counter_buf, stream_buf, record_buf;

static uint8_t *room(scratch *b, size_t n) {
  if (n <= b->cap) return b->data;
  uint8_t *d = realloc(b->data, n);
  if (!d) return NULL;
  b->data = d;
  b->cap = n;
  return d;
}

/* A header tag: key i of the shipped group's tags. */
static bool tag_is(const uint8_t *p, const group_fields *g, uint32_t i, const char *key) { return i < g->tag_count && pb_key_is(p, g->tags[i], key); }

typedef struct {
  uint32_t flags, tag_count;
  span blob;
} header;

/* The FORMAT.md v1 header of a shipped group; false for anything else. */
static bool read_header(const uint8_t *p, const group_fields *g, header *h) {
  if (!tag_is(p, g, 0, "__seal_v__") || !pb_value_is(p, g->tags[0], "1") || !tag_is(p, g, 1, "__seal_alg__") ||
      !tag_is(p, g, 2, "__seal_mode__") || !tag_is(p, g, 3, "__seal_cmk__") || !tag_is(p, g, 4, "__seal_dk__"))
    return false;
  h->flags = 0;
  if (pb_value_is(p, g->tags[1], "SM4_128_GCM")) h->flags |= FLAG_SM4;
  else if (!pb_value_is(p, g->tags[1], "AES_256_GCM")) return false;
  h->tag_count = 5;
  if (pb_value_is(p, g->tags[2], "log")) {
    h->flags |= FLAG_LOG;
  } else {
    if (!pb_value_is(p, g->tags[2], "group") || !tag_is(p, g, 5, "__seal_zip__")) return false;
    if (pb_value_is(p, g->tags[5], "lz4")) h->flags |= FLAG_LZ4;
    else if (!pb_value_is(p, g->tags[5], "none")) return false;
    h->tag_count = 6;
  }
  if (tag_is(p, g, h->tag_count, "__seal_bi__")) h->tag_count++;
  h->blob = g->tags[4];
  return true;
}

/* A token content `__bi_<field>__` with a plain ASCII field name (anything else is left to JavaScript's check). */
static bool token_key(const uint8_t *p, span r) {
  uint32_t n = r.ke - r.ks;
  if (n < 8 || memcmp(p + r.ks, "__bi_", 5) != 0 || memcmp(p + r.ke - 2, "__", 2) != 0) return false;
  for (uint32_t i = r.ks + 5; i < r.ke - 2; i++) {
    if (p[i] < 0x20 || p[i] > 0x7e) return false;
  }
  return true;
}

/* `__raw__`: 0 or a decimal without leading zeros of at most 16 digits. */
static bool raw_count(const uint8_t *p, span r, uint64_t *n) {
  uint32_t len = r.ve - r.vs;
  if (len == 0 || len > 16 || (len > 1 && p[r.vs] == '0')) return false;
  uint64_t v = 0;
  for (uint32_t i = r.vs; i < r.ve; i++) {
    if (p[i] < '0' || p[i] > '9') return false;
    v = v * 10 + (uint64_t)(p[i] - '0');
  }
  *n = v;
  return true;
}

/*
 * A shipped Log as FORMAT.md has it: a Time, `__sealed__` (then `__raw__`, a byte count, in mode `group`), then only
 * `__bi_<field>__` tokens; its fields in *shipped and the count in *raw (mode `group`). False for anything else.
 */
static bool shipped_log(const uint8_t *p, uint32_t s, uint32_t e, bool log_mode, log_fields *shipped, uint64_t *raw) {
  if (!pb_scan_log(p, s, e, shipped) || !shipped->has_time) return false;
  uint32_t fixed = log_mode ? 1 : 2;
  if (shipped->count < fixed || !pb_key_is(p, shipped->pairs[0], "__sealed__") || (!log_mode && !pb_key_is(p, shipped->pairs[1], "__raw__"))) return false;
  for (uint32_t j = fixed; j < shipped->count; j++) {
    if (!token_key(p, shipped->pairs[j])) return false;
  }
  *raw = 0;
  return log_mode || (raw_count(p, shipped->pairs[1], raw) && *raw <= MAX_RAW);
}

/* A mode `log` record's plaintext (the Log's Contents), printed, or kept for JavaScript (FORMAT_OPENED). */
static int write_log_record(writer *w, const uint8_t *body, size_t n, uint32_t time, bool has_time_ns, uint32_t time_ns, log_fields *plain) {
  if (w->format == FORMAT_OPENED) {
    w->logs++;
    return put_u32(w, time) && put_u32(w, has_time_ns) && put_u32(w, time_ns) && put_u32(w, (uint32_t)n) && put(w, body, n) ? OPEN_DONE : OPEN_NO_ROOM;
  }
  // A Time in the plaintext is not the shipped one: left to JavaScript.
  if (!pb_scan_log(body, 0, n, plain) || plain->has_time || plain->has_time_ns) return OPEN_NOT_FAST;
  return emit(w, body, plain, time, has_time_ns, time_ns);
}

/* ECB over whole blocks (out may not equal in): the counter blocks of a mode `log` group, in either suite. */
static bool encrypt_blocks(opener *k, const uint8_t *in, uint8_t *out, size_t blocks) {
  if (k->suite == SUITE_SM4_128_GCM) {
    sm4_ecb_blocks(k->sm4, in, out, blocks);
    return true;
  }
#ifdef LOGSEAL_OPENSSL
  int len = 0;
  return blocks * 16 <= 0x7fffffff && EVP_EncryptUpdate(k->aes_ecb, out, &len, in, (int)(blocks * 16)) == 1 && (size_t)len == blocks * 16;
#else
  return false;
#endif
}

/* A mode `log` record of a group being opened in one pass: its Log's times and where its bytes lie in the scratch. */
typedef struct {
  uint32_t time, time_ns;
  bool has_time_ns;
  size_t sealed_at, sealed_len, block;
} log_record;

/*
 * Mode `log`: the records of the shipped group opened together. One record per log line would cost an OpenSSL
 * re-initialisation each with AES (IV, E(J0), tag), and with SM4 runs of sixteen blocks mostly not needed (a short
 * record's 1 + n/16, a longer one's E(J0) apart); instead every record's counter blocks (J0, then its key stream's)
 * are encrypted in one ECB pass with the zero block for H in front, and each record's tag is checked with the addon's
 * GHASH before its plaintext is written. The same GCM (SP 800-38D), computed in other steps.
 */
static int open_log_records(writer *w, opener *k, const uint8_t *p, log_walk logs, uint8_t *aad, size_t aad_fixed) {
  size_t count = 0, sealed_total = 0, blocks = 1;
  uint8_t *counters = room(&counter_buf, 16);
  if (!counters) return OPEN_NOT_FAST;
  memset(counters, 0, 16);
  log_fields shipped, plain;
  uint32_t s, e;
  int walked;
  while ((walked = pb_walk_log(p, &logs, &s, &e)) > 0) {
    uint64_t raw;
    if (!shipped_log(p, s, e, true, &shipped, &raw)) return OPEN_NOT_FAST;
    span rec = shipped.pairs[0];
    size_t text_len = rec.ve - rec.vs, sealed_len;
    uint8_t *all = room(&sealed_buf, sealed_total + base64_read_room(text_len));
    if (!all || !base64_read(p + rec.vs, text_len, all + sealed_total, &sealed_len) || sealed_len < NONCE + TAG) return OPEN_NOT_FAST;
    size_t n = sealed_len - NONCE - TAG, record_blocks = 1 + (n + 15) / 16;
    log_record *records = (log_record *)room(&record_buf, (count + 1) * sizeof(log_record));
    counters = room(&counter_buf, (blocks + record_blocks) * 16);
    if (!records || !counters) return OPEN_NOT_FAST;
    records[count] = (log_record){.time = shipped.time, .time_ns = shipped.time_ns, .has_time_ns = shipped.has_time_ns, .sealed_at = sealed_total,
                                  .sealed_len = sealed_len, .block = blocks};
    const uint8_t *nonce = all + sealed_total;
    for (size_t b = 0; b < record_blocks; b++) {
      uint8_t *c = counters + 16 * (blocks + b);
      uint32_t counter = 1 + (uint32_t)b; // J0 = nonce || 1, the key stream from nonce || 2 (inc32)
      memcpy(c, nonce, NONCE);
      c[12] = (uint8_t)(counter >> 24), c[13] = (uint8_t)(counter >> 16), c[14] = (uint8_t)(counter >> 8), c[15] = (uint8_t)counter;
    }
    count++;
    sealed_total += sealed_len;
    blocks += record_blocks;
  }
  if (walked < 0) return OPEN_NOT_FAST;
  uint8_t *stream = room(&stream_buf, blocks * 16);
  if (!stream || !encrypt_blocks(k, counters, stream, blocks)) return OPEN_NOT_FAST;
  ghash_state gs;
  ghash_key(&gs, stream, k->suite == SUITE_SM4_128_GCM && k->sm4->kind == SM4_KIND_PORTABLE);
  memset(stream, 0, 16); // H
  const log_record *records = (const log_record *)record_buf.data;
  int result = OPEN_DONE;
  for (size_t r = 0; r < count && result == OPEN_DONE; r++) {
    const log_record *rec = &records[r];
    const uint8_t *sealed = sealed_buf.data + rec->sealed_at, *ct = sealed + NONCE;
    size_t n = rec->sealed_len - NONCE - TAG;
    uint8_t tag[16], diff = 0;
    ghash_compute(&gs, aad, record_aad(aad, aad_fixed, rec->time, rec->has_time_ns ? rec->time_ns : 0), ct, n, tag);
    const uint8_t *ekj0 = stream + 16 * rec->block;
    for (int i = 0; i < 16; i++) diff |= (uint8_t)(tag[i] ^ ekj0[i] ^ ct[n + i]);
    uint8_t *body = room(&plain_buf, n + 1);
    if (diff != 0 || !body) {
      result = OPEN_NOT_FAST; // JavaScript opens the group again and reports the record
      break;
    }
    xor_bytes(body, ct, ekj0 + 16, n);
    result = write_log_record(w, body, n, rec->time, rec->has_time_ns, rec->time_ns, &plain);
  }
  memset(&gs, 0, sizeof gs);
  return result;
}

/*
 * Every record of the shipped group [start, end) of p, written by w. When logs_end is where pageGroups found the
 * group's Logs to end (start if it did not), only the fields after it are scanned for the header, and the Logs before
 * it walked once, as they are opened; they must then all be Logs, and none may follow.
 */
static int open_group(writer *w, opener *k, const uint8_t *p, size_t start, size_t end, size_t logs_end, const uint8_t *target, size_t target_len) {
  group_fields g;
  header h;
  bool split = logs_end > start && logs_end <= end;
  log_walk logs = {.at = start, .end = split ? logs_end : end, .only_logs = split};
  if (!pb_scan_group(p, split ? logs_end : start, end, &g) || (split && g.has_logs) || !read_header(p, &g, &h)) return OPEN_NOT_FAST;
  if ((int)(h.flags & FLAG_SM4 ? SUITE_SM4_128_GCM : SUITE_AES_256_GCM) != k->suite) return OPEN_NOT_FAST;
  bool log_mode = h.flags & FLAG_LOG;
  // Mode `log` keeps Topic, Source and the tags after the header in the clear: every line shares them.
  if (log_mode && !set_group_json(w, p, &g, g.tags + h.tag_count, g.tag_count - h.tag_count)) return OPEN_NOT_FAST;
  if (log_mode && w->format == FORMAT_OPENED && !put_group_fields(w, p, &g, g.tags + h.tag_count, g.tag_count - h.tag_count)) return OPEN_NO_ROOM;

  uint8_t aad[600];
  int prefix = snprintf((char *)aad, sizeof aad, "logseal/1|%s|%s|", log_mode ? "log" : "group", k->suite == SUITE_SM4_128_GCM ? "SM4_128_GCM" : "AES_256_GCM");
  if (prefix < 0 || (size_t)prefix + target_len + 48 > sizeof aad) return OPEN_NOT_FAST;
  memcpy(aad + prefix, target, target_len);
  size_t aad_fixed = (size_t)prefix + target_len;
  if (log_mode) {
#ifdef LOGSEAL_OPENSSL
    if (k->suite == SUITE_AES_256_GCM && !k->aes_ecb &&
        (!(k->aes_ecb = EVP_CIPHER_CTX_new()) || EVP_EncryptInit_ex(k->aes_ecb, EVP_aes_256_ecb(), NULL, k->key, NULL) != 1 ||
         EVP_CIPHER_CTX_set_padding(k->aes_ecb, 0) != 1))
      return OPEN_NOT_FAST;
#endif
    return open_log_records(w, k, p, logs, aad, aad_fixed);
  }

  log_fields shipped, plain;
  uint32_t s, e;
  int walked;
  while ((walked = pb_walk_log(p, &logs, &s, &e)) > 0) {
    uint64_t raw;
    if (!shipped_log(p, s, e, false, &shipped, &raw)) return OPEN_NOT_FAST;

    span rec = shipped.pairs[0];
    size_t text_len = rec.ve - rec.vs, sealed_len;
    uint8_t *sealed = room(&sealed_buf, base64_read_room(text_len));
    if (!sealed || !base64_read(p + rec.vs, text_len, sealed, &sealed_len) || sealed_len < NONCE + TAG) return OPEN_NOT_FAST;
    size_t aad_len = record_aad(aad, aad_fixed, shipped.time, raw);
    size_t body_len = sealed_len - NONCE - TAG;
    uint8_t *body = room(&plain_buf, body_len + 1);
    if (!body || !open_record(k, sealed, sealed_len, aad, aad_len, body)) return OPEN_NOT_FAST;

    const uint8_t *text = body;
    if (h.flags & FLAG_LZ4) {
      if (raw > 0) {
        uint8_t *t = room(&text_buf, (size_t)raw);
        if (!t || body_len > 0x7fffffff || LZ4_decompress_safe((const char *)body, (char *)t, (int)body_len, (int)raw) != (int)raw) return OPEN_NOT_FAST;
        text = t;
      }
    } else if (body_len != raw) {
      return OPEN_NOT_FAST;
    }
    int r = w->format == FORMAT_OPENED ? (put_u32(w, shipped.time) && put_u32(w, (uint32_t)raw) && put(w, text, (size_t)raw) ? OPEN_DONE : OPEN_NO_ROOM)
                                       : write_plain_group(w, text, (size_t)raw, shipped.time, &plain);
    if (r != OPEN_DONE) return r;
  }
  return walked < 0 ? OPEN_NOT_FAST : OPEN_DONE;
}

/*
 * openSealedGroup(suite, key, list, start, end, logsEnd, target, format, from, to, conditions, out, st): number
 * Opens the shipped LogGroup at list[start, end) under `key` (suite 0 = AES_256_GCM, 1 = SM4_128_GCM; `logsEnd` =
 * where pageGroups found its Logs to end, or `start` to have the whole group scanned again; `target` =
 * "<project>|<logstore>|") and writes its logs with from <= Time < to whose group meets `conditions` (see
 * group_meets) in `format` (0 NDJSON, 1 raw, 2 count; 3 the opened records instead, see FORMAT_OPENED) at out[st[0]],
 * adding to st[1] (lines written) and st[2] (logs read). Returns OPEN_DONE (st updated), OPEN_NO_ROOM (out too small: nothing
 * counts, st untouched) or OPEN_NOT_FAST (the group is JavaScript's to open: nothing counts, st untouched).
 */
napi_value open_sealed_group(napi_env env, napi_callback_info info) {
  static const char *what = "openSealedGroup";
  napi_value argv[13];
  if (!get_args(env, what, info, 13, argv)) return NULL;
  uint32_t suite, start, end, logs_end, format;
  if (napi_get_value_uint32(env, argv[0], &suite) != napi_ok || suite > SUITE_SM4_128_GCM ||
      napi_get_value_uint32(env, argv[3], &start) != napi_ok || napi_get_value_uint32(env, argv[4], &end) != napi_ok ||
      napi_get_value_uint32(env, argv[5], &logs_end) != napi_ok || napi_get_value_uint32(env, argv[7], &format) != napi_ok ||
      format > FORMAT_OPENED) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "openSealedGroup: suite, start, end, logsEnd and format must be small whole numbers");
    return NULL;
  }
  double from, to;
  if (napi_get_value_double(env, argv[8], &from) != napi_ok || napi_get_value_double(env, argv[9], &to) != napi_ok || from != from || to != to) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "openSealedGroup: from and to must be numbers (or infinities)");
    return NULL;
  }
  uint8_t *key, *list, *target, *conditions, *out;
  size_t key_len, list_len, target_len, conditions_len, out_len;
  double *st;
  if (!get_bytes(env, what, argv[1], "key", &key, &key_len) || !get_bytes(env, what, argv[2], "list", &list, &list_len) ||
      !get_bytes(env, what, argv[6], "target", &target, &target_len) ||
      !get_bytes(env, what, argv[10], "conditions", &conditions, &conditions_len) || !get_bytes(env, what, argv[11], "out", &out, &out_len) ||
      !get_numbers(env, what, argv[12], "st", napi_float64_array, ST_FIELDS, (void **)&st, NULL))
    return NULL;
  for (size_t at = 0; at < conditions_len;) {
    uint32_t key_n = at + 9 <= conditions_len ? read_le32(conditions + at + 1) : 0, value_n = 0;
    bool whole = at + 9 <= conditions_len && (conditions[at] == 't' || conditions[at] == 's' || conditions[at] == 'g') &&
                 key_n <= conditions_len - at - 9 && (value_n = read_le32(conditions + at + 5 + key_n)) <= conditions_len - at - 9 - key_n;
    if (!whole) {
      napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "openSealedGroup: conditions must be whole entries (kind, key, value)");
      return NULL;
    }
    at += 9 + (size_t)key_n + value_n;
  }
  if (key_len != (suite == SUITE_AES_256_GCM ? 32u : 16u) || start > end || end > list_len || !(st[ST_POS] >= 0 && st[ST_POS] <= (double)out_len)) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "openSealedGroup: key length, group range or output position out of range");
    return NULL;
  }
  writer w = {.format = (int)format, .from = from, .to = to, .conditions = conditions, .conditions_len = conditions_len, .group_kept = true, .out = out, .pos = (size_t)st[ST_POS], .cap = out_len};
  opener k = {.suite = (int)suite, .key = key};
  int result = OPEN_NOT_FAST;
  if (suite == SUITE_SM4_128_GCM) {
    k.sm4 = malloc(sizeof *k.sm4);
    if (k.sm4 && sm4_gcm_key_init(k.sm4, key, 0)) result = OPEN_DONE;
  } else {
#ifdef LOGSEAL_OPENSSL
    if (openssl_linked() && (k.aes = EVP_CIPHER_CTX_new()) && EVP_DecryptInit_ex(k.aes, EVP_aes_256_gcm(), NULL, key, NULL) == 1 &&
        EVP_CIPHER_CTX_ctrl(k.aes, EVP_CTRL_GCM_SET_IVLEN, NONCE, NULL) == 1)
      result = OPEN_DONE;
#endif
  }
  if (result == OPEN_DONE) result = open_group(&w, &k, list, start, end, logs_end, target, target_len);
#ifdef LOGSEAL_OPENSSL
  if (k.aes) EVP_CIPHER_CTX_free(k.aes); // cleanses the key schedule
  if (k.aes_ecb) EVP_CIPHER_CTX_free(k.aes_ecb);
#endif
  if (k.sm4) {
    memset(k.sm4, 0, sizeof *k.sm4);
    free(k.sm4);
  }
  free(w.group_json);
  // A rare huge record should not stay with the thread.
  scratch *buffers[] = {&sealed_buf, &plain_buf, &text_buf, &counter_buf, &stream_buf, &record_buf};
  for (size_t i = 0; i < sizeof buffers / sizeof buffers[0]; i++) {
    if (buffers[i]->cap > (16u << 20)) {
      free(buffers[i]->data);
      *buffers[i] = (scratch){NULL, 0};
    }
  }
  if (result == OPEN_DONE) {
    st[ST_POS] = (double)w.pos;
    st[ST_LINES] += w.lines;
    st[ST_LOGS] += w.logs;
  }
  napi_value r;
  CHECK("openSealedGroup", napi_create_uint32(env, (uint32_t)result, &r));
  return r;
}

/*
 * pageGroups(list, out: Uint32Array): number
 * The LogGroups of a LogGroupList, six numbers each in `out`: start, end, where the `__seal_dk__` blob lies (start,
 * end), flags (1 SM4, 2 mode `log`, 4 LZ4; 0xffffffff for a group whose header this file does not read, whose
 * blob is then 0, 0), and where its Logs end when only Logs come before (else its start; for openSealedGroup, which
 * then need not walk the Logs to find the header again). Returns the number of groups; -1 when `out` has no room for them all, -2 when the list itself
 * is not one this file reads (JavaScript's decoder then reads the page).
 */
napi_value page_groups(napi_env env, napi_callback_info info) {
  static const char *what = "pageGroups";
  napi_value argv[2];
  if (!get_args(env, what, info, 2, argv)) return NULL;
  uint8_t *list;
  size_t list_len, out_len;
  uint32_t *out;
  if (!get_bytes(env, what, argv[0], "list", &list, &list_len) ||
      !get_numbers(env, what, argv[1], "out", napi_uint32_array, ANY_LENGTH, (void **)&out, &out_len))
    return NULL;
  int64_t count = 0;
  size_t at = 0;
  group_fields *g = malloc(sizeof *g);
  if (!g || list_len > 0xffffffffu) count = -2;
  while (count >= 0 && at < list_len) {
    uint32_t key, s, e;
    if (!pb_varint(list, &at, list_len, &key)) {
      count = -2;
    } else if (key != 0x0a) {
      if (key >> 3 == 0 || key >> 3 == 1 || !pb_skip(list, &at, list_len, key)) count = -2;
    } else if (!pb_bytes(list, &at, list_len, &s, &e)) {
      count = -2;
    } else if ((size_t)(count + 1) * PG_FIELDS > out_len) {
      count = -1;
    } else {
      uint32_t *o = out + count * PG_FIELDS;
      header h;
      o[PG_START] = s;
      o[PG_END] = e;
      if (pb_scan_group(list, s, e, g) && read_header(list, g, &h)) {
        o[PG_BLOB_START] = h.blob.vs;
        o[PG_BLOB_END] = h.blob.ve;
        o[PG_FLAGS] = h.flags;
        o[PG_LOGS_END] = (uint32_t)g->logs_end;
      } else {
        o[PG_BLOB_START] = o[PG_BLOB_END] = 0;
        o[PG_FLAGS] = FLAG_UNKNOWN;
        o[PG_LOGS_END] = s;
      }
      count++;
    }
  }
  free(g);
  napi_value r;
  CHECK("pageGroups", napi_create_int64(env, count, &r));
  return r;
}
