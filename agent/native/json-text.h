// JSON text written byte for byte as JSON.stringify writes it, for the page opener (open-group.c): strings from UTF-8
// bytes (none when they are not valid UTF-8, which JavaScript would decode with replacement characters) and objects of
// key/value ranges in the order an object assigned them keeps.
#ifndef LOGSEAL_JSON_TEXT_H
#define LOGSEAL_JSON_TEXT_H

#include "pb-read.h"

/* The length of the valid UTF-8 sequence (2 to 4 bytes) at s, or 0. */
size_t utf8_sequence(const uint8_t *s, size_t rem);
bool valid_utf8(const uint8_t *s, size_t n);
/* Most room a JSON string of n bytes takes. */
size_t json_bound(size_t n);
/* s[0, n) as a JSON string at o; NULL when it is not valid UTF-8. */
uint8_t *json_string(uint8_t *o, const uint8_t *s, size_t n);
/* Whether assigning these keys in order to an object keeps them in that order, each once. */
bool keys_in_order(const uint8_t *p, const span *kv, uint32_t n);
/* `{"k":"v",…}` of the pairs at o (room: object_bound); NULL when a key or value is not valid UTF-8. */
uint8_t *json_object(uint8_t *o, const uint8_t *p, const span *kv, uint32_t n);
size_t object_bound(const span *kv, uint32_t n);

#endif
