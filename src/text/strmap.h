/*
 * strmap.h - a small open-addressing hash map from byte strings to int32 values, used by the
 * tokenizers (token text -> id, merge "a b" -> rank). The map does not own its keys: they
 * must outlive it (the tokenizer keeps them in its string pool).
 */
#ifndef EW_STRMAP_H
#define EW_STRMAP_H

#include "core/core.h"

typedef struct ew_strmap_slot {
    const char *key;   /* NULL = empty slot */
    uint32_t len;
    uint32_t hash;
    int32_t val;
} ew_strmap_slot;

typedef struct ew_strmap {
    ew_strmap_slot *slot;
    uint32_t mask;     /* capacity - 1 (capacity a power of two) */
    uint32_t n;
} ew_strmap;

/* Size the map for up to n_max keys (load factor <= 1/2). Returns EW_ERR_NOMEM on OOM. */
ew_status ew_strmap_init(ew_strmap *m, uint32_t n_max);
void ew_strmap_free(ew_strmap *m);

/* Insert key -> val unless the key is present. Returns -1 if inserted, else the value
 * already stored (which is kept, like std::unordered_map::emplace). The map never grows
 * past the n_max given to ew_strmap_init: inserting more returns -2. */
int32_t ew_strmap_put(ew_strmap *m, const char *key, uint32_t len, int32_t val);

/* Value of key, or -1 if absent. */
int32_t ew_strmap_get(const ew_strmap *m, const char *key, size_t len);

/* Value of the key a + sep + b (without building it), or -1 if absent. */
int32_t ew_strmap_get2(const ew_strmap *m, const char *a, size_t alen, char sep, const char *b,
                       size_t blen);

#endif
