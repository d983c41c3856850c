/*
 * gguf_test_util.h - helpers shared by the gguf tests: a byte builder for hand-made GGUF
 * images (so corrupt files can be made byte by byte, deterministically) and a small valid
 * image with the offsets of its fields recorded for patching.
 */
#ifndef EW_GGUF_TEST_UTIL_H
#define EW_GGUF_TEST_UTIL_H

#include "gguf/gguf.h"
#include "quant/quant.h"
#include "test.h"

/* A growable byte buffer (test code: plain malloc, never fails silently). */
typedef struct tb { uint8_t *p; size_t len, cap; } tb;

static inline void tb_put(tb *b, const void *src, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p) { fprintf(stderr, "test: out of memory\n"); exit(2); }
        b->cap = cap;
    }
    if (src) memcpy(b->p + b->len, src, n);
    else memset(b->p + b->len, 0, n);
    b->len += n;
}
static inline void tb_u8(tb *b, uint8_t v) { tb_put(b, &v, 1); }
static inline void tb_u16(tb *b, uint16_t v) { tb_put(b, &v, 2); }
static inline void tb_u32(tb *b, uint32_t v) { tb_put(b, &v, 4); }
static inline void tb_u64(tb *b, uint64_t v) { tb_put(b, &v, 8); }
static inline void tb_f32(tb *b, float v) { tb_put(b, &v, 4); }
static inline void tb_f64(tb *b, double v) { tb_put(b, &v, 8); }
static inline void tb_str(tb *b, const char *s) { tb_u64(b, strlen(s)); tb_put(b, s, strlen(s)); }
static inline void tb_pad(tb *b, size_t a) { while (b->len % a) tb_u8(b, 0); }

static inline void patch_u32(uint8_t *img, size_t off, uint32_t v) { memcpy(img + off, &v, 4); }
static inline void patch_u64(uint8_t *img, size_t off, uint64_t v) { memcpy(img + off, &v, 8); }

/* Offsets of interesting fields in the base image. */
enum { BASE_NKV = 16, BASE_NT = 3 };
typedef struct base_offs {
    size_t n_tensors, n_kv;             /* header counts */
    size_t kv[BASE_NKV];                /* start of each key (its length field) */
    size_t kv_type[BASE_NKV];           /* value type field */
    size_t kv_val[BASE_NKV];            /* value */
    size_t align_val;                   /* general.alignment's value */
    size_t strs_n;                      /* element count of a.strs */
    size_t nested_n;                    /* element count of a.nested */
    size_t nested_elem_type;            /* element type of a.nested[0] */
    size_t i32arr_n;                    /* element count of a.i32arr */
    size_t ti[BASE_NT], ti_ndims[BASE_NT], ti_ne[BASE_NT], ti_type[BASE_NT], ti_off[BASE_NT];
    size_t data;                        /* data section */
    size_t data_end;                    /* end of the last tensor's data (before padding) */
} base_offs;

/* Key #i: name; value appended by the caller. */
static inline void base_key(tb *b, base_offs *o, int i, const char *key, uint32_t type) {
    o->kv[i] = b->len;
    tb_str(b, key);
    o->kv_type[i] = b->len;
    tb_u32(b, type);
    o->kv_val[i] = b->len;
}

/* Tensor info #i. */
static inline void base_tensor(tb *b, base_offs *o, int i, const char *name, uint32_t n_dims,
                               const uint64_t *ne, uint32_t type, uint64_t off) {
    o->ti[i] = b->len;
    tb_str(b, name);
    o->ti_ndims[i] = b->len;
    tb_u32(b, n_dims);
    o->ti_ne[i] = b->len;
    for (uint32_t j = 0; j < n_dims; j++) tb_u64(b, ne[j]);
    o->ti_type[i] = b->len;
    tb_u32(b, type);
    o->ti_off[i] = b->len;
    tb_u64(b, off);
}

/* The base image: 16 keys of every value type (incl. a string array and nested arrays) and
 * 3 tensors (F32 4x2 at 0, Q8_0 32 at 32, F16 8x3x1x1 at 96), alignment 32. Data bytes are a
 * counting pattern. Returns the image (malloc'ed) and fills o. */
static inline uint8_t *base_image(size_t *size, base_offs *o) {
    tb b = {0};
    memset(o, 0, sizeof *o);
    tb_u32(&b, GGUF_MAGIC);
    tb_u32(&b, 3);
    o->n_tensors = b.len; tb_u64(&b, BASE_NT);
    o->n_kv = b.len; tb_u64(&b, BASE_NKV);
    base_key(&b, o, 0, "general.architecture", GGUF_TYPE_STRING); tb_str(&b, "llama");
    base_key(&b, o, 1, "general.alignment", GGUF_TYPE_UINT32); o->align_val = b.len; tb_u32(&b, 32);
    base_key(&b, o, 2, "a.u8", GGUF_TYPE_UINT8); tb_u8(&b, 200);
    base_key(&b, o, 3, "a.i8", GGUF_TYPE_INT8); tb_u8(&b, (uint8_t)-100);
    base_key(&b, o, 4, "a.u16", GGUF_TYPE_UINT16); tb_u16(&b, 60000);
    base_key(&b, o, 5, "a.i16", GGUF_TYPE_INT16); tb_u16(&b, (uint16_t)-30000);
    base_key(&b, o, 6, "a.i32", GGUF_TYPE_INT32); tb_u32(&b, (uint32_t)-7);
    base_key(&b, o, 7, "a.f32", GGUF_TYPE_FLOAT32); tb_f32(&b, 1.5f);
    base_key(&b, o, 8, "a.bool", GGUF_TYPE_BOOL); tb_u8(&b, 1);
    base_key(&b, o, 9, "a.u64", GGUF_TYPE_UINT64); tb_u64(&b, UINT64_MAX);
    base_key(&b, o, 10, "a.i64", GGUF_TYPE_INT64); tb_u64(&b, (uint64_t)INT64_MIN);
    base_key(&b, o, 11, "a.f64", GGUF_TYPE_FLOAT64); tb_f64(&b, -2.25);
    base_key(&b, o, 12, "a.strs", GGUF_TYPE_ARRAY);
    tb_u32(&b, GGUF_TYPE_STRING); o->strs_n = b.len; tb_u64(&b, 3);
    tb_str(&b, "x"); tb_str(&b, "yz"); tb_str(&b, "");
    base_key(&b, o, 13, "a.nested", GGUF_TYPE_ARRAY);
    tb_u32(&b, GGUF_TYPE_ARRAY); o->nested_n = b.len; tb_u64(&b, 3);
    o->nested_elem_type = b.len;
    tb_u32(&b, GGUF_TYPE_UINT8); tb_u64(&b, 2); tb_u8(&b, 1); tb_u8(&b, 2);
    tb_u32(&b, GGUF_TYPE_STRING); tb_u64(&b, 1); tb_str(&b, "q");
    tb_u32(&b, GGUF_TYPE_ARRAY); tb_u64(&b, 1); tb_u32(&b, GGUF_TYPE_INT32); tb_u64(&b, 1); tb_u32(&b, 5);
    base_key(&b, o, 14, "a.i32arr", GGUF_TYPE_ARRAY);
    tb_u32(&b, GGUF_TYPE_INT32); o->i32arr_n = b.len; tb_u64(&b, 3);
    tb_u32(&b, 1); tb_u32(&b, (uint32_t)-2); tb_u32(&b, 3);
    base_key(&b, o, 15, "a.empty", GGUF_TYPE_ARRAY); tb_u32(&b, GGUF_TYPE_FLOAT32); tb_u64(&b, 0);
    base_tensor(&b, o, 0, "t.f32", 2, (const uint64_t[]){4, 2}, EW_TYPE_F32, 0);
    base_tensor(&b, o, 1, "t.q80", 1, (const uint64_t[]){32}, EW_TYPE_Q8_0, 32);
    base_tensor(&b, o, 2, "t.f16", 4, (const uint64_t[]){8, 3, 1, 1}, EW_TYPE_F16, 96);
    tb_pad(&b, 32);
    o->data = b.len;
    for (int i = 0; i < 160; i++) tb_u8(&b, (uint8_t)i);
    o->data_end = o->data + 96 + 48;
    *size = b.len;
    return b.p;
}

/* Copy of the first n bytes of img in a buffer of exactly n bytes (so ASan sees overreads). */
static inline uint8_t *dup_prefix(const uint8_t *img, size_t n) {
    uint8_t *p = malloc(n ? n : 1);
    if (!p) exit(2);
    memcpy(p, img, n);
    return p;
}

#endif
