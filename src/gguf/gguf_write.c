/*
 * gguf_write.c - GGUF v3 writer, byte-compatible with what llama.cpp and gguf-py write:
 * header, key/values in insertion order, tensor infos, padding to the alignment, then each
 * tensor's data padded to the alignment.
 *
 * Values are serialised when they are set (so the writer owns everything but tensor data,
 * which is referenced or produced by a fill callback at write time). gguf_writer_write
 * streams to a temporary file beside the target and renames it into place, so a failed
 * write leaves no partial file.
 */
#include "gguf/gguf.h"
#include "quant/quant.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "gguf_write.c assumes a little-endian host"
#endif

#define GGML_MAX_NAME 64 /* llama.cpp rejects tensor names of this length or longer */

typedef struct wkv {
    char *key;
    gguf_type type;
    uint64_t u;         /* the value, for UINT32 (general.alignment) */
    uint8_t *val;       /* encoded value (without the type) */
    size_t val_len;
} wkv;

typedef struct wtensor {
    char *name;
    uint32_t type, n_dims;
    int64_t ne[GGUF_MAX_DIMS];
    uint64_t nbytes, offset;
    const void *data;
    gguf_fill_fn fill;
    void *user;
} wtensor;

struct gguf_writer {
    wkv *kv;
    size_t n_kv, cap_kv;
    wtensor *t;
    size_t n_t, cap_t;
};

/* ---- a growable byte buffer ----------------------------------------------------------- */

typedef struct bbuf { uint8_t *p; size_t len, cap; bool oom; } bbuf;

/* Append n bytes (src NULL = zeros); sets b->oom on failure and ignores later appends. */
static void bb_put(bbuf *b, const void *src, size_t n) {
    if (b->oom || n == 0) return;
    if (b->cap - b->len < n) {
        size_t need, cap = b->cap ? b->cap : 256;
        if (!ew_add_size(b->len, n, &need)) { b->oom = true; return; }
        while (cap < need) {
            if (cap > SIZE_MAX / 2) { cap = need; break; }
            cap *= 2;
        }
        uint8_t *np = ew_realloc(b->p, cap);
        if (!np) { b->oom = true; return; }
        b->p = np;
        b->cap = cap;
    }
    if (src) memcpy(b->p + b->len, src, n);
    else memset(b->p + b->len, 0, n);
    b->len += n;
}

static void bb_u32(bbuf *b, uint32_t v) { bb_put(b, &v, 4); }
static void bb_u64(bbuf *b, uint64_t v) { bb_put(b, &v, 8); }
static void bb_str(bbuf *b, const char *s, uint64_t n) {
    bb_u64(b, n);
    if (n > SIZE_MAX) b->oom = true;
    else bb_put(b, s, (size_t)n);
}

/* ---- values --------------------------------------------------------------------------- */

static uint64_t scalar_size(gguf_type t) {
    static const uint8_t sz[GGUF_TYPE_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    return (unsigned)t < GGUF_TYPE_COUNT ? sz[t] : 0;
}

static ew_status enc_array(bbuf *b, const char *key, const gguf_value *v, unsigned depth);

/* Encode a scalar value v of scalar type into b. */
static void enc_scalar(bbuf *b, const gguf_value *v) {
    uint8_t u8; int8_t i8; uint16_t u16; int16_t i16; uint32_t u32; int32_t i32; float f32;
    switch (v->type) {
    case GGUF_TYPE_UINT8: u8 = (uint8_t)v->v.u; bb_put(b, &u8, 1); break;
    case GGUF_TYPE_INT8: i8 = (int8_t)v->v.i; bb_put(b, &i8, 1); break;
    case GGUF_TYPE_UINT16: u16 = (uint16_t)v->v.u; bb_put(b, &u16, 2); break;
    case GGUF_TYPE_INT16: i16 = (int16_t)v->v.i; bb_put(b, &i16, 2); break;
    case GGUF_TYPE_UINT32: u32 = (uint32_t)v->v.u; bb_put(b, &u32, 4); break;
    case GGUF_TYPE_INT32: i32 = (int32_t)v->v.i; bb_put(b, &i32, 4); break;
    case GGUF_TYPE_FLOAT32:
        f32 = v->v.f > FLT_MAX ? INFINITY : v->v.f < -FLT_MAX ? -INFINITY : (float)v->v.f;
        bb_put(b, &f32, 4);
        break;
    case GGUF_TYPE_BOOL: u8 = v->v.b ? 1 : 0; bb_put(b, &u8, 1); break;
    case GGUF_TYPE_UINT64: bb_put(b, &v->v.u, 8); break;
    case GGUF_TYPE_INT64: bb_put(b, &v->v.i, 8); break;
    case GGUF_TYPE_FLOAT64: bb_put(b, &v->v.f, 8); break;
    default: break;
    }
}

/* True if the scalar in v fits its type (v.u for unsigned, v.i for signed types). */
static bool scalar_fits(const gguf_value *v) {
    switch (v->type) {
    case GGUF_TYPE_UINT8: return v->v.u <= UINT8_MAX;
    case GGUF_TYPE_UINT16: return v->v.u <= UINT16_MAX;
    case GGUF_TYPE_UINT32: return v->v.u <= UINT32_MAX;
    case GGUF_TYPE_INT8: return v->v.i >= INT8_MIN && v->v.i <= INT8_MAX;
    case GGUF_TYPE_INT16: return v->v.i >= INT16_MIN && v->v.i <= INT16_MAX;
    case GGUF_TYPE_INT32: return v->v.i >= INT32_MIN && v->v.i <= INT32_MAX;
    default: return true;
    }
}

/* Encode value v (without its type tag) into b; depth = enclosing arrays. Rejects invalid
 * types, scalars that do not fit their type, NULL payloads and nesting deeper than
 * GGUF_MAX_NESTING with EW_ERR_INVALID_ARG. */
static ew_status enc_value(bbuf *b, const char *key, const gguf_value *v, unsigned depth) {
    if ((unsigned)v->type >= GGUF_TYPE_COUNT)
        return ew_error(EW_ERR_INVALID_ARG, "gguf writer: key '%s': invalid value type %d", key, (int)v->type);
    if (!scalar_fits(v))
        return ew_error(EW_ERR_INVALID_ARG, "gguf writer: key '%s': value does not fit in %s", key,
                        gguf_type_name(v->type));
    if (v->type == GGUF_TYPE_ARRAY) return enc_array(b, key, v, depth + 1);
    if (v->type == GGUF_TYPE_STRING) {
        if (!v->v.str.ptr && v->v.str.len)
            return ew_error(EW_ERR_INVALID_ARG, "gguf writer: key '%s': NULL string", key);
        bb_str(b, v->v.str.ptr, v->v.str.len);
        return EW_OK;
    }
    enc_scalar(b, v);
    return EW_OK;
}

/* Encode an array body: element type, count, elements. */
static ew_status enc_array(bbuf *b, const char *key, const gguf_value *v, unsigned depth) {
    gguf_type et = v->v.arr.type;
    uint64_t n = v->v.arr.n, bytes;
    if (depth > GGUF_MAX_NESTING)
        return ew_error(EW_ERR_INVALID_ARG, "gguf writer: key '%s': arrays nested deeper than %d levels", key,
                        GGUF_MAX_NESTING);
    if ((unsigned)et >= GGUF_TYPE_COUNT)
        return ew_error(EW_ERR_INVALID_ARG, "gguf writer: key '%s': invalid array element type %d", key, (int)et);
    bb_u32(b, (uint32_t)et);
    bb_u64(b, n);
    if (et == GGUF_TYPE_STRING) {
        if (n && !v->v.arr.strs) return ew_error(EW_ERR_INVALID_ARG, "gguf writer: key '%s': NULL strs", key);
        for (uint64_t i = 0; i < n; i++) {
            if (!v->v.arr.strs[i].ptr && v->v.arr.strs[i].len)
                return ew_error(EW_ERR_INVALID_ARG, "gguf writer: key '%s': NULL string #%" PRIu64, key, i);
            bb_str(b, v->v.arr.strs[i].ptr, v->v.arr.strs[i].len);
        }
    } else if (et == GGUF_TYPE_ARRAY) {
        if (n && !v->v.arr.vals) return ew_error(EW_ERR_INVALID_ARG, "gguf writer: key '%s': NULL vals", key);
        for (uint64_t i = 0; i < n; i++) {
            if (v->v.arr.vals[i].type != GGUF_TYPE_ARRAY)
                return ew_error(EW_ERR_INVALID_ARG, "gguf writer: key '%s': element #%" PRIu64 " of an array of arrays has type %s",
                                key, i, gguf_type_name(v->v.arr.vals[i].type));
            ew_status st = enc_array(b, key, &v->v.arr.vals[i], depth + 1);
            if (st) return st;
        }
    } else {
        if (!ew_mul_u64(n, scalar_size(et), &bytes) || bytes > SIZE_MAX)
            return ew_error(EW_ERR_INVALID_ARG, "gguf writer: key '%s': array of %" PRIu64 " elements is too large", key, n);
        if (bytes && !v->v.arr.data) return ew_error(EW_ERR_INVALID_ARG, "gguf writer: key '%s': NULL data", key);
        bb_put(b, v->v.arr.data, (size_t)bytes);
    }
    return EW_OK;
}

/* ---- the writer ----------------------------------------------------------------------- */

gguf_writer *gguf_writer_new(void) { return ew_calloc(1, sizeof(gguf_writer)); }

void gguf_writer_free(gguf_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n_kv; i++) {
        ew_free(w->kv[i].key);
        ew_free(w->kv[i].val);
    }
    for (size_t i = 0; i < w->n_t; i++) ew_free(w->t[i].name);
    ew_free(w->kv);
    ew_free(w->t);
    ew_free(w);
}

/* Grow array *p of *cap elements of size sz so it holds at least n + 1; false on OOM. */
static bool grow(void **p, size_t *cap, size_t n, size_t sz) {
    if (n < *cap) return true;
    size_t nc = *cap ? *cap * 2 : 16, bytes;
    if (!ew_mul_size(nc, sz, &bytes)) return false;
    void *np = ew_realloc(*p, bytes);
    if (!np) return false;
    *p = np;
    *cap = nc;
    return true;
}

/* Check a key is usable: non-NULL, nonempty, at most 65535 bytes, valid UTF-8. */
static ew_status check_key(const gguf_writer *w, const char *key) {
    if (!w || !key) return ew_error(EW_ERR_INVALID_ARG, "gguf writer: NULL writer or key");
    size_t n = strlen(key);
    if (n == 0 || n > 65535 || !gguf_utf8_valid(key, n))
        return ew_error(EW_ERR_INVALID_ARG, "gguf writer: key '%.64s' must be 1..65535 bytes of valid UTF-8", key);
    return EW_OK;
}

/* Store key = (type, encoded value in b); takes b's buffer. Replaces a key of the same
 * name in place, else appends. */
static ew_status set_kv(gguf_writer *w, const char *key, gguf_type type, uint64_t u, bbuf *b) {
    if (b->oom) {
        ew_free(b->p);
        return ew_error(EW_ERR_NOMEM, "gguf writer: out of memory setting '%.64s'", key);
    }
    for (size_t i = 0; i < w->n_kv; i++) {
        if (strcmp(w->kv[i].key, key) != 0) continue;
        ew_free(w->kv[i].val);
        w->kv[i] = (wkv){w->kv[i].key, type, u, b->p, b->len};
        return EW_OK;
    }
    char *k = ew_strdup(key);
    if (!k || !grow((void **)&w->kv, &w->cap_kv, w->n_kv, sizeof *w->kv)) {
        ew_free(k);
        ew_free(b->p);
        return ew_error(EW_ERR_NOMEM, "gguf writer: out of memory setting '%.64s'", key);
    }
    w->kv[w->n_kv++] = (wkv){k, type, u, b->p, b->len};
    return EW_OK;
}

ew_status gguf_set_value(gguf_writer *w, const char *key, const gguf_value *v) {
    ew_status st = check_key(w, key);
    if (st) return st;
    if (!v) return ew_error(EW_ERR_INVALID_ARG, "gguf writer: key '%.64s': NULL value", key);
    bbuf b = {0};
    if ((st = enc_value(&b, key, v, 0))) {
        ew_free(b.p);
        return st;
    }
    return set_kv(w, key, v->type, v->type == GGUF_TYPE_UINT32 ? v->v.u : 0, &b);
}

ew_status gguf_set_u32(gguf_writer *w, const char *key, uint32_t v) {
    return gguf_set_value(w, key, &(gguf_value){.type = GGUF_TYPE_UINT32, .v.u = v});
}
ew_status gguf_set_i32(gguf_writer *w, const char *key, int32_t v) {
    return gguf_set_value(w, key, &(gguf_value){.type = GGUF_TYPE_INT32, .v.i = v});
}
ew_status gguf_set_u64(gguf_writer *w, const char *key, uint64_t v) {
    return gguf_set_value(w, key, &(gguf_value){.type = GGUF_TYPE_UINT64, .v.u = v});
}
ew_status gguf_set_f32(gguf_writer *w, const char *key, float v) {
    return gguf_set_value(w, key, &(gguf_value){.type = GGUF_TYPE_FLOAT32, .v.f = v});
}
ew_status gguf_set_bool(gguf_writer *w, const char *key, bool v) {
    return gguf_set_value(w, key, &(gguf_value){.type = GGUF_TYPE_BOOL, .v.b = v});
}
ew_status gguf_set_str(gguf_writer *w, const char *key, const char *v) {
    if (!v) return ew_error(EW_ERR_INVALID_ARG, "gguf writer: key '%.64s': NULL string", key ? key : "");
    gguf_value val = {.type = GGUF_TYPE_STRING, .v.str = {v, strlen(v)}};
    return gguf_set_value(w, key, &val);
}

ew_status gguf_set_arr(gguf_writer *w, const char *key, gguf_type elem, const void *data, uint64_t n) {
    if (!scalar_size(elem))
        return ew_error(EW_ERR_INVALID_ARG, "gguf writer: key '%.64s': gguf_set_arr needs a numeric or bool type, not %s",
                        key ? key : "", gguf_type_name(elem));
    gguf_value val = {.type = GGUF_TYPE_ARRAY};
    val.v.arr.type = elem;
    val.v.arr.n = n;
    val.v.arr.data = data;
    return gguf_set_value(w, key, &val);
}

ew_status gguf_set_arr_str(gguf_writer *w, const char *key, const char *const *strs, uint64_t n) {
    ew_status st = check_key(w, key);
    if (st) return st;
    if (n && !strs) return ew_error(EW_ERR_INVALID_ARG, "gguf writer: key '%.64s': NULL strs", key);
    bbuf b = {0};
    bb_u32(&b, GGUF_TYPE_STRING);
    bb_u64(&b, n);
    for (uint64_t i = 0; i < n; i++) {
        if (!strs[i]) {
            ew_free(b.p);
            return ew_error(EW_ERR_INVALID_ARG, "gguf writer: key '%.64s': string #%" PRIu64 " is NULL", key, i);
        }
        bb_str(&b, strs[i], strlen(strs[i]));
    }
    return set_kv(w, key, GGUF_TYPE_ARRAY, 0, &b);
}

/* Byte size of a tensor of type with shape ne[0..n_dims); error naming it if invalid. */
static ew_status tensor_size(const char *name, uint32_t type, uint32_t n_dims, const int64_t *ne,
                             uint64_t *nbytes) {
    const ew_type_traits *tr = ew_type_get(type);
    if (!tr || !tr->known || !tr->blck_size || !tr->type_size)
        return ew_error(EW_ERR_UNSUPPORTED, "gguf writer: tensor '%s' has unknown type %" PRIu32, name, type);
    if (n_dims < 1 || n_dims > GGUF_MAX_DIMS || !ne)
        return ew_error(EW_ERR_INVALID_ARG, "gguf writer: tensor '%s': n_dims %" PRIu32 " is out of range 1..%d",
                        name, n_dims, GGUF_MAX_DIMS);
    for (uint32_t j = 0; j < n_dims; j++)
        if (ne[j] < 0)
            return ew_error(EW_ERR_INVALID_ARG, "gguf writer: tensor '%s': ne[%" PRIu32 "] = %" PRId64 " is negative",
                            name, j, ne[j]);
    if (ne[0] % tr->blck_size)
        return ew_error(EW_ERR_INVALID_ARG, "gguf writer: tensor '%s': ne[0] = %" PRId64 " is not a multiple of the block size %" PRIu32 " of %s",
                        name, ne[0], tr->blck_size, tr->name);
    uint64_t nel = 1, b = (uint64_t)ne[0] / tr->blck_size;
    bool ok = ew_mul_u64(b, tr->type_size, &b);
    for (uint32_t j = 0; j < n_dims; j++) ok = ok && ew_mul_u64(nel, (uint64_t)ne[j], &nel);
    for (uint32_t j = 1; j < n_dims; j++) ok = ok && ew_mul_u64(b, (uint64_t)ne[j], &b);
    if (!ok || nel > (uint64_t)INT64_MAX)
        return ew_error(EW_ERR_INVALID_ARG, "gguf writer: tensor '%s': shape overflows", name);
    *nbytes = b;
    return EW_OK;
}

ew_status gguf_add_tensor(gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims,
                          const int64_t *ne, const void *data, gguf_fill_fn fill, void *user) {
    if (!w || !name) return ew_error(EW_ERR_INVALID_ARG, "gguf writer: NULL writer or tensor name");
    size_t len = strlen(name);
    if (len == 0 || len >= GGML_MAX_NAME)
        return ew_error(EW_ERR_INVALID_ARG, "gguf writer: tensor name '%.64s' must be 1..%d bytes", name,
                        GGML_MAX_NAME - 1);
    if (data && fill)
        return ew_error(EW_ERR_INVALID_ARG, "gguf writer: tensor '%s': give data or fill, not both", name);
    for (size_t i = 0; i < w->n_t; i++)
        if (strcmp(w->t[i].name, name) == 0)
            return ew_error(EW_ERR_INVALID_ARG, "gguf writer: duplicate tensor name '%s'", name);
    uint64_t nbytes = 0;
    ew_status st = tensor_size(name, type, n_dims, ne, &nbytes);
    if (st) return st;
    char *nm = ew_strdup(name);
    if (!nm || !grow((void **)&w->t, &w->cap_t, w->n_t, sizeof *w->t)) {
        ew_free(nm);
        return ew_error(EW_ERR_NOMEM, "gguf writer: out of memory adding tensor '%s'", name);
    }
    wtensor *t = &w->t[w->n_t++];
    *t = (wtensor){.name = nm, .type = type, .n_dims = n_dims, .nbytes = nbytes, .data = data,
                   .fill = fill, .user = user};
    for (uint32_t j = 0; j < GGUF_MAX_DIMS; j++) t->ne[j] = j < n_dims ? ne[j] : 1;
    return EW_OK;
}

/* ---- layout and output ---------------------------------------------------------------- */

static uint64_t pad_to(uint64_t x, uint64_t a) { return (a - x % a) % a; }

/* The alignment to use: general.alignment (must be a uint32 nonzero power of two) or 32. */
static ew_status writer_alignment(const gguf_writer *w, uint64_t *align) {
    *align = GGUF_DEFAULT_ALIGNMENT;
    for (size_t i = 0; i < w->n_kv; i++) {
        if (strcmp(w->kv[i].key, "general.alignment") != 0) continue;
        uint64_t a = w->kv[i].u;
        if (w->kv[i].type != GGUF_TYPE_UINT32 || a == 0 || (a & (a - 1)))
            return ew_error(EW_ERR_INVALID_ARG, "gguf writer: general.alignment must be a uint32 nonzero power of two");
        *align = a;
    }
    return EW_OK;
}

/* Encode everything before the data section (incl. the padding) into hdr, assign tensor
 * offsets, and compute the total file size. */
static ew_status layout(gguf_writer *w, bbuf *hdr, uint64_t *align, uint64_t *total) {
    ew_status st = writer_alignment(w, align);
    if (st) return st;
    uint64_t off = 0;
    for (size_t i = 0; i < w->n_t; i++) {
        w->t[i].offset = off;
        if (!ew_add_u64(off, w->t[i].nbytes + pad_to(w->t[i].nbytes, *align), &off))
            return ew_error(EW_ERR_RANGE, "gguf writer: tensor data exceeds 2^64 bytes");
    }
    bb_u32(hdr, GGUF_MAGIC);
    bb_u32(hdr, 3);
    bb_u64(hdr, w->n_t);
    bb_u64(hdr, w->n_kv);
    for (size_t i = 0; i < w->n_kv; i++) {
        bb_str(hdr, w->kv[i].key, strlen(w->kv[i].key));
        bb_u32(hdr, (uint32_t)w->kv[i].type);
        bb_put(hdr, w->kv[i].val, w->kv[i].val_len);
    }
    for (size_t i = 0; i < w->n_t; i++) {
        const wtensor *t = &w->t[i];
        bb_str(hdr, t->name, strlen(t->name));
        bb_u32(hdr, t->n_dims);
        for (uint32_t j = 0; j < t->n_dims; j++) bb_u64(hdr, (uint64_t)t->ne[j]);
        bb_u32(hdr, t->type);
        bb_u64(hdr, t->offset);
    }
    bb_put(hdr, NULL, (size_t)pad_to(hdr->len, *align));
    if (hdr->oom) return ew_error(EW_ERR_NOMEM, "gguf writer: out of memory encoding the header");
    if (!ew_add_u64(hdr->len, off, total))
        return ew_error(EW_ERR_RANGE, "gguf writer: file size exceeds 2^64 bytes");
    return EW_OK;
}

ew_status gguf_writer_write_mem(gguf_writer *w, void **out, size_t *size) {
    if (!w || !out || !size) return ew_error(EW_ERR_INVALID_ARG, "gguf_writer_write_mem: NULL argument");
    *out = NULL;
    *size = 0;
    bbuf hdr = {0};
    uint64_t align, total;
    ew_status st = layout(w, &hdr, &align, &total);
    if (!st && total > SIZE_MAX) st = ew_error(EW_ERR_RANGE, "gguf writer: image too large for memory");
    uint8_t *buf = st ? NULL : ew_malloc((size_t)total);
    if (!st && !buf) st = ew_error(EW_ERR_NOMEM, "gguf writer: out of memory for a %" PRIu64 "-byte image", total);
    if (st) {
        ew_free(hdr.p);
        return st;
    }
    memcpy(buf, hdr.p, hdr.len);
    for (size_t i = 0; i < w->n_t && !st; i++) {
        const wtensor *t = &w->t[i];
        uint8_t *dst = buf + hdr.len + t->offset;
        if (t->data) memcpy(dst, t->data, (size_t)t->nbytes);
        else if (t->fill) st = t->fill(t->user, dst, t->nbytes);
        else memset(dst, 0, (size_t)t->nbytes);
        if (st) st = ew_error_prefix(st, "gguf writer: tensor '%s'", t->name);
        memset(dst + t->nbytes, 0, (size_t)pad_to(t->nbytes, align));
    }
    ew_free(hdr.p);
    if (st) {
        ew_free(buf);
        return st;
    }
    *out = buf;
    *size = (size_t)total;
    return EW_OK;
}

/* Write n bytes of p (NULL = zeros) to fd; EW_ERR_IO naming path on failure. */
static ew_status write_all(int fd, const char *path, const void *p, uint64_t n) {
    static const uint8_t zeros[4096];
    const uint8_t *s = p;
    while (n > 0) {
        size_t chunk = p ? (size_t)EW_MIN(n, (uint64_t)1 << 30) : (size_t)EW_MIN(n, sizeof zeros);
        ssize_t r = write(fd, p ? (const void *)s : (const void *)zeros, chunk);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return ew_error(EW_ERR_IO, "%s: write failed: %s", path, r < 0 ? strerror(errno) : "no progress");
        n -= (uint64_t)r;
        if (p) s += r;
    }
    return EW_OK;
}

/* Stream the header and every tensor's data to fd. */
static ew_status write_body(gguf_writer *w, int fd, const char *path, const bbuf *hdr, uint64_t align) {
    uint64_t scratch_len = 0;
    for (size_t i = 0; i < w->n_t; i++)
        if (w->t[i].fill && w->t[i].nbytes > scratch_len) scratch_len = w->t[i].nbytes;
    if (scratch_len > SIZE_MAX) return ew_error(EW_ERR_RANGE, "%s: a tensor is too large for memory", path);
    uint8_t *scratch = scratch_len ? ew_malloc((size_t)scratch_len) : NULL;
    if (scratch_len && !scratch)
        return ew_error(EW_ERR_NOMEM, "%s: out of memory for a %" PRIu64 "-byte tensor buffer", path, scratch_len);
    ew_status st = write_all(fd, path, hdr->p, hdr->len);
    for (size_t i = 0; i < w->n_t && !st; i++) {
        const wtensor *t = &w->t[i];
        const void *src = t->data;
        if (t->fill) {
            st = t->fill(t->user, scratch, t->nbytes);
            if (st) st = ew_error_prefix(st, "%s: tensor '%s'", path, t->name);
            src = scratch;
        }
        if (!st) st = write_all(fd, path, src, t->nbytes);
        if (!st) st = write_all(fd, path, NULL, pad_to(t->nbytes, align));
    }
    ew_free(scratch);
    return st;
}

/* Write straight into an existing non-regular target (a pipe, /dev/null, a device): a temp
 * file renamed over it would replace the device node. */
static ew_status write_in_place(gguf_writer *w, const char *path, bbuf *hdr, uint64_t align) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return ew_error(EW_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    ew_status st = write_body(w, fd, path, hdr, align);
    if (close(fd) != 0 && !st) st = ew_error(EW_ERR_IO, "%s: close failed: %s", path, strerror(errno));
    return st;
}

ew_status gguf_writer_write(gguf_writer *w, const char *path) {
    if (!w || !path) return ew_error(EW_ERR_INVALID_ARG, "gguf_writer_write: NULL argument");
    bbuf hdr = {0};
    uint64_t align, total;
    ew_status st = layout(w, &hdr, &align, &total);
    if (st) {
        ew_free(hdr.p);
        return st;
    }
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        if (S_ISDIR(sb.st_mode)) st = ew_error(EW_ERR_IO, "%s: is a directory", path);
        else st = write_in_place(w, path, &hdr, align);
        ew_free(hdr.p);
        return st;
    }
    static unsigned counter;
    size_t tlen = strlen(path) + 64;
    char *tmp = ew_malloc(tlen);
    int fd = -1;
    for (int attempt = 0; tmp && attempt < 100 && fd < 0; attempt++) {
        snprintf(tmp, tlen, "%s.tmp-%ld-%u", path, (long)getpid(), __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (!tmp) st = ew_error(EW_ERR_NOMEM, "%s: out of memory", path);
    else if (fd < 0) st = ew_error(EW_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    if (!st) st = write_body(w, fd, path, &hdr, align);
    if (!st && fsync(fd) != 0) st = ew_error(EW_ERR_IO, "%s: fsync failed: %s", path, strerror(errno));
    if (fd >= 0 && close(fd) != 0 && !st) st = ew_error(EW_ERR_IO, "%s: close failed: %s", path, strerror(errno));
    if (!st && rename(tmp, path) != 0)
        st = ew_error(EW_ERR_IO, "%s: cannot rename %s into place: %s", path, tmp, strerror(errno));
    if (st && fd >= 0) unlink(tmp);
    ew_free(tmp);
    ew_free(hdr.p);
    (void)total;
    return st;
}
