/*
 * strmap.c - open-addressing (linear probing) string -> int32 map. FNV-1a hashing, which
 * can be computed over several segments (ew_strmap_get2 looks up "a b" without a copy).
 */
#include "text/strmap.h"

#include <string.h>

#define FNV_INIT 2166136261u
#define FNV_PRIME 16777619u

static inline uint32_t fnv_feed(uint32_t h, const char *p, size_t n) {
    const unsigned char *s = (const unsigned char *)p;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * FNV_PRIME;
    return h;
}

/* Final mix so that linear probing over the low bits sees well-spread values. */
static inline uint32_t fnv_final(uint32_t h) {
    h ^= h >> 16;
    h *= 0x7feb352du;
    h ^= h >> 15;
    return h;
}

/* Sizes the table to at least twice n_max slots; all slots empty. */
ew_status ew_strmap_init(ew_strmap *m, uint32_t n_max) {
    uint64_t cap = 16;
    while (cap < (uint64_t)n_max * 2) cap <<= 1;
    if (cap > (1ull << 31)) return ew_error(EW_ERR_RANGE, "string map: %u keys is too many", n_max);
    m->slot = ew_calloc((size_t)cap, sizeof *m->slot);
    if (!m->slot) return ew_error(EW_ERR_NOMEM, "string map: out of memory for %u keys", n_max);
    m->mask = (uint32_t)(cap - 1);
    m->n = 0;
    return EW_OK;
}

/* Releases the table (keys are not owned); the map may be re-initialised afterwards. */
void ew_strmap_free(ew_strmap *m) {
    ew_free(m->slot);
    m->slot = NULL;
    m->mask = 0;
    m->n = 0;
}

/* Inserts unless present; -1 when inserted, the old value when present, -2 when full. */
int32_t ew_strmap_put(ew_strmap *m, const char *key, uint32_t len, int32_t val) {
    if (!m->slot) return -2;
    uint32_t h = fnv_final(fnv_feed(FNV_INIT, key, len));
    for (uint32_t i = h & m->mask;; i = (i + 1) & m->mask) {
        ew_strmap_slot *s = &m->slot[i];
        if (!s->key) {
            if ((uint64_t)(m->n + 1) * 2 > (uint64_t)m->mask + 1) return -2;
            s->key = key;
            s->len = len;
            s->hash = h;
            s->val = val;
            m->n++;
            return -1;
        }
        if (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0) return s->val;
    }
}

/* Looks a key up; -1 when absent. */
int32_t ew_strmap_get(const ew_strmap *m, const char *key, size_t len) {
    if (!m->slot || len > UINT32_MAX) return -1;
    uint32_t h = fnv_final(fnv_feed(FNV_INIT, key, len));
    for (uint32_t i = h & m->mask;; i = (i + 1) & m->mask) {
        const ew_strmap_slot *s = &m->slot[i];
        if (!s->key) return -1;
        if (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0) return s->val;
    }
}

/* Looks up the concatenation a + sep + b; -1 when absent. */
int32_t ew_strmap_get2(const ew_strmap *m, const char *a, size_t alen, char sep, const char *b,
                       size_t blen) {
    size_t len = alen + 1 + blen;
    if (!m->slot || len > UINT32_MAX) return -1;
    uint32_t h = fnv_feed(FNV_INIT, a, alen);
    h = fnv_feed(h, &sep, 1);
    h = fnv_final(fnv_feed(h, b, blen));
    for (uint32_t i = h & m->mask;; i = (i + 1) & m->mask) {
        const ew_strmap_slot *s = &m->slot[i];
        if (!s->key) return -1;
        if (s->hash == h && s->len == len && memcmp(s->key, a, alen) == 0 && s->key[alen] == sep &&
            memcmp(s->key + alen + 1, b, blen) == 0)
            return s->val;
    }
}
