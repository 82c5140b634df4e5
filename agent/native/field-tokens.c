// The `__bi_<field>__` token lists of a run of encoded Logs in one call (FORMAT.md "Searchable fields"): the seal
// worker's tokens, computed here with Node's own OpenSSL SHA-256.
//
// token(field, value) = lowercase hex of the first 16 bytes of HMAC-SHA256(indexKey, field || 0x00 || value). The
// inner and outer SHA-256 states of the HMAC are computed once per index key (and the inner one once more per field,
// with `field || 0x00` absorbed), so a token costs the value's blocks and one outer block, no allocation. Tokens of
// values seen before on this thread come from a cache: fields such as a user or a level repeat a few values across
// thousands of logs. The cache is bounded (entries and value bytes) and emptied when a call starts above the bounds.
//
// Without LOGSEAL_OPENSSL, or when Node's binary does not export the SHA-256 functions, fieldTokensInit returns null
// and JavaScript computes the tokens with node:crypto (agent/seal/token-cache.ts).
#include "contents.h"
#include "napi-args.h"
#include <stdlib.h>
#include <string.h>

#ifdef LOGSEAL_OPENSSL
// SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP, whose per-message context copies and
// dispatch cost more than the two blocks a short token needs; Node 20's OpenSSL 3.0 still exports them.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

// Resolved from the node binary at load time; weak, so that a Node without them loads the addon and uses node:crypto.
#pragma weak SHA256_Init
#pragma weak SHA256_Update
#pragma weak SHA256_Final

static bool sha256_linked(void) { return SHA256_Init && SHA256_Update && SHA256_Final; }

/* Bounds of the cache of one index: entries, and bytes of the values they keep. */
#define CACHE_ENTRIES 65536u
#define CACHE_BYTES (4u << 20)
#define TOKEN_HEX 32

typedef struct {
  uint64_t hash;
  uint32_t field, value_off, value_len;
  /* The last call that listed this value: a value counts once per shipped Log. */
  uint32_t mark;
  char token[TOKEN_HEX];
} entry;

typedef struct {
  SHA256_CTX outer;  /* after the block key ^ opad */
  SHA256_CTX *inner; /* per field: after key ^ ipad, the field's name and 0x00 */
  uint8_t *names;
  uint32_t *name_ends, fields;
  entry *entries;
  uint32_t count, entries_cap;
  uint64_t *slots; /* 0 = empty, else (1 + index in entries) | upper 32 bits of its hash << 32 */
  uint32_t slots_cap;
  uint8_t *arena; /* the cached values' bytes */
  size_t arena_used, arena_cap;
  uint32_t *order; /* per call: the entries listed, in first-seen order */
  size_t order_cap;
  uint32_t mark;
} token_index;

static const napi_type_tag TOKEN_INDEX_TAG = {0x6c6f677365616c31ull, 0x6669656c64746f6bull};

/* memset that the compiler cannot drop: the HMAC states are as secret as the key. */
static void cleanse(void *p, size_t n) {
  memset(p, 0, n);
  __asm__ __volatile__("" : : "r"(p) : "memory");
}

// Only the key's HMAC states are cleansed: the tokens are shipped anyway, and the cached values are log contents,
// which the batch buffers hold in the clear as well.
static void index_free(token_index *ix) {
  if (!ix) return;
  if (ix->inner) cleanse(ix->inner, ix->fields * sizeof *ix->inner);
  cleanse(&ix->outer, sizeof ix->outer);
  free(ix->inner);
  free(ix->names);
  free(ix->name_ends);
  free(ix->entries);
  free(ix->slots);
  free(ix->arena);
  free(ix->order);
  free(ix);
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  index_free(data);
}

static inline uint64_t load64(const uint8_t *p) {
  uint64_t w;
  memcpy(&w, p, 8);
  return w;
}

static inline uint32_t load32(const uint8_t *p) {
  uint32_t w;
  memcpy(&w, p, 4);
  return w;
}

/* The bytes of v (n of them) packed into at most 64 bits, from fixed-size loads that may overlap (the length is
 * hashed beside them): variable-length copies stall the loads that follow them. For n <= 8 the packing is exact. */
static inline uint64_t tail64(const uint8_t *v, size_t n) {
  if (n >= 8) return load64(v + n - 8);
  if (n >= 4) return (uint64_t)load32(v) << 32 | load32(v + n - 4);
  if (n > 0) return (uint64_t)v[0] << 16 | (uint64_t)v[n >> 1] << 8 | v[n - 1];
  return 0;
}

/* A 64-bit hash of (field, value), eight bytes at a time: a table key, not a MAC. */
static inline uint64_t hash_value(uint32_t field, const uint8_t *v, size_t n) {
  const uint64_t k = 0x9e3779b97f4a7c15ull;
  uint64_t h = ((uint64_t)field << 32 | n) * k;
  size_t i = 0;
  for (; i + 8 < n; i += 8) {
    h = (h ^ load64(v + i)) * k;
    h ^= h >> 29;
  }
  h = (h ^ tail64(v + i, n - i)) * k;
  h ^= h >> 33; // murmur3's finaliser: every bit of the input reaches the low bits the table is indexed by
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  return h ^ (h >> 33);
}

/* memcmp(a, b, n) == 0 for the short values fields mostly hold, without a call. */
static inline bool same_bytes(const uint8_t *a, const uint8_t *b, size_t n) {
  if (n <= 8) return tail64(a, n) == tail64(b, n);
  size_t i = 0;
  for (; i + 8 < n; i += 8)
    if (load64(a + i) != load64(b + i)) return false;
  return load64(a + n - 8) == load64(b + n - 8);
}

static bool hmac_init(token_index *ix, const uint8_t *key, size_t key_len) {
  uint8_t block[64] = {0}, pad[64];
  SHA256_CTX base;
  if (key_len > 64) {
    if (!SHA256_Init(&base) || !SHA256_Update(&base, key, key_len) || !SHA256_Final(block, &base)) return false;
  } else {
    memcpy(block, key, key_len);
  }
  bool ok = true;
  for (int i = 0; i < 64; i++) pad[i] = block[i] ^ 0x5c;
  ok = ok && SHA256_Init(&ix->outer) && SHA256_Update(&ix->outer, pad, 64);
  for (int i = 0; i < 64; i++) pad[i] = block[i] ^ 0x36;
  ok = ok && SHA256_Init(&base) && SHA256_Update(&base, pad, 64);
  static const uint8_t zero = 0;
  for (uint32_t f = 0, from = 0; ok && f < ix->fields; from = ix->name_ends[f], f++) {
    ix->inner[f] = base;
    ok = SHA256_Update(&ix->inner[f], ix->names + from, ix->name_ends[f] - from) && SHA256_Update(&ix->inner[f], &zero, 1);
  }
  cleanse(block, sizeof block);
  cleanse(pad, sizeof pad);
  cleanse(&base, sizeof base);
  return ok;
}

static void hmac_token(const token_index *ix, uint32_t field, const uint8_t *value, size_t n, char *hex) {
  static const char digits[] = "0123456789abcdef";
  uint8_t d[SHA256_DIGEST_LENGTH];
  SHA256_CTX c = ix->inner[field];
  SHA256_Update(&c, value, n);
  SHA256_Final(d, &c);
  c = ix->outer;
  SHA256_Update(&c, d, sizeof d);
  SHA256_Final(d, &c);
  for (int i = 0; i < 16; i++) {
    hex[2 * i] = digits[d[i] >> 4];
    hex[2 * i + 1] = digits[d[i] & 15];
  }
  cleanse(&c, sizeof c);
}

static void cache_clear(token_index *ix) {
  ix->count = 0;
  ix->arena_used = 0;
  memset(ix->slots, 0, ix->slots_cap * sizeof *ix->slots);
}

static inline uint64_t slot_of(uint32_t e, uint64_t hash) { return (uint64_t)(e + 1) | (hash >> 32 << 32); }

/* Twice the slots, every entry placed again; false when out of memory. */
static bool grow_slots(token_index *ix) {
  uint32_t cap = ix->slots_cap * 2;
  uint64_t *slots = calloc(cap, sizeof *slots);
  if (!slots) return false;
  for (uint32_t e = 0; e < ix->count; e++) {
    size_t i = ix->entries[e].hash & (cap - 1);
    while (slots[i] != 0) i = (i + 1) & (cap - 1);
    slots[i] = slot_of(e, ix->entries[e].hash);
  }
  free(ix->slots);
  ix->slots = slots;
  ix->slots_cap = cap;
  return true;
}

/* The entry of (field, value), computed and cached if new; -1 when out of memory. */
static inline int64_t lookup(token_index *ix, uint32_t field, const uint8_t *value, uint32_t n) {
  uint64_t h = hash_value(field, value, n);
  size_t mask = ix->slots_cap - 1, i = h & mask;
  for (uint64_t slot; (slot = ix->slots[i]) != 0; i = (i + 1) & mask) {
    if ((slot ^ h) >> 32 != 0) continue;
    uint32_t e = (uint32_t)slot - 1;
    const entry *x = &ix->entries[e];
    if (x->hash == h && x->field == field && x->value_len == n && same_bytes(ix->arena + x->value_off, value, n)) return e;
  }
  if (ix->count == ix->entries_cap) {
    uint32_t cap = ix->entries_cap * 2;
    entry *entries = realloc(ix->entries, cap * sizeof *entries);
    if (!entries) return -1;
    ix->entries = entries;
    ix->entries_cap = cap;
  }
  if (ix->arena_used + n > ix->arena_cap) {
    size_t cap = ix->arena_cap * 2;
    while (cap < ix->arena_used + n) cap *= 2;
    uint8_t *arena = realloc(ix->arena, cap);
    if (!arena) return -1;
    ix->arena = arena;
    ix->arena_cap = cap;
  }
  uint32_t e = ix->count++;
  entry *x = &ix->entries[e];
  x->hash = h;
  x->field = field;
  x->value_off = (uint32_t)ix->arena_used;
  x->value_len = n;
  x->mark = 0;
  memcpy(ix->arena + ix->arena_used, value, n);
  ix->arena_used += n;
  hmac_token(ix, field, value, n, x->token);
  ix->slots[i] = slot_of(e, h);
  if ((size_t)ix->count * 2 > ix->slots_cap && !grow_slots(ix)) return -1;
  return e;
}

/* Sets ix to index `fields` under `key`, with its cache emptied (its memory kept); false when out of memory. */
static bool index_key(token_index *ix, const uint8_t *key, size_t key_len, const uint8_t *names, size_t names_len, const uint32_t *name_ends, size_t fields) {
  if (ix->inner) cleanse(ix->inner, ix->fields * sizeof *ix->inner);
  free(ix->inner);
  free(ix->names);
  free(ix->name_ends);
  ix->fields = (uint32_t)fields;
  ix->inner = calloc(fields ? fields : 1, sizeof *ix->inner);
  ix->names = malloc(names_len ? names_len : 1);
  ix->name_ends = malloc((fields ? fields : 1) * sizeof *ix->name_ends);
  if (!ix->inner || !ix->names || !ix->name_ends) return false;
  memcpy(ix->names, names, names_len);
  memcpy(ix->name_ends, name_ends, fields * sizeof *name_ends);
  cache_clear(ix);
  return hmac_init(ix, key, key_len);
}

static token_index *index_new(void) {
  token_index *ix = calloc(1, sizeof *ix);
  if (!ix) return NULL;
  ix->entries_cap = 1024;
  ix->entries = malloc(ix->entries_cap * sizeof *ix->entries);
  ix->slots_cap = 2048;
  ix->slots = calloc(ix->slots_cap, sizeof *ix->slots);
  ix->arena_cap = 1 << 16;
  ix->arena = malloc(ix->arena_cap);
  ix->order_cap = 1024;
  ix->order = malloc(ix->order_cap * sizeof *ix->order);
  if (!ix->entries || !ix->slots || !ix->arena || !ix->order) {
    index_free(ix);
    return NULL;
  }
  return ix;
}

/* The state `v` holds if fieldTokensInit made it, else NULL after throwing a TypeError. */
static token_index *index_of(napi_env env, const char *what, napi_value v) {
  bool ours = false;
  token_index *ix = NULL;
  napi_valuetype type;
  if (napi_typeof(env, v, &type) != napi_ok || type != napi_external || napi_check_object_type_tag(env, v, &TOKEN_INDEX_TAG, &ours) != napi_ok ||
      !ours || napi_get_value_external(env, v, (void **)&ix) != napi_ok) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s: index must come from fieldTokensInit", what);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
    return NULL;
  }
  return ix;
}

/* Appends to ix->order the entries of the fields' values in the Contents of the Log fields (0x0a len { 0x08 Time,
 * 0x12 Content..., 0x25 Time_ns }) at [q, end), each once per call (mark); false when out of memory. Kept apart from
 * the argument handling so that the walk has the registers. */
static bool list_tokens(token_index *ix, const uint8_t *q, const uint8_t *end, uint32_t mark, size_t *listed) {
  const uint8_t *names = ix->names;
  const uint32_t *name_ends = ix->name_ends, fields = ix->fields;
  size_t n = *listed;
  while (q < end) {
    uint32_t log_len;
    if (*q++ != 0x0a || !read_varint(&q, end, &log_len) || log_len > (size_t)(end - q)) break;
    const uint8_t *p = q, *log_end = q + log_len;
    q = log_end;
    if (p < log_end && *p == 0x08) { // Time: a varint, skipped
      for (p++; p < log_end && (*p & 0x80); p++) {
      }
      p++;
    }
    while (p < log_end && *p == 0x12) {
      const uint8_t *key, *value;
      uint32_t key_len, value_len;
      if (!next_content(&p, log_end, &key, &key_len, &value, &value_len)) break;
      for (uint32_t f = 0, from = 0; f < fields; from = name_ends[f], f++) {
        if (name_ends[f] - from != key_len || (key_len > 0 && (key[0] != names[from] || memcmp(names + from, key, key_len) != 0))) continue;
        int64_t e = lookup(ix, f, value, value_len);
        if (e < 0) return false;
        if (ix->entries[e].mark == mark) continue;
        ix->entries[e].mark = mark;
        if (n == ix->order_cap) {
          uint32_t *order = realloc(ix->order, 2 * ix->order_cap * sizeof *order);
          if (!order) return false;
          ix->order = order;
          ix->order_cap *= 2;
        }
        ix->order[n++] = (uint32_t)e;
        *listed = n;
      }
    }
  }
  return true;
}
#endif

/* fieldTokensInit(key: Uint8Array, names: Uint8Array, nameEnds: Uint32Array, reuse?): the index state for
 * fieldTokens, or null when this build cannot compute tokens (no OpenSSL SHA-256 reachable). With `reuse` (a state
 * it returned before), that state is set to the new key and fields, its cache emptied, and returned: its memory is
 * kept rather than allocated (and its pages cleared by the kernel) again. */
napi_value field_tokens_init(napi_env env, napi_callback_info info) {
  napi_value argv[4], result;
  size_t argc = 4;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 3) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "fieldTokensInit: too few arguments");
    return NULL;
  }
  uint8_t *key, *names;
  uint32_t *name_ends;
  size_t key_len, names_len, fields;
  if (!get_bytes(env, "fieldTokensInit", argv[0], "key", &key, &key_len) || !get_bytes(env, "fieldTokensInit", argv[1], "names", &names, &names_len) ||
      !get_u32(env, "fieldTokensInit", argv[2], "nameEnds", &name_ends, &fields))
    return NULL;
  for (size_t f = 0; f < fields; f++) {
    if (name_ends[f] > names_len || (f > 0 && name_ends[f] < name_ends[f - 1])) {
      napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "fieldTokensInit: nameEnds out of order or past names");
      return NULL;
    }
  }
#ifdef LOGSEAL_OPENSSL
  if (sha256_linked()) {
    napi_valuetype reuse = napi_undefined;
    if (argc > 3 && napi_typeof(env, argv[3], &reuse) != napi_ok) return NULL;
    token_index *ix;
    if (reuse != napi_undefined && reuse != napi_null) {
      if (!(ix = index_of(env, "fieldTokensInit", argv[3]))) return NULL;
      result = argv[3];
    } else {
      if (!(ix = index_new())) {
        napi_throw_error(env, NULL, "fieldTokensInit: out of memory");
        return NULL;
      }
      if (napi_create_external(env, ix, finalize, NULL, &result) != napi_ok) {
        index_free(ix);
        napi_throw_error(env, NULL, "fieldTokensInit: napi_create_external");
        return NULL;
      }
      CHECK("fieldTokensInit", napi_type_tag_object(env, result, &TOKEN_INDEX_TAG));
    }
    if (!index_key(ix, key, key_len, names, names_len, name_ends, fields)) {
      ix->fields = 0; // a state without fields lists nothing rather than tokens of a half-set key
      napi_throw_error(env, NULL, "fieldTokensInit: out of memory");
      return NULL;
    }
    return result;
  }
#endif
  CHECK("fieldTokensInit", napi_get_null(env, &result));
  return result;
}

/* fieldTokens(index, bytes, start, end, out: Uint8Array, lens: Uint32Array): for the Log fields (whole ones, as
 * encodeLogGroup writes them) at bytes[start, end), each field's distinct tokens in first-seen order joined by single
 * spaces, the fields one after the other at the start of `out`, lens[f] = the bytes of field f's list (0 when the
 * field does not occur). Returns the bytes written, or minus the bytes needed when `out` is too small (nothing
 * written then; the call may be repeated). */
napi_value field_tokens(napi_env env, napi_callback_info info) {
  napi_value argv[6], result;
  if (!get_args(env, "fieldTokens", info, 6, argv)) return NULL;
#ifdef LOGSEAL_OPENSSL
  token_index *ix = index_of(env, "fieldTokens", argv[0]);
  if (!ix) return NULL;
  uint8_t *bytes, *out;
  uint32_t *lens, start, end;
  size_t len, out_len, lens_len;
  if (!get_bytes(env, "fieldTokens", argv[1], "bytes", &bytes, &len) || !get_bytes(env, "fieldTokens", argv[4], "out", &out, &out_len) ||
      !get_u32(env, "fieldTokens", argv[5], "lens", &lens, &lens_len))
    return NULL;
  if (napi_get_value_uint32(env, argv[2], &start) != napi_ok || napi_get_value_uint32(env, argv[3], &end) != napi_ok || start > end || end > len) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "fieldTokens: start and end must be offsets in bytes, start <= end");
    return NULL;
  }
  if (lens_len < ix->fields) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "fieldTokens: lens must hold one length per field");
    return NULL;
  }
  if (ix->count > CACHE_ENTRIES || ix->arena_used > CACHE_BYTES) cache_clear(ix);
  uint32_t mark = ++ix->mark;
  if (mark == 0) { // wrapped: no entry may look listed in this call
    for (uint32_t e = 0; e < ix->count; e++) ix->entries[e].mark = 0;
    mark = ix->mark = 1;
  }
  size_t listed = 0;
  bool ok = list_tokens(ix, bytes + start, bytes + end, mark, &listed);
  if (!ok) {
    cache_clear(ix);
    napi_throw_error(env, NULL, "fieldTokens: out of memory");
    return NULL;
  }
  size_t need = 0;
  for (uint32_t f = 0; f < ix->fields; f++) lens[f] = 0;
  for (size_t i = 0; i < listed; i++) lens[ix->entries[ix->order[i]].field] += TOKEN_HEX + 1;
  for (uint32_t f = 0; f < ix->fields; f++) {
    if (lens[f] > 0) lens[f] -= 1; // no space after the last token
    need += lens[f];
  }
  if (need > out_len) {
    CHECK("fieldTokens", napi_create_int64(env, -(int64_t)need, &result));
    return result;
  }
  size_t pos = 0;
  for (uint32_t f = 0; f < ix->fields; f++) {
    size_t start = pos;
    for (size_t i = 0; i < listed; i++) {
      const entry *e = &ix->entries[ix->order[i]];
      if (e->field != f) continue;
      if (pos > start) out[pos++] = ' ';
      memcpy(out + pos, e->token, TOKEN_HEX);
      pos += TOKEN_HEX;
    }
  }
  CHECK("fieldTokens", napi_create_int64(env, (int64_t)pos, &result));
  return result;
#else
  napi_throw_error(env, NULL, "fieldTokens: this build has no OpenSSL (fieldTokensInit returned null)");
  return NULL;
#endif
}
