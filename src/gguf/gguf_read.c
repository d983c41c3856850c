/*
 * gguf_read.c - GGUF v2/v3 reader: maps a file read-only (or takes an image in memory),
 * validates every byte of the header, metadata and tensor infos before anyone uses them,
 * and offers lookups and typed getters.
 *
 * Hostile-input rules: every count is checked against the bytes that remain before
 * anything is allocated for it (each element needs at least its minimum encoded size);
 * every length, size product and offset is overflow-checked; arrays nest at most
 * GGUF_MAX_NESTING deep; nothing asserts on input. All parser memory lives in one arena
 * that gguf_close frees. Errors read "name: offset 0x..: field: problem".
 */
#include "gguf/gguf.h"
#include "quant/quant.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "gguf_read.c assumes a little-endian host"
#endif

#define KV_MIN_BYTES 13     /* key length (8) + value type (4) + smallest value (1) */
#define TI_MIN_BYTES 32     /* name length (8) + n_dims (4) + ne[0] (8) + type (4) + offset (8) */
#define MAX_KEY_LEN 65535   /* the GGUF spec's limit on key length */

/* ---- arena ---------------------------------------------------------------------------- */

typedef struct arena_blk {
    struct arena_blk *next;
    size_t used, cap;
} arena_blk;

#define ARENA_ALIGN 16
#define ARENA_HDR ((sizeof(arena_blk) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1))
#define ARENA_CHUNK ((size_t)64 * 1024)

/* The file handle plus its private parts; gguf_file is the first member. */
typedef struct gguf_impl {
    gguf_file pub;
    arena_blk *blocks;      /* head = current bump block */
    uint64_t *kv_hash;      /* open addressing: index + 1, 0 = empty */
    uint64_t kv_mask;
    uint64_t *t_hash;
    uint64_t t_mask;
} gguf_impl;

/* Allocate n bytes (16-aligned, uninitialised) from g's arena; NULL on OOM or if n is
 * absurd. Large requests get a block of their own so the bump block keeps its space. */
static void *arena_alloc(gguf_impl *g, uint64_t n) {
    if (n == 0) n = 1;
    if (n > SIZE_MAX - ARENA_HDR - ARENA_ALIGN) return NULL;
    size_t sz = ((size_t)n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    arena_blk *b = g->blocks;
    if (b && b->cap - b->used >= sz) {
        void *p = (char *)b + ARENA_HDR + b->used;
        b->used += sz;
        return p;
    }
    bool own = sz > ARENA_CHUNK / 4;
    size_t cap = own ? sz : ARENA_CHUNK;
    arena_blk *nb = ew_malloc(ARENA_HDR + cap);
    if (!nb) return NULL;
    nb->cap = cap;
    nb->used = sz;
    if (own && b) { /* keep the current bump block at the head */
        nb->next = b->next;
        b->next = nb;
    } else {
        nb->next = b;
        g->blocks = nb;
    }
    return (char *)nb + ARENA_HDR;
}

static void arena_free(gguf_impl *g) {
    arena_blk *b = g->blocks;
    while (b) {
        arena_blk *next = b->next;
        ew_free(b);
        b = next;
    }
    g->blocks = NULL;
}

/* ---- small helpers -------------------------------------------------------------------- */

/* Encoded size of a scalar value type; 0 for STRING, ARRAY and unknown types. */
static uint64_t scalar_size(uint32_t t) {
    static const uint8_t sz[GGUF_TYPE_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    return t < GGUF_TYPE_COUNT ? sz[t] : 0;
}

/* Fewest bytes one array element of type t can occupy in a file. */
static uint64_t elem_min_size(uint32_t t) {
    if (t == GGUF_TYPE_STRING) return 8;
    if (t == GGUF_TYPE_ARRAY) return 12;
    return scalar_size(t);
}

const char *gguf_type_name(gguf_type t) {
    static const char *names[GGUF_TYPE_COUNT] = {
        "uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
        "bool", "string", "array", "uint64", "int64", "float64"};
    return (unsigned)t < GGUF_TYPE_COUNT ? names[t] : "unknown";
}

/* Index of the first byte of s[0..n) that does not start a valid UTF-8 sequence
 * (overlong forms, surrogates and code points above U+10FFFF are invalid); n if all valid. */
static uint64_t utf8_bad_index(const uint8_t *s, uint64_t n) {
    uint64_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) { i++; continue; }
        uint32_t need, cp, min;
        if ((c & 0xE0) == 0xC0) { need = 1; cp = c & 0x1F; min = 0x80; }
        else if ((c & 0xF0) == 0xE0) { need = 2; cp = c & 0x0F; min = 0x800; }
        else if ((c & 0xF8) == 0xF0) { need = 3; cp = c & 0x07; min = 0x10000; }
        else return i;
        if (n - i <= need) return i;
        for (uint32_t k = 1; k <= need; k++) {
            uint8_t b = s[i + k];
            if ((b & 0xC0) != 0x80) return i;
            cp = (cp << 6) | (b & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
        i += need + 1;
    }
    return n;
}

bool gguf_utf8_valid(const char *s, uint64_t len) {
    return len == 0 || (s && utf8_bad_index((const uint8_t *)s, len) == len);
}

/* Write a printable, quoted-safe rendering of p[0..n) into buf (at most 64 source bytes,
 * then "..."); returns buf. Non-printable bytes become \xNN. */
static const char *esc(char *buf, size_t cap, const char *p, uint64_t n) {
    size_t o = 0;
    for (uint64_t i = 0; i < n && o + 8 < cap; i++) {
        unsigned char c = (unsigned char)p[i];
        if (i == 64) { memcpy(buf + o, "...", 3); o += 3; break; }
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') buf[o++] = (char)c;
        else o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
    }
    buf[o] = 0;
    return buf;
}

/* FNV-1a over n bytes. */
static uint64_t hash_bytes(const char *p, uint64_t n) {
    uint64_t h = 1469598103934665603ull;
    for (uint64_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

/* Power-of-two table size with at most 50% load for n entries. */
static uint64_t table_size(uint64_t n) {
    uint64_t c = 16;
    while (c / 2 < n) c <<= 1;
    return c;
}

/* Name of entry i of table kind `tensors` (false = keys). */
static gguf_str entry_name(const gguf_file *f, bool tensors, uint64_t i) {
    return tensors ? f->tensors[i].name : f->kv[i].key;
}

/* Find name in a hash table; returns the entry index or -1. */
static int64_t hash_find(const gguf_file *f, bool tensors, const uint64_t *tab, uint64_t mask,
                         const char *name, uint64_t len) {
    if (!tab) return -1;
    for (uint64_t h = hash_bytes(name, len) & mask;; h = (h + 1) & mask) {
        if (!tab[h]) return -1;
        gguf_str s = entry_name(f, tensors, tab[h] - 1);
        if (s.len == len && memcmp(s.ptr, name, len) == 0) return (int64_t)(tab[h] - 1);
    }
}

/* Insert entry i; returns -1, or the index of an earlier entry with the same name (then
 * nothing is inserted). The table never fills: it has room for twice the entries. */
static int64_t hash_insert(const gguf_file *f, bool tensors, uint64_t *tab, uint64_t mask,
                           uint64_t i) {
    gguf_str s = entry_name(f, tensors, i);
    uint64_t h = hash_bytes(s.ptr, s.len) & mask;
    for (; tab[h]; h = (h + 1) & mask) {
        gguf_str o = entry_name(f, tensors, tab[h] - 1);
        if (o.len == s.len && memcmp(o.ptr, s.ptr, s.len) == 0) return (int64_t)(tab[h] - 1);
    }
    tab[h] = i + 1;
    return -1;
}

/* ---- the cursor ----------------------------------------------------------------------- */

typedef struct rd {
    gguf_impl *g;
    const uint8_t *p;
    uint64_t size, pos;
    const char *name;
    char what[160];         /* the item being parsed: "key #3 'general.name'" */
    uint64_t align_off;     /* offset of general.alignment's value (0 = absent) */
} rd;

/* Record an error "name: offset 0x..: message" and return s. */
static ew_status EW_PRINTF(4, 5) rd_err(const rd *r, ew_status s, uint64_t off, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ew_error(s, "%s: offset 0x%" PRIx64 ": %s", r->name, off, msg);
}

static ew_status rd_oom(const rd *r, uint64_t bytes, const char *for_what) {
    return rd_err(r, EW_ERR_NOMEM, r->pos, "%s: out of memory allocating %" PRIu64 " bytes for %s",
                  r->what, bytes, for_what);
}

/* Allocate n * elem bytes from the arena (n already bounded by the file size). */
static void *rd_alloc(rd *r, uint64_t n, uint64_t elem, const char *for_what, ew_status *st) {
    uint64_t bytes;
    void *p = NULL;
    if (ew_mul_u64(n, elem, &bytes)) p = arena_alloc(r->g, bytes);
    if (!p) *st = rd_oom(r, n * elem, for_what);
    return p;
}

/* The name of a field for messages: "key", or "string #5" for element idx of an array. */
static const char *field_name(char *buf, size_t cap, const char *field, uint64_t idx) {
    if (idx == UINT64_MAX) return field;
    snprintf(buf, cap, "%s #%" PRIu64, field, idx);
    return buf;
}

/* Check n bytes remain for field (element idx, if not UINT64_MAX); error otherwise. */
static ew_status rd_need(const rd *r, uint64_t n, const char *field, uint64_t idx) {
    if (r->size - r->pos >= n) return EW_OK;
    char fb[64];
    return rd_err(r, EW_ERR_FORMAT, r->pos,
                  "%s: file truncated: the %s needs %" PRIu64 " bytes but only %" PRIu64 " remain",
                  r->what, field_name(fb, sizeof fb, field, idx), n, r->size - r->pos);
}

static ew_status rd_u32(rd *r, const char *field, uint32_t *v) {
    ew_status st = rd_need(r, 4, field, UINT64_MAX);
    if (st) return st;
    memcpy(v, r->p + r->pos, 4);
    r->pos += 4;
    return EW_OK;
}

static ew_status rd_u64(rd *r, const char *field, uint64_t *v) {
    ew_status st = rd_need(r, 8, field, UINT64_MAX);
    if (st) return st;
    memcpy(v, r->p + r->pos, 8);
    r->pos += 8;
    return EW_OK;
}

/* Read a GGUF string (u64 length + bytes) that points into the image. field names it in
 * messages ("key", "name", "string" + element idx). */
static ew_status rd_str(rd *r, const char *field, uint64_t idx, gguf_str *out) {
    char fb[64];
    if (r->size - r->pos < 8)
        return rd_err(r, EW_ERR_FORMAT, r->pos,
                      "%s: file truncated: the length of the %s needs 8 bytes but only %" PRIu64 " remain",
                      r->what, field_name(fb, sizeof fb, field, idx), r->size - r->pos);
    uint64_t len;
    memcpy(&len, r->p + r->pos, 8);
    if (len > r->size - r->pos - 8)
        return rd_err(r, EW_ERR_FORMAT, r->pos,
                      "%s: the %s length %" PRIu64 " exceeds the %" PRIu64 " bytes left in the file",
                      r->what, field_name(fb, sizeof fb, field, idx), len, r->size - r->pos - 8);
    out->ptr = (const char *)r->p + r->pos + 8;
    out->len = len;
    r->pos += 8 + len;
    return EW_OK;
}

/* ---- metadata values ------------------------------------------------------------------ */

/* Decode a scalar of type t (size already checked) at p into v. */
static void decode_scalar(gguf_type t, const uint8_t *p, gguf_value *v) {
    uint8_t u8; uint16_t u16; uint32_t u32; int8_t i8; int16_t i16; int32_t i32; float f32;
    switch (t) {
    case GGUF_TYPE_UINT8: v->v.u = *p; break;
    case GGUF_TYPE_INT8: memcpy(&i8, p, 1); v->v.i = i8; break;
    case GGUF_TYPE_UINT16: memcpy(&u16, p, 2); v->v.u = u16; break;
    case GGUF_TYPE_INT16: memcpy(&i16, p, 2); v->v.i = i16; break;
    case GGUF_TYPE_UINT32: memcpy(&u32, p, 4); v->v.u = u32; break;
    case GGUF_TYPE_INT32: memcpy(&i32, p, 4); v->v.i = i32; break;
    case GGUF_TYPE_FLOAT32: memcpy(&f32, p, 4); v->v.f = f32; break;
    case GGUF_TYPE_BOOL: u8 = *p; v->v.b = u8 != 0; break;
    case GGUF_TYPE_UINT64: memcpy(&v->v.u, p, 8); break;
    case GGUF_TYPE_INT64: memcpy(&v->v.i, p, 8); break;
    case GGUF_TYPE_FLOAT64: memcpy(&v->v.f, p, 8); break;
    default: break;
    }
}

static ew_status parse_array(rd *r, gguf_value *v, unsigned depth);

/* Parse a value of (known, valid) type t at the cursor into v. depth = enclosing arrays. */
static ew_status parse_value(rd *r, gguf_type t, gguf_value *v, unsigned depth) {
    memset(v, 0, sizeof *v);
    v->type = t;
    if (t == GGUF_TYPE_ARRAY) return parse_array(r, v, depth + 1);
    if (t == GGUF_TYPE_STRING) return rd_str(r, "string", UINT64_MAX, &v->v.str);
    uint64_t n = scalar_size(t);
    ew_status st = rd_need(r, n, gguf_type_name(t), UINT64_MAX);
    if (st) return st;
    decode_scalar(t, r->p + r->pos, v);
    r->pos += n;
    return EW_OK;
}

/* Parse an array body (element type, count, elements) into v (type ARRAY). depth counts
 * this array. The count is checked against the remaining bytes before allocating. */
static ew_status parse_array(rd *r, gguf_value *v, unsigned depth) {
    uint64_t off = r->pos;
    ew_status st;
    memset(&v->v.arr, 0, sizeof v->v.arr);
    v->type = GGUF_TYPE_ARRAY;
    if (depth > GGUF_MAX_NESTING)
        return rd_err(r, EW_ERR_FORMAT, off, "%s: arrays nested deeper than %d levels", r->what,
                      GGUF_MAX_NESTING);
    uint32_t et;
    uint64_t n, need;
    if ((st = rd_u32(r, "array element type", &et))) return st;
    if (et >= GGUF_TYPE_COUNT)
        return rd_err(r, EW_ERR_FORMAT, off, "%s: array has unknown element type %" PRIu32, r->what, et);
    if ((st = rd_u64(r, "array length", &n))) return st;
    if (!ew_mul_u64(n, elem_min_size(et), &need) || need > r->size - r->pos)
        return rd_err(r, EW_ERR_FORMAT, off + 4,
                      "%s: array of %" PRIu64 " %s elements cannot fit in the %" PRIu64 " bytes left in the file",
                      r->what, n, gguf_type_name((gguf_type)et), r->size - r->pos);
    v->v.arr.type = (gguf_type)et;
    v->v.arr.n = n;
    if (et == GGUF_TYPE_STRING) {
        gguf_str *s = rd_alloc(r, n, sizeof *s, "array of strings", &st);
        if (!s) return st;
        v->v.arr.strs = s;
        for (uint64_t i = 0; i < n; i++)
            if ((st = rd_str(r, "string", i, &s[i]))) return st;
    } else if (et == GGUF_TYPE_ARRAY) {
        gguf_value *vals = rd_alloc(r, n, sizeof *vals, "array of arrays", &st);
        if (!vals) return st;
        memset(vals, 0, n * sizeof *vals);
        v->v.arr.vals = vals;
        for (uint64_t i = 0; i < n; i++)
            if ((st = parse_array(r, &vals[i], depth + 1))) return st;
    } else {
        v->v.arr.data = r->p + r->pos;
        r->pos += need;
    }
    return EW_OK;
}

/* Check a key read at offset off is usable: nonempty, at most 65535 bytes, no NUL, valid
 * UTF-8. */
static ew_status check_key(const rd *r, uint64_t off, gguf_str k) {
    if (k.len == 0) return rd_err(r, EW_ERR_FORMAT, off, "%s: empty key", r->what);
    if (k.len > MAX_KEY_LEN)
        return rd_err(r, EW_ERR_FORMAT, off, "%s: key length %" PRIu64 " exceeds %d", r->what, k.len,
                      MAX_KEY_LEN);
    uint64_t bad = utf8_bad_index((const uint8_t *)k.ptr, k.len);
    if (bad < k.len)
        return rd_err(r, EW_ERR_FORMAT, off + 8 + bad, "%s: key is not valid UTF-8 (byte 0x%02x at +%" PRIu64 ")",
                      r->what, (unsigned char)k.ptr[bad], bad);
    if (memchr(k.ptr, 0, k.len))
        return rd_err(r, EW_ERR_FORMAT, off, "%s: key contains a NUL byte", r->what);
    return EW_OK;
}

/* Parse key/value #i. */
static ew_status parse_kv(rd *r, uint64_t i) {
    gguf_file *f = &r->g->pub;
    gguf_kv *kv = &f->kv[i];
    uint64_t off = r->pos;
    char e[96];
    ew_status st;
    snprintf(r->what, sizeof r->what, "key #%" PRIu64, i);
    if ((st = rd_str(r, "key", UINT64_MAX, &kv->key))) return st;
    if ((st = check_key(r, off, kv->key))) return st;
    snprintf(r->what, sizeof r->what, "key #%" PRIu64 " '%s'", i, esc(e, sizeof e, kv->key.ptr, kv->key.len));
    int64_t dup = hash_insert(f, false, r->g->kv_hash, r->g->kv_mask, i);
    if (dup >= 0)
        return rd_err(r, EW_ERR_FORMAT, off, "%s: duplicate key (also key #%" PRId64 ")", r->what, dup);
    uint32_t t;
    uint64_t toff = r->pos;
    if ((st = rd_u32(r, "value type", &t))) return st;
    if (t >= GGUF_TYPE_COUNT)
        return rd_err(r, EW_ERR_FORMAT, toff, "%s: unknown value type %" PRIu32, r->what, t);
    if (gguf_str_eq(kv->key, "general.alignment")) r->align_off = r->pos;
    return parse_value(r, (gguf_type)t, &kv->val, 0);
}

/* Value of an integer-typed value as sign + magnitude; false if v is not an integer. */
static bool int_value(const gguf_value *v, bool *neg, uint64_t *mag) {
    switch (v->type) {
    case GGUF_TYPE_UINT8: case GGUF_TYPE_UINT16: case GGUF_TYPE_UINT32: case GGUF_TYPE_UINT64:
        *neg = false; *mag = v->v.u; return true;
    case GGUF_TYPE_INT8: case GGUF_TYPE_INT16: case GGUF_TYPE_INT32: case GGUF_TYPE_INT64:
        *neg = v->v.i < 0;
        *mag = *neg ? 0 - (uint64_t)v->v.i : (uint64_t)v->v.i;
        return true;
    default: return false;
    }
}

/* Read general.alignment (if present): an integer that is a nonzero power of two. */
static ew_status parse_alignment(rd *r) {
    gguf_file *f = &r->g->pub;
    f->alignment = GGUF_DEFAULT_ALIGNMENT;
    const gguf_value *v = gguf_get(f, "general.alignment");
    if (!v) return EW_OK;
    bool neg = false;
    uint64_t a = 0;
    if (!int_value(v, &neg, &a))
        return rd_err(r, EW_ERR_FORMAT, r->align_off, "general.alignment has type %s, expected uint32",
                      gguf_type_name(v->type));
    if (neg || a == 0 || (a & (a - 1)))
        return rd_err(r, EW_ERR_FORMAT, r->align_off,
                      "general.alignment = %s%" PRIu64 " is not a nonzero power of two", neg ? "-" : "", a);
    f->alignment = a;
    return EW_OK;
}

/* ---- tensor infos --------------------------------------------------------------------- */

/* Validate type and shape of tensor t and compute its byte size. off = its info offset. */
static ew_status check_tensor_shape(rd *r, uint64_t off, gguf_tensor *t) {
    const ew_type_traits *tr = ew_type_get(t->type);
    char e[96];
    const char *nm = esc(e, sizeof e, t->name.ptr, t->name.len);
    if (!tr || !tr->known || tr->blck_size == 0 || tr->type_size == 0)
        return rd_err(r, EW_ERR_UNSUPPORTED, off, "tensor '%s' has unknown type %" PRIu32, nm, t->type);
    if (t->ne[0] % tr->blck_size)
        return rd_err(r, EW_ERR_FORMAT, off,
                      "tensor '%s': ne[0] = %" PRId64 " is not a multiple of the block size %" PRIu32 " of type %s",
                      nm, t->ne[0], tr->blck_size, tr->name);
    uint64_t nel = 1, bytes = (uint64_t)t->ne[0] / tr->blck_size;
    bool ok = ew_mul_u64(bytes, tr->type_size, &bytes);
    for (int j = 0; j < GGUF_MAX_DIMS; j++) ok = ok && ew_mul_u64(nel, (uint64_t)t->ne[j], &nel);
    for (int j = 1; j < GGUF_MAX_DIMS; j++) ok = ok && ew_mul_u64(bytes, (uint64_t)t->ne[j], &bytes);
    if (!ok || nel > (uint64_t)INT64_MAX)
        return rd_err(r, EW_ERR_FORMAT, off,
                      "tensor '%s': shape %" PRId64 " x %" PRId64 " x %" PRId64 " x %" PRId64 " overflows",
                      nm, t->ne[0], t->ne[1], t->ne[2], t->ne[3]);
    t->nbytes = bytes;
    return EW_OK;
}

/* Parse tensor info #i; records its offset in info_off[i]. */
static ew_status parse_tensor_info(rd *r, uint64_t i, uint64_t *info_off) {
    gguf_file *f = &r->g->pub;
    gguf_tensor *t = &f->tensors[i];
    uint64_t off = r->pos, v;
    char e[96];
    ew_status st;
    info_off[i] = off;
    memset(t, 0, sizeof *t);
    snprintf(r->what, sizeof r->what, "tensor #%" PRIu64, i);
    if ((st = rd_str(r, "name", UINT64_MAX, &t->name))) return st;
    snprintf(r->what, sizeof r->what, "tensor '%s'", esc(e, sizeof e, t->name.ptr, t->name.len));
    int64_t dup = hash_insert(f, true, r->g->t_hash, r->g->t_mask, i);
    if (dup >= 0)
        return rd_err(r, EW_ERR_FORMAT, off, "%s: duplicate tensor name (also tensor #%" PRId64 ")", r->what, dup);
    uint64_t doff = r->pos;
    if ((st = rd_u32(r, "n_dims", &t->n_dims))) return st;
    if (t->n_dims < 1 || t->n_dims > GGUF_MAX_DIMS)
        return rd_err(r, EW_ERR_FORMAT, doff, "%s: n_dims %" PRIu32 " is out of range 1..%d", r->what,
                      t->n_dims, GGUF_MAX_DIMS);
    for (uint32_t j = 0; j < GGUF_MAX_DIMS; j++) t->ne[j] = 1;
    for (uint32_t j = 0; j < t->n_dims; j++) {
        uint64_t noff = r->pos;
        if ((st = rd_u64(r, "dimension", &v))) return st;
        if (v > (uint64_t)INT64_MAX)
            return rd_err(r, EW_ERR_FORMAT, noff, "%s: ne[%" PRIu32 "] = %" PRId64 " is negative", r->what, j,
                          (int64_t)v);
        t->ne[j] = (int64_t)v;
    }
    if ((st = rd_u32(r, "type", &t->type))) return st;
    if ((st = check_tensor_shape(r, off, t))) return st;
    uint64_t ooff = r->pos;
    if ((st = rd_u64(r, "data offset", &t->offset))) return st;
    if (t->offset % f->alignment)
        return rd_err(r, EW_ERR_FORMAT, ooff, "%s: data offset 0x%" PRIx64 " is not a multiple of the alignment %" PRIu64,
                      r->what, t->offset, f->alignment);
    return EW_OK;
}

typedef struct span { uint64_t beg, end, idx; } span;

static int span_cmp(const void *a, const void *b) {
    const span *x = a, *y = b;
    if (x->beg != y->beg) return x->beg < y->beg ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Check every tensor's data lies inside the file and no two overlap; set data pointers. */
static ew_status check_tensor_data(rd *r, const uint64_t *info_off) {
    gguf_file *f = &r->g->pub;
    char e[96], e2[96];
    ew_status st = EW_OK;
    span *sp = rd_alloc(r, f->n_tensors, sizeof *sp, "tensor spans", &st);
    if (!sp) return st;
    uint64_t n = 0;
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        gguf_tensor *t = &f->tensors[i];
        uint64_t beg, end;
        bool wraps = !ew_add_u64(f->data_offset, t->offset, &beg);
        if (wraps || !ew_add_u64(beg, t->nbytes, &end) || end > f->size) {
            char fo[48] = "";
            if (!wraps) snprintf(fo, sizeof fo, " (file offset 0x%" PRIx64 ")", beg);
            return rd_err(r, EW_ERR_FORMAT, info_off[i],
                          "tensor '%s' needs %" PRIu64 " bytes at data offset 0x%" PRIx64 "%s but the file ends at 0x%" PRIx64,
                          esc(e, sizeof e, t->name.ptr, t->name.len), t->nbytes, t->offset, fo, f->size);
        }
        t->data = f->base + beg;
        if (t->nbytes) sp[n++] = (span){t->offset, t->offset + t->nbytes, i};
    }
    qsort(sp, n, sizeof *sp, span_cmp);
    for (uint64_t k = 1; k < n; k++) {
        if (sp[k].beg >= sp[k - 1].end) continue;
        const gguf_tensor *a = &f->tensors[sp[k - 1].idx], *b = &f->tensors[sp[k].idx];
        return rd_err(r, EW_ERR_FORMAT, info_off[sp[k].idx],
                      "tensor '%s' (data 0x%" PRIx64 "..0x%" PRIx64 ") overlaps tensor '%s' (data 0x%" PRIx64 "..0x%" PRIx64 ")",
                      esc(e, sizeof e, b->name.ptr, b->name.len), sp[k].beg, sp[k].end,
                      esc(e2, sizeof e2, a->name.ptr, a->name.len), sp[k - 1].beg, sp[k - 1].end);
    }
    return EW_OK;
}

/* ---- the whole file ------------------------------------------------------------------- */

/* Magic, version, counts; bounds the counts by the remaining bytes. */
static ew_status parse_header(rd *r) {
    gguf_file *f = &r->g->pub;
    uint32_t magic;
    ew_status st;
    snprintf(r->what, sizeof r->what, "header");
    if (r->size < 4)
        return rd_err(r, EW_ERR_FORMAT, 0, "file is too small (%" PRIu64 " bytes) to be GGUF", r->size);
    if ((st = rd_u32(r, "magic", &magic))) return st;
    if (magic != GGUF_MAGIC)
        return rd_err(r, EW_ERR_FORMAT, 0, "bad magic 0x%08" PRIx32 " (expected 0x%08x, \"GGUF\"): not a GGUF file",
                      magic, GGUF_MAGIC);
    if ((st = rd_u32(r, "version", &f->version))) return st;
    uint32_t v = f->version, sw = __builtin_bswap32(v);
    if (v != 2 && v != 3) {
        if (sw == 2 || sw == 3)
            return rd_err(r, EW_ERR_UNSUPPORTED, 4, "GGUF version 0x%08" PRIx32 ": a big-endian file, which is not supported", v);
        return rd_err(r, EW_ERR_UNSUPPORTED, 4, "GGUF version %" PRIu32 " is not supported (only versions 2 and 3)", v);
    }
    if ((st = rd_u64(r, "tensor count", &f->n_tensors))) return st;
    if ((st = rd_u64(r, "key count", &f->n_kv))) return st;
    uint64_t left = r->size - r->pos, a, b;
    if (!ew_mul_u64(f->n_tensors, TI_MIN_BYTES, &a) || a > left)
        return rd_err(r, EW_ERR_FORMAT, 8, "tensor count %" PRIu64 " cannot fit in the %" PRIu64 " bytes left in the file",
                      f->n_tensors, left);
    if (!ew_mul_u64(f->n_kv, KV_MIN_BYTES, &b) || b > left - a)
        return rd_err(r, EW_ERR_FORMAT, 16, "key count %" PRIu64 " cannot fit in the %" PRIu64 " bytes left in the file",
                      f->n_kv, left);
    return EW_OK;
}

/* Allocate a hash table for n entries; NULL on OOM. */
static uint64_t *new_table(rd *r, uint64_t n, uint64_t *mask, ew_status *st) {
    uint64_t cap = table_size(n);
    uint64_t *tab = rd_alloc(r, cap, sizeof *tab, "a hash table", st);
    if (tab) memset(tab, 0, cap * sizeof *tab);
    *mask = cap - 1;
    return tab;
}

/* Parse and validate the whole image of g. */
static ew_status parse(gguf_impl *g) {
    gguf_file *f = &g->pub;
    rd r = {.g = g, .p = f->base, .size = f->size, .name = f->path};
    ew_status st;
    if ((st = parse_header(&r))) return st;
    snprintf(r.what, sizeof r.what, "metadata");
    if (!(f->kv = rd_alloc(&r, f->n_kv, sizeof *f->kv, "the key table", &st))) return st;
    if (!(g->kv_hash = new_table(&r, f->n_kv, &g->kv_mask, &st))) return st;
    for (uint64_t i = 0; i < f->n_kv; i++)
        if ((st = parse_kv(&r, i))) return st;
    if ((st = parse_alignment(&r))) return st;
    uint64_t need;
    snprintf(r.what, sizeof r.what, "tensor infos");
    if (!ew_mul_u64(f->n_tensors, TI_MIN_BYTES, &need) || need > r.size - r.pos)
        return rd_err(&r, EW_ERR_FORMAT, r.pos, "tensor count %" PRIu64 " cannot fit in the %" PRIu64 " bytes left in the file",
                      f->n_tensors, r.size - r.pos);
    uint64_t *info_off;
    if (!(f->tensors = rd_alloc(&r, f->n_tensors, sizeof *f->tensors, "the tensor table", &st))) return st;
    if (!(info_off = rd_alloc(&r, f->n_tensors, sizeof *info_off, "tensor offsets", &st))) return st;
    if (!(g->t_hash = new_table(&r, f->n_tensors, &g->t_mask, &st))) return st;
    for (uint64_t i = 0; i < f->n_tensors; i++)
        if ((st = parse_tensor_info(&r, i, info_off))) return st;
    uint64_t pad = (f->alignment - r.pos % f->alignment) % f->alignment;
    if (!ew_add_u64(r.pos, pad, &f->data_offset))
        return rd_err(&r, EW_ERR_FORMAT, r.pos, "data section offset overflows with alignment %" PRIu64, f->alignment);
    /* vocab-only files may end before the padding: keep data_offset inside the file */
    if (f->n_tensors == 0 && f->data_offset > f->size) f->data_offset = f->size;
    return check_tensor_data(&r, info_off);
}

/* Release the image according to how it was obtained. */
static void release_image(const uint8_t *base, uint64_t size, int mapped) {
    if (mapped == 1 && base) munmap((void *)base, (size_t)size);
    else if (mapped == 2) ew_free((void *)base);
}

/* Build a handle around an image and parse it; on failure the image is released. */
static ew_status open_image(const uint8_t *base, uint64_t size, int mapped, const char *name,
                            gguf_file **out) {
    gguf_impl *g = ew_calloc(1, sizeof *g);
    char *path = g ? ew_strdup(name) : NULL;
    if (!path) {
        ew_free(g);
        release_image(base, size, mapped);
        return ew_error(EW_ERR_NOMEM, "%s: out of memory", name);
    }
    gguf_file *f = &g->pub;
    f->path = path;
    f->base = base;
    f->size = size;
    f->mapped = mapped;
    f->arena = g;
    ew_status st = parse(g);
    if (st) {
        gguf_close(f);
        return st;
    }
    *out = f;
    return EW_OK;
}

ew_status gguf_open(const char *path, gguf_file **out) {
    if (!out) return ew_error(EW_ERR_INVALID_ARG, "gguf_open: out is NULL");
    *out = NULL;
    if (!path) return ew_error(EW_ERR_INVALID_ARG, "gguf_open: path is NULL");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ew_error(EW_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return ew_error(EW_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return ew_error(EW_ERR_IO, "%s: not a regular file", path);
    }
    if (sb.st_size < 4 || (uint64_t)sb.st_size > SIZE_MAX) {
        close(fd);
        return ew_error(EW_ERR_FORMAT, "%s: offset 0x0: file is too small (%lld bytes) to be GGUF", path,
                        (long long)sb.st_size);
    }
    void *base = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (base == MAP_FAILED) return ew_error(EW_ERR_IO, "%s: cannot mmap: %s", path, strerror(e));
    return open_image(base, (uint64_t)sb.st_size, 1, path, out);
}

ew_status gguf_open_memory(const void *data, size_t size, bool take_ownership, const char *name,
                           gguf_file **out) {
    int mapped = take_ownership ? 2 : 0;
    if (!name) name = "<memory>";
    if (!out || (!data && size)) {
        release_image(data, size, mapped);
        return ew_error(EW_ERR_INVALID_ARG, "%s: gguf_open_memory: NULL %s", name, out ? "data" : "out");
    }
    *out = NULL;
    return open_image(data, size, mapped, name, out);
}

void gguf_close(gguf_file *f) {
    if (!f) return;
    gguf_impl *g = (gguf_impl *)f;
    release_image(f->base, f->size, f->mapped);
    arena_free(g);
    ew_free(f->path);
    ew_free(g);
}

/* ---- lookups and getters -------------------------------------------------------------- */

int64_t gguf_find_key(const gguf_file *f, const char *key) {
    if (!f || !key) return -1;
    const gguf_impl *g = (const gguf_impl *)f;
    return hash_find(f, false, g->kv_hash, g->kv_mask, key, strlen(key));
}

int64_t gguf_find_tensor(const gguf_file *f, const char *name) {
    if (!f || !name) return -1;
    const gguf_impl *g = (const gguf_impl *)f;
    return hash_find(f, true, g->t_hash, g->t_mask, name, strlen(name));
}

const gguf_value *gguf_get(const gguf_file *f, const char *key) {
    int64_t i = gguf_find_key(f, key);
    return i < 0 ? NULL : &f->kv[i].val;
}

bool gguf_str_eq(gguf_str s, const char *c) {
    size_t n = c ? strlen(c) : 0;
    return s.len == n && (n == 0 || memcmp(s.ptr, c, n) == 0);
}

/* Look key up; EW_ERR_NOT_FOUND naming it when absent. */
static ew_status lookup(const gguf_file *f, const char *key, const gguf_value **v) {
    if (!f || !key) return ew_error(EW_ERR_INVALID_ARG, "gguf: NULL file or key");
    *v = gguf_get(f, key);
    if (!*v) return ew_error(EW_ERR_NOT_FOUND, "%s: key '%s' not found", f->path, key);
    return EW_OK;
}

/* "array of string" / "uint32": the full type of v, in buf. */
static const char *full_type(const gguf_value *v, char *buf, size_t cap) {
    if (v->type != GGUF_TYPE_ARRAY) return gguf_type_name(v->type);
    snprintf(buf, cap, "array of %s", gguf_type_name(v->v.arr.type));
    return buf;
}

static ew_status wrong_type(const gguf_file *f, const char *key, const gguf_value *v, const char *want) {
    char b[32];
    return ew_error(EW_ERR_FORMAT, "%s: key '%s' has type %s, expected %s", f->path, key,
                    full_type(v, b, sizeof b), want);
}

/* Integer getter core: the value of key if an integer within [-neg_max, pos_max]. */
static ew_status get_int(const gguf_file *f, const char *key, uint64_t neg_max, uint64_t pos_max,
                         const char *want, bool *neg, uint64_t *mag) {
    const gguf_value *v;
    ew_status st = lookup(f, key, &v);
    if (st) return st;
    if (!int_value(v, neg, mag)) return wrong_type(f, key, v, want);
    if (*mag > (*neg ? neg_max : pos_max))
        return ew_error(EW_ERR_FORMAT, "%s: key '%s' = %s%" PRIu64 " does not fit in %s", f->path, key,
                        *neg ? "-" : "", *mag, want);
    return EW_OK;
}

ew_status gguf_get_u32(const gguf_file *f, const char *key, uint32_t *out) {
    bool neg = false;
    uint64_t m = 0;
    ew_status st = get_int(f, key, 0, UINT32_MAX, "uint32", &neg, &m);
    if (!st) *out = (uint32_t)m;
    return st;
}

ew_status gguf_get_u64(const gguf_file *f, const char *key, uint64_t *out) {
    bool neg = false;
    uint64_t m = 0;
    ew_status st = get_int(f, key, 0, UINT64_MAX, "uint64", &neg, &m);
    if (!st) *out = m;
    return st;
}

ew_status gguf_get_i32(const gguf_file *f, const char *key, int32_t *out) {
    bool neg = false;
    uint64_t m = 0;
    ew_status st = get_int(f, key, (uint64_t)INT32_MAX + 1, INT32_MAX, "int32", &neg, &m);
    if (!st) *out = neg ? (int32_t)(-(int64_t)m) : (int32_t)m;
    return st;
}

/* A double as float without undefined behaviour: out-of-range values become +-inf. */
static float to_f32(double d) {
    if (d > FLT_MAX) return INFINITY;
    if (d < -FLT_MAX) return -INFINITY;
    return (float)d;
}

ew_status gguf_get_f32(const gguf_file *f, const char *key, float *out) {
    const gguf_value *v;
    ew_status st = lookup(f, key, &v);
    if (st) return st;
    if (v->type != GGUF_TYPE_FLOAT32 && v->type != GGUF_TYPE_FLOAT64) return wrong_type(f, key, v, "float32");
    *out = to_f32(v->v.f);
    return EW_OK;
}

ew_status gguf_get_bool(const gguf_file *f, const char *key, bool *out) {
    const gguf_value *v;
    ew_status st = lookup(f, key, &v);
    if (st) return st;
    if (v->type != GGUF_TYPE_BOOL) return wrong_type(f, key, v, "bool");
    *out = v->v.b;
    return EW_OK;
}

ew_status gguf_get_str(const gguf_file *f, const char *key, gguf_str *out) {
    const gguf_value *v;
    ew_status st = lookup(f, key, &v);
    if (st) return st;
    if (v->type != GGUF_TYPE_STRING) return wrong_type(f, key, v, "string");
    *out = v->v.str;
    return EW_OK;
}

ew_status gguf_get_arr(const gguf_file *f, const char *key, gguf_type elem, const gguf_value **out) {
    const gguf_value *v;
    ew_status st = lookup(f, key, &v);
    if (st) return st;
    if (v->type != GGUF_TYPE_ARRAY || (elem != GGUF_TYPE_COUNT && v->v.arr.type != elem)) {
        char b[32];
        snprintf(b, sizeof b, "array of %s", elem == GGUF_TYPE_COUNT ? "any" : gguf_type_name(elem));
        return wrong_type(f, key, v, b);
    }
    *out = v;
    return EW_OK;
}

/* Element i of a numeric array as a double (0 for strings, arrays or bad input). */
static double arr_elem_f64(const gguf_value *a, uint64_t i, bool *is_int, int64_t *iv, uint64_t *uv) {
    gguf_value e;
    *is_int = false;
    if (!a || a->type != GGUF_TYPE_ARRAY || i >= a->v.arr.n || !a->v.arr.data) return 0;
    uint64_t sz = scalar_size(a->v.arr.type);
    if (!sz) return 0;
    e.type = a->v.arr.type;
    decode_scalar(e.type, a->v.arr.data + i * sz, &e);
    switch (e.type) {
    case GGUF_TYPE_FLOAT32: case GGUF_TYPE_FLOAT64: return e.v.f;
    case GGUF_TYPE_BOOL: *is_int = true; *iv = e.v.b; *uv = e.v.b; return e.v.b;
    case GGUF_TYPE_UINT8: case GGUF_TYPE_UINT16: case GGUF_TYPE_UINT32: case GGUF_TYPE_UINT64:
        *is_int = true; *uv = e.v.u; *iv = e.v.u > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)e.v.u;
        return (double)e.v.u;
    default:
        *is_int = true; *iv = e.v.i; *uv = 0; return (double)e.v.i;
    }
}

float gguf_arr_f32(const gguf_value *arr, uint64_t i) {
    bool is_int;
    int64_t iv;
    uint64_t uv;
    return to_f32(arr_elem_f64(arr, i, &is_int, &iv, &uv));
}

int64_t gguf_arr_i64(const gguf_value *arr, uint64_t i) {
    bool is_int;
    int64_t iv = 0;
    uint64_t uv;
    double d = arr_elem_f64(arr, i, &is_int, &iv, &uv);
    if (is_int) return iv;
    if (isnan(d)) return 0;
    if (d >= 9223372036854775807.0) return INT64_MAX;
    if (d <= -9223372036854775808.0) return INT64_MIN;
    return (int64_t)d;
}
