// Reading shipped and plaintext LogGroups (protobuf) the way agent/decrypt/render-bytes.ts reads them, for the page
// opener (open-group.c): byte ranges, no copies, and false for anything it does not read the same way. In line: these
// run once per field of every log.
#ifndef LOGSEAL_PB_READ_H
#define LOGSEAL_PB_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define MAX_PAIRS 64
#define PB_AHEAD 4096

/* A Content's or LogTag's Key [ks, ke) and Value [vs, ve). */
typedef struct {
  uint32_t ks, ke, vs, ve;
} span;

typedef struct {
  span pairs[MAX_PAIRS];
  uint32_t count;
  bool has_time, has_time_ns;
  uint32_t time, time_ns;
} log_fields;

typedef struct {
  const uint8_t *p;
  size_t logs_start, end; /* the group's fields, from its first byte */
  /* Just past the last Log when every field before it is a Log (as writers lay a group out), else logs_start. */
  size_t logs_end;
  bool has_logs, has_topic, has_source;
  span topic, source; /* the text in vs, ve */
  span tags[MAX_PAIRS];
  uint32_t tag_count;
} group_fields;

/* A varint of at most five bytes, kept to its low 32 bits; false when longer or cut off. */
static inline bool pb_varint(const uint8_t *p, size_t *at, size_t end, uint32_t *v) {
  uint64_t x = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    if (*at >= end) return false;
    uint8_t b = p[(*at)++];
    x |= (uint64_t)(b & 0x7f) << shift;
    if (b < 0x80) {
      *v = (uint32_t)x;
      return true;
    }
  }
  return false;
}

/* A length-delimited field's bytes [*s, *e); *at moves past them. */
static inline bool pb_bytes(const uint8_t *p, size_t *at, size_t end, uint32_t *s, uint32_t *e) {
  uint32_t n;
  if (!pb_varint(p, at, end, &n) || n > end - *at) return false;
  *s = (uint32_t)*at;
  *at += n;
  *e = (uint32_t)*at;
  return true;
}

static inline bool pb_skip(const uint8_t *p, size_t *at, size_t end, uint32_t key) {
  uint32_t s, e;
  switch (key & 7) {
    case 0:
      return pb_varint(p, at, end, &s);
    case 1:
      if (end - *at < 8) return false;
      *at += 8;
      return true;
    case 2:
      return pb_bytes(p, at, end, &s, &e);
    case 5:
      if (end - *at < 4) return false;
      *at += 4;
      return true;
    default:
      return false;
  }
}

/* A Content or LogTag: its Key (1) and Value (2), both required. */
static inline bool pb_pair(const uint8_t *p, size_t at, size_t end, span *o) {
  bool has_key = false, has_value = false;
  while (at < end) {
    uint32_t key;
    if (!pb_varint(p, &at, end, &key)) return false;
    if (key == 0x0a) {
      if (!pb_bytes(p, &at, end, &o->ks, &o->ke)) return false;
      has_key = true;
    } else if (key == 0x12) {
      if (!pb_bytes(p, &at, end, &o->vs, &o->ve)) return false;
      has_value = true;
    } else if (key >> 3 <= 2 || !pb_skip(p, &at, end, key)) {
      return false;
    }
  }
  return has_key && has_value;
}

/* A Log's fields in [at, end): Time (1), Contents (2), Time_ns (4). */
static inline bool pb_scan_log(const uint8_t *p, size_t at, size_t end, log_fields *log) {
  log->count = 0;
  log->has_time = log->has_time_ns = false;
  while (at < end) {
    uint32_t key, s, e;
    if (!pb_varint(p, &at, end, &key)) return false;
    if (key == 0x08) {
      if (!pb_varint(p, &at, end, &log->time)) return false;
      log->has_time = true;
    } else if (key == 0x12) {
      if (log->count == MAX_PAIRS || !pb_bytes(p, &at, end, &s, &e) || !pb_pair(p, s, e, &log->pairs[log->count])) return false;
      log->count++;
    } else if (key == 0x25) {
      if (end - at < 4) return false;
      log->time_ns = (uint32_t)p[at] | (uint32_t)p[at + 1] << 8 | (uint32_t)p[at + 2] << 16 | (uint32_t)p[at + 3] << 24;
      log->has_time_ns = true;
      at += 4;
    } else if (key >> 3 == 0 || key >> 3 == 1 || key >> 3 == 2 || key >> 3 == 4 || !pb_skip(p, &at, end, key)) {
      return false;
    }
  }
  return true;
}

/* A LogGroup's Topic (3), Source (4) and LogTags (6); Logs (1) are walked again by the caller. */
static inline bool pb_scan_group(const uint8_t *p, size_t start, size_t end, group_fields *g) {
  size_t at = start;
  g->p = p;
  g->logs_start = g->logs_end = start;
  g->end = end;
  g->has_logs = g->has_topic = g->has_source = false;
  g->topic = g->source = (span){0, 0, 0, 0};
  g->tag_count = 0;
  bool only_logs = true;
  while (at < end) {
    uint32_t key, s, e;
    if (!pb_varint(p, &at, end, &key)) return false;
    if (key == 0x0a) {
      if (!pb_bytes(p, &at, end, &s, &e)) return false;
      g->has_logs = true;
      if (only_logs) g->logs_end = at;
      // Only each Log's first bytes are read, a few cache lines apart: too sparse for the CPU to fetch ahead, so each
      // read would wait for memory. The lines a Log's length further on, PB_AHEAD ahead, are asked for now.
      for (uint32_t k = 0; k < e - s && at + PB_AHEAD + k < end; k += 64) __builtin_prefetch(p + at + PB_AHEAD + k);
      continue;
    }
    only_logs = false;
    if (key == 0x1a || key == 0x22) {
      if (!pb_bytes(p, &at, end, &s, &e)) return false;
      span *t = key == 0x1a ? &g->topic : &g->source;
      t->vs = s;
      t->ve = e;
      if (key == 0x1a) g->has_topic = true;
      else g->has_source = true;
    } else if (key == 0x32) {
      if (g->tag_count == MAX_PAIRS || !pb_bytes(p, &at, end, &s, &e) || !pb_pair(p, s, e, &g->tags[g->tag_count])) return false;
      g->tag_count++;
    } else if (key >> 3 == 0 || (key >> 3 <= 6 && (key & 7) != 2) || !pb_skip(p, &at, end, key)) {
      return false;
    }
  }
  return true;
}

/*
 * Walks the Logs of a group once: either the whole group, which pb_scan_group has accepted (non-Log fields are
 * skipped), or only its first fields up to logs_end, which must all be Logs.
 */
typedef struct {
  size_t at, end;
  bool only_logs;
} log_walk;

/* 1 with the next Log in [*s, *e), 0 after the last, -1 when a walk of only_logs meets anything else. */
static inline int pb_walk_log(const uint8_t *p, log_walk *w, uint32_t *s, uint32_t *e) {
  if (w->at >= w->end) return 0;
  if (!w->only_logs) {
    while (w->at < w->end) {
      uint32_t key;
      if (!pb_varint(p, &w->at, w->end, &key)) return -1;
      if (key == 0x0a) return pb_bytes(p, &w->at, w->end, s, e) ? 1 : -1;
      if (!pb_skip(p, &w->at, w->end, key)) return -1;
    }
    return 0;
  }
  uint32_t key;
  return pb_varint(p, &w->at, w->end, &key) && key == 0x0a && pb_bytes(p, &w->at, w->end, s, e) ? 1 : -1;
}

/* The next Log of a group after *at, or false at the end. Assumes scan_group accepted the group. */
static inline bool pb_next_log(const uint8_t *p, size_t *at, size_t end, uint32_t *s, uint32_t *e) {
  while (*at < end) {
    uint32_t key;
    if (!pb_varint(p, at, end, &key)) return false;
    if (key == 0x0a) return pb_bytes(p, at, end, s, e);
    if (!pb_skip(p, at, end, key)) return false;
  }
  return false;
}

static inline bool pb_key_is(const uint8_t *p, span r, const char *s) {
  size_t n = strlen(s);
  return r.ke - r.ks == n && memcmp(p + r.ks, s, n) == 0;
}

static inline bool pb_value_is(const uint8_t *p, span r, const char *s) {
  size_t n = strlen(s);
  return r.ve - r.vs == n && memcmp(p + r.vs, s, n) == 0;
}

#endif
