// Walking the Contents of an encoded Log (0x12 len { 0x0a keyLen key 0x12 valueLen value }) without reading past it:
// shared by the scans for searchable fields (field-values.c, field-tokens.c).
#ifndef LOGSEAL_CONTENTS_H
#define LOGSEAL_CONTENTS_H

#include <stdint.h>
#include <stddef.h>

/* A varint of at most 5 bytes at *p (< end) into *v; 0 when it runs past end or is too long. */
static int read_varint_long(const uint8_t **p, const uint8_t *end, uint32_t *v) {
  uint64_t x = 0;
  for (int shift = 0; shift < 35 && *p < end; shift += 7) {
    uint8_t b = *(*p)++;
    x |= (uint64_t)(b & 0x7f) << shift;
    if (b < 0x80) {
      if (x > 0xffffffffu) return 0;
      *v = (uint32_t)x;
      return 1;
    }
  }
  return 0;
}

/* read_varint_long with the one-byte case (keys, and values under 128 bytes) in line. */
static inline int read_varint(const uint8_t **p, const uint8_t *end, uint32_t *v) {
  if (*p < end && **p < 0x80) {
    *v = *(*p)++;
    return 1;
  }
  return read_varint_long(p, end, v);
}

/* The Content at *p (< end): its key and value, *p moved past it. 0 on malformed bytes (the encoder wrote them, so
 * this does not happen; the walk of that Log just ends). */
static inline int next_content(const uint8_t **p, const uint8_t *end, const uint8_t **key, uint32_t *key_len, const uint8_t **value,
                               uint32_t *value_len) {
  uint32_t n;
  const uint8_t *q = *p;
  if (*q++ != 0x12 || !read_varint(&q, end, &n) || n > (size_t)(end - q)) return 0;
  const uint8_t *content_end = q + n;
  if (q >= content_end || *q++ != 0x0a || !read_varint(&q, content_end, key_len) || *key_len > (size_t)(content_end - q)) return 0;
  *key = q;
  q += *key_len;
  if (q >= content_end || *q++ != 0x12 || !read_varint(&q, content_end, value_len) || *value_len > (size_t)(content_end - q)) return 0;
  *value = q;
  *p = content_end;
  return 1;
}

#endif
