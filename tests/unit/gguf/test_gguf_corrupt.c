/*
 * test_gguf_corrupt.c - the reader against a corpus of corrupt images built here from a
 * valid one (no binary files): every case must give the expected status with a telling
 * message and no crash (run under ASan/UBSan). Also: truncation at every byte, and
 * out-of-memory at every allocation of open and of the writer, with no leaks.
 */
#include "gguf_test_util.h"

static uint8_t *g_base;
static size_t g_size;
static base_offs g_o;

/* Parse img[0..n) (copied into an exact-size buffer) and check status want and that the
 * message names the file and offset and contains frag (if not NULL). */
static void expect(const char *label, const uint8_t *img, size_t n, ew_status want, const char *frag) {
    uint8_t *p = dup_prefix(img, n);
    gguf_file *f = NULL;
    ew_clear_error();
    ew_status st = gguf_open_memory(p, n, false, "bad.gguf", &f);
    const char *msg = ew_last_error();
    if (getenv("EW_TEST_VERBOSE")) printf("%-24s %s\n", label, st ? msg : "ok");
    CHECKF(st == want, "%s: got %s (%s), want %s", label, ew_status_name(st), msg, ew_status_name(want));
    if (st == EW_OK) {
        CHECK(f != NULL);
        gguf_close(f);
    } else {
        CHECKF(f == NULL, "%s: handle returned on failure", label);
        CHECKF(strncmp(msg, "bad.gguf: offset 0x", 19) == 0, "%s: message '%s' does not name file and offset", label, msg);
        if (frag) CHECKF(strstr(msg, frag) != NULL, "%s: message '%s' lacks '%s'", label, msg, frag);
    }
    free(p);
}

/* A copy of the base image with one patch applied, then expect(). */
#define CASE(label, patch, want, frag)                                                        \
    do {                                                                                      \
        uint8_t *m = dup_prefix(g_base, g_size);                                              \
        patch;                                                                                \
        expect(label, m, g_size, want, frag);                                                 \
        free(m);                                                                              \
    } while (0)

static void test_base_is_valid(void) {
    gguf_file *f = NULL;
    CHECK_OK(gguf_open_memory(g_base, g_size, false, "base.gguf", &f));
    if (!f) return;
    CHECK(f->n_kv == BASE_NKV && f->n_tensors == BASE_NT && f->data_offset == g_o.data);
    CHECK(f->tensors[2].nbytes == 48 && f->tensors[1].nbytes == 34);
    const gguf_value *v = gguf_get(f, "a.nested");
    CHECK(v && v->v.arr.n == 3 && v->v.arr.vals[2].v.arr.vals[0].v.arr.type == GGUF_TYPE_INT32);
    gguf_close(f);
}

static void test_header(void) {
    CASE("bad magic", m[0] = 'X', EW_ERR_FORMAT, "bad magic");
    CASE("version 1", patch_u32(m, 4, 1), EW_ERR_UNSUPPORTED, "version 1 is not supported");
    CASE("version 4", patch_u32(m, 4, 4), EW_ERR_UNSUPPORTED, "version 4");
    CASE("version 0", patch_u32(m, 4, 0), EW_ERR_UNSUPPORTED, "version 0");
    CASE("big-endian", patch_u32(m, 4, 0x03000000), EW_ERR_UNSUPPORTED, "big-endian");
    CASE("version 2 ok", patch_u32(m, 4, 2), EW_OK, NULL);
    CASE("n_kv 2^63", patch_u64(m, g_o.n_kv, 1ull << 63), EW_ERR_FORMAT, "key count 9223372036854775808");
    CASE("n_kv max", patch_u64(m, g_o.n_kv, UINT64_MAX), EW_ERR_FORMAT, "key count");
    CASE("n_kv 2^40", patch_u64(m, g_o.n_kv, 1ull << 40), EW_ERR_FORMAT, "cannot fit");
    CASE("n_kv +1", patch_u64(m, g_o.n_kv, BASE_NKV + 1), EW_ERR_FORMAT, NULL);
    CASE("n_kv -1", patch_u64(m, g_o.n_kv, BASE_NKV - 1), EW_ERR_FORMAT, NULL);
    CASE("n_tensors 2^63", patch_u64(m, g_o.n_tensors, 1ull << 63), EW_ERR_FORMAT, "tensor count");
    CASE("n_tensors max", patch_u64(m, g_o.n_tensors, UINT64_MAX), EW_ERR_FORMAT, "tensor count");
    CASE("n_tensors +1", patch_u64(m, g_o.n_tensors, BASE_NT + 1), EW_ERR_FORMAT, NULL);
    /* one tensor fewer: the third info becomes padding garbage; still a valid file */
    CASE("n_tensors -1", patch_u64(m, g_o.n_tensors, BASE_NT - 1), EW_OK, NULL);
    expect("empty", g_base, 0, EW_ERR_FORMAT, "too small");
    CHECK(gguf_open_memory(NULL, 0, false, NULL, &(gguf_file *){NULL}) == EW_ERR_FORMAT);
    CHECK(gguf_open_memory(NULL, 5, false, NULL, &(gguf_file *){NULL}) == EW_ERR_INVALID_ARG);
}

static void test_keys(void) {
    size_t k2 = g_o.kv[2] + 8; /* "a.u8" */
    CASE("key len max", patch_u64(m, g_o.kv[2], UINT64_MAX), EW_ERR_FORMAT, "key length 18446744073709551615 exceeds");
    CASE("key len 2^63", patch_u64(m, g_o.kv[0], 1ull << 63), EW_ERR_FORMAT, "exceeds");
    CASE("empty key", patch_u64(m, g_o.kv[2], 0), EW_ERR_FORMAT, "empty key");
    CASE("duplicate key", memcpy(m + k2, "a.i8", 4), EW_ERR_FORMAT, "duplicate key");
    CASE("non-UTF-8 key", m[k2 + 1] = (uint8_t)0xff, EW_ERR_FORMAT, "not valid UTF-8");
    CASE("overlong UTF-8", (m[k2] = 0xc0, m[k2 + 1] = 0x80), EW_ERR_FORMAT, "UTF-8");
    CASE("surrogate UTF-8", (m[k2] = 0xed, m[k2 + 1] = 0xa0, m[k2 + 2] = 0x80), EW_ERR_FORMAT, "UTF-8");
    CASE("truncated UTF-8", m[k2 + 3] = 0xe2, EW_ERR_FORMAT, "UTF-8");
    CASE("valid UTF-8 key", (m[k2 + 2] = 0xc3, m[k2 + 3] = 0xa9), EW_OK, NULL);
    CASE("NUL in key", m[k2 + 1] = 0, EW_ERR_FORMAT, "NUL");
    CASE("unknown value type", patch_u32(m, g_o.kv_type[2], 99), EW_ERR_FORMAT, "key #2 'a.u8': unknown value type 99");
    CASE("value type 13", patch_u32(m, g_o.kv_type[5], GGUF_TYPE_COUNT), EW_ERR_FORMAT, "unknown value type 13");
    CASE("string len max", patch_u64(m, g_o.kv_val[0], UINT64_MAX), EW_ERR_FORMAT, "string length");
    CASE("string len 2^63", patch_u64(m, g_o.kv_val[0], 1ull << 63), EW_ERR_FORMAT, "exceeds");
    CASE("bool 2 accepted", m[g_o.kv_val[8]] = 2, EW_OK, NULL);
}

static void test_arrays(void) {
    uint64_t left = g_size - (g_o.strs_n + 8);
    CASE("strs n 2^62", patch_u64(m, g_o.strs_n, 1ull << 62), EW_ERR_FORMAT, "array of 4611686018427387904 string elements cannot fit");
    CASE("strs n max", patch_u64(m, g_o.strs_n, UINT64_MAX), EW_ERR_FORMAT, "cannot fit");
    CASE("strs n just too many", patch_u64(m, g_o.strs_n, left / 8 + 1), EW_ERR_FORMAT, "cannot fit");
    CASE("strs n fits but wrong", patch_u64(m, g_o.strs_n, left / 8), EW_ERR_FORMAT, NULL);
    CASE("strs n 4", patch_u64(m, g_o.strs_n, 4), EW_ERR_FORMAT, NULL);
    CASE("nested n 2^61", patch_u64(m, g_o.nested_n, 1ull << 61), EW_ERR_FORMAT, "elements cannot fit");
    CASE("nested n max", patch_u64(m, g_o.nested_n, UINT64_MAX), EW_ERR_FORMAT, "cannot fit");
    CASE("i32 array n 2^62", patch_u64(m, g_o.i32arr_n, 1ull << 62), EW_ERR_FORMAT, "cannot fit");
    CASE("i32 array n max", patch_u64(m, g_o.i32arr_n, UINT64_MAX), EW_ERR_FORMAT, "cannot fit");
    CASE("unknown element type", patch_u32(m, g_o.nested_elem_type, 13), EW_ERR_FORMAT, "unknown element type 13");
    CASE("array element type 99", patch_u32(m, g_o.kv_val[14], 99), EW_ERR_FORMAT, "unknown element type 99");
}

static void test_alignment(void) {
    CASE("alignment 0", patch_u32(m, g_o.align_val, 0), EW_ERR_FORMAT, "general.alignment = 0 is not a nonzero power of two");
    CASE("alignment 3", patch_u32(m, g_o.align_val, 3), EW_ERR_FORMAT, "general.alignment = 3");
    CASE("alignment 2^31+1", patch_u32(m, g_o.align_val, 0x80000001u), EW_ERR_FORMAT, "power of two");
    CASE("alignment float", patch_u32(m, g_o.kv_type[1], GGUF_TYPE_FLOAT32), EW_ERR_FORMAT, "general.alignment has type float32");
    CASE("alignment int32 ok", patch_u32(m, g_o.kv_type[1], GGUF_TYPE_INT32), EW_OK, NULL);
    CASE("alignment int32 -32", (patch_u32(m, g_o.kv_type[1], GGUF_TYPE_INT32), patch_u32(m, g_o.align_val, (uint32_t)-32)),
         EW_ERR_FORMAT, "= -32 is not");
    CASE("alignment 64", patch_u32(m, g_o.align_val, 64), EW_ERR_FORMAT, "not a multiple of the alignment 64");
    CASE("alignment 16 ok", patch_u32(m, g_o.align_val, 16), EW_OK, NULL);
    CASE("alignment 2^31", patch_u32(m, g_o.align_val, 0x80000000u), EW_ERR_FORMAT, "alignment 2147483648");
}

/* Found by the fuzzer: no tensors and general.alignment = 2^30 is valid, and data_offset
 * must stay inside the file (the writer would pad a copy to 1 GiB). */
static void test_huge_alignment_no_tensors(void) {
    tb b = {0};
    tb_u32(&b, GGUF_MAGIC); tb_u32(&b, 3); tb_u64(&b, 0); tb_u64(&b, 1);
    tb_str(&b, "general.alignment"); tb_u32(&b, GGUF_TYPE_UINT32); tb_u32(&b, 1u << 30);
    gguf_file *f = NULL;
    CHECK_OK(gguf_open_memory(b.p, b.len, false, "align.gguf", &f));
    CHECK(f && f->alignment == (1u << 30) && f->data_offset == f->size);
    gguf_close(f);
    free(b.p);
}

static void test_tensors(void) {
    CASE("n_dims 0", patch_u32(m, g_o.ti_ndims[0], 0), EW_ERR_FORMAT, "tensor 't.f32': n_dims 0 is out of range 1..4");
    CASE("n_dims 5", patch_u32(m, g_o.ti_ndims[2], 5), EW_ERR_FORMAT, "n_dims 5");
    CASE("n_dims max", patch_u32(m, g_o.ti_ndims[2], UINT32_MAX), EW_ERR_FORMAT, "n_dims");
    CASE("ne negative", patch_u64(m, g_o.ti_ne[0], (uint64_t)-4), EW_ERR_FORMAT, "ne[0] = -4 is negative");
    CASE("ne zero ok", patch_u64(m, g_o.ti_ne[0] + 8, 0), EW_OK, NULL);
    CASE("ne overflow", (patch_u64(m, g_o.ti_ne[0], 1ull << 40), patch_u64(m, g_o.ti_ne[0] + 8, 1ull << 40)),
         EW_ERR_FORMAT, "overflows");
    CASE("nbytes overflow", patch_u64(m, g_o.ti_ne[0], 1ull << 61), EW_ERR_FORMAT, "overflows");
    CASE("ne 4-d overflow", patch_u64(m, g_o.ti_ne[2] + 24, 1ull << 62), EW_ERR_FORMAT, "overflows");
    CASE("ne huge in range", patch_u64(m, g_o.ti_ne[0] + 8, 1ull << 30), EW_ERR_FORMAT, "file ends at");
    CASE("block size", patch_u64(m, g_o.ti_ne[1], 33), EW_ERR_FORMAT, "ne[0] = 33 is not a multiple of the block size 32 of type Q8_0");
    CASE("unknown type 99", patch_u32(m, g_o.ti_type[1], 99), EW_ERR_UNSUPPORTED, "tensor 't.q80' has unknown type 99");
    CASE("removed type 4", patch_u32(m, g_o.ti_type[1], 4), EW_ERR_UNSUPPORTED, "unknown type 4");
    CASE("type max", patch_u32(m, g_o.ti_type[0], UINT32_MAX), EW_ERR_UNSUPPORTED, "unknown type");
    CASE("duplicate tensor", memcpy(m + g_o.ti[2] + 8, "t.f32", 5), EW_ERR_FORMAT, "duplicate tensor name");
    CASE("misaligned", patch_u64(m, g_o.ti_off[1], 33), EW_ERR_FORMAT, "data offset 0x21 is not a multiple of the alignment 32");
    CASE("overlap", patch_u64(m, g_o.ti_off[1], 0), EW_ERR_FORMAT, "overlaps tensor");
    CASE("overlap tail", patch_u64(m, g_o.ti_off[2], 64), EW_ERR_FORMAT, "overlaps");
    CASE("same offset zero-size ok", (patch_u64(m, g_o.ti_ne[0] + 8, 0), patch_u64(m, g_o.ti_off[0], 32)), EW_OK, NULL);
    CASE("out of range", patch_u64(m, g_o.ti_off[2], 0x100000), EW_ERR_FORMAT,
         "tensor 't.f16' needs 48 bytes at data offset 0x100000");
    CASE("just past end", patch_u64(m, g_o.ti_off[2], 128), EW_ERR_FORMAT, "but the file ends at");
    CASE("offset wraps", patch_u64(m, g_o.ti_off[2], UINT64_MAX - 31), EW_ERR_FORMAT, "file ends at");
    CASE("name len max", patch_u64(m, g_o.ti[1], UINT64_MAX), EW_ERR_FORMAT, "the name length 18446744073709551615 exceeds");
    /* data need not follow the order of the infos (llama.cpp insists; we only need no overlap) */
    CASE("reordered ok", (patch_u64(m, g_o.ti_off[2], 0), patch_u64(m, g_o.ti_off[0], 64), patch_u64(m, g_o.ti_off[1], 96)),
         EW_OK, NULL);
}

/* An image with one key holding arrays nested depth levels deep. */
static uint8_t *deep_image(int depth, size_t *size) {
    tb b = {0};
    tb_u32(&b, GGUF_MAGIC); tb_u32(&b, 3); tb_u64(&b, 0); tb_u64(&b, 1);
    tb_str(&b, "deep"); tb_u32(&b, GGUF_TYPE_ARRAY);
    for (int d = 1; d < depth; d++) { tb_u32(&b, GGUF_TYPE_ARRAY); tb_u64(&b, 1); }
    tb_u32(&b, GGUF_TYPE_UINT8); tb_u64(&b, 1); tb_u8(&b, 42);
    *size = b.len;
    return b.p;
}

static void test_nesting(void) {
    size_t n;
    uint8_t *img = deep_image(GGUF_MAX_NESTING, &n);
    gguf_file *f = NULL;
    CHECK_OK(gguf_open_memory(img, n, false, "deep.gguf", &f));
    if (f) {
        const gguf_value *v = gguf_get(f, "deep");
        for (int d = 1; v && d < GGUF_MAX_NESTING; d++) v = &v->v.arr.vals[0];
        CHECK(v && v->v.arr.type == GGUF_TYPE_UINT8 && gguf_arr_i64(v, 0) == 42);
        gguf_close(f);
    }
    free(img);
    img = deep_image(GGUF_MAX_NESTING + 1, &n);
    expect("nesting 9", img, n, EW_ERR_FORMAT, "arrays nested deeper than 8 levels");
    free(img);
    img = deep_image(1000, &n);
    expect("nesting 1000", img, n, EW_ERR_FORMAT, "nested deeper");
    free(img);
}

/* Cut the base image at n bytes with the counts set to n_kv and n_t; expect a format error
 * whose message contains frag. */
static void cut(const char *label, size_t n, uint64_t n_kv, uint64_t n_t, const char *frag) {
    uint8_t *m = dup_prefix(g_base, g_size);
    patch_u64(m, g_o.n_kv, n_kv);
    patch_u64(m, g_o.n_tensors, n_t);
    expect(label, m, n, EW_ERR_FORMAT, frag);
    free(m);
}

/* Truncate the base image at every byte: all cuts before the end of the last tensor's data
 * fail cleanly; cuts inside the final padding are fine. Spot-check the messages. */
static void test_truncation(void) {
    static const char *frags[] = {"truncated", "too small", "cannot fit", "exceeds", "file ends at"};
    int bad = 0;
    for (size_t n = 0; n < g_size; n++) {
        uint8_t *p = dup_prefix(g_base, n);
        gguf_file *f = NULL;
        ew_status st = gguf_open_memory(p, n, false, "cut.gguf", &f);
        if (n < g_o.data_end) {
            bool telling = false;
            for (size_t i = 0; i < EW_ARRAY_LEN(frags); i++) telling |= strstr(ew_last_error(), frags[i]) != NULL;
            if (st != EW_ERR_FORMAT || f || !telling) {
                if (bad++ < 5) fprintf(stderr, "cut at %zu: %s: %s\n", n, ew_status_name(st), ew_last_error());
            }
        } else if (st != EW_OK) {
            if (bad++ < 5) fprintf(stderr, "cut at %zu should be fine: %s\n", n, ew_last_error());
        }
        gguf_close(f);
        free(p);
    }
    CHECKF(bad == 0, "%d truncations misbehaved", bad);
    /* the counts are checked against the bytes left first, so lower them to reach the cut */
    cut("cut in header", 12, BASE_NKV, BASE_NT, "header: file truncated: the tensor count needs 8 bytes");
    cut("cut in counts", g_o.kv[0], BASE_NKV, BASE_NT, "cannot fit");
    cut("cut in key", g_o.kv[2] + 10, 3, 0, "key #2: the key length 4 exceeds the 2 bytes left");
    cut("cut in key len", g_o.kv[2] + 3, 3, 0, "key #2: file truncated: the length of the key needs 8 bytes but only 3 remain");
    cut("cut in value", g_o.kv_val[6] + 2, 7, 0, "key #6 'a.i32': file truncated: the int32 needs 4 bytes");
    cut("cut in string array", g_o.strs_n + 8 + 9 + 10 + 5, 13, 0,
        "key #12 'a.strs': file truncated: the length of the string #2 needs 8 bytes but only 5 remain");
    cut("cut in nested array", g_o.nested_elem_type + 14 + 21 + 4 + 3, 14, 0,
        "key #13 'a.nested': file truncated: the array length needs 8 bytes but only 3 remain");
    cut("cut in tensor info", g_o.ti_type[1] + 1, BASE_NKV, 2, "tensor 't.q80': file truncated: the type needs 4 bytes");
    cut("cut in tensor data", g_o.data + 100, BASE_NKV, BASE_NT,
        "tensor 't.f16' needs 48 bytes at data offset 0x60 (file offset");
}

/* ---- out of memory -------------------------------------------------------------------- */

typedef struct oomctl { long n, fail_at, live; } oomctl;

/* Counts live blocks; fails the fail_at-th allocation or growth (1-based; 0 = never). */
static void *oom_alloc(void *user, void *ptr, size_t osize, size_t nsize) {
    oomctl *c = user;
    (void)osize;
    if (nsize == 0) {
        if (ptr) { c->live--; free(ptr); }
        return NULL;
    }
    if (++c->n == c->fail_at) return NULL;
    void *p = realloc(ptr, nsize);
    if (p && !ptr) c->live++;
    return p;
}

/* Open the base image with the k-th allocation failing, k = 1.. until it succeeds. */
static void test_oom_open(void) {
    oomctl c = {0};
    int k, fails = 0;
    for (k = 1; k < 1000; k++) {
        c = (oomctl){0, k, 0};
        ew_set_allocator(oom_alloc, &c);
        uint8_t *own = ew_malloc(g_size); /* allocation #1: the buffer handed over */
        if (own) memcpy(own, g_base, g_size);
        gguf_file *f = NULL;
        ew_status st = own ? gguf_open_memory(own, g_size, true, "oom.gguf", &f) : EW_ERR_NOMEM;
        if (st == EW_OK) gguf_close(f);
        ew_set_allocator(NULL, NULL);
        CHECKF(st == EW_OK || st == EW_ERR_NOMEM, "k=%d: %s: %s", k, ew_status_name(st), ew_last_error());
        if (st && own) CHECKF(strstr(ew_last_error(), "out of memory") != NULL, "k=%d: %s", k, ew_last_error());
        CHECKF(c.live == 0, "k=%d: %ld blocks leaked", k, c.live);
        if (st == EW_OK) break;
        fails++;
    }
    CHECKF(fails >= 3 && k < 1000, "open never succeeded or never failed (%d failures)", fails);
}

/* Build and serialise a writer with the k-th allocation failing, k = 1.. until it works. */
static void test_oom_writer(void) {
    static const float data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    static const char *const strs[] = {"a", "bb", "ccc"};
    int k, fails = 0;
    for (k = 1; k < 1000; k++) {
        oomctl c = {0, k, 0};
        ew_set_allocator(oom_alloc, &c);
        ew_status st = EW_ERR_NOMEM;
        void *img = NULL;
        size_t n = 0;
        gguf_writer *w = gguf_writer_new();
        if (w) {
            gguf_value inner[2] = {{.type = GGUF_TYPE_ARRAY}, {.type = GGUF_TYPE_ARRAY}};
            inner[0].v.arr.type = GGUF_TYPE_FLOAT32; inner[0].v.arr.n = 2; inner[0].v.arr.data = (const void *)data;
            inner[1].v.arr.type = GGUF_TYPE_UINT8; inner[1].v.arr.n = 0;
            gguf_value nested = {.type = GGUF_TYPE_ARRAY};
            nested.v.arr.type = GGUF_TYPE_ARRAY; nested.v.arr.n = 2; nested.v.arr.vals = inner;
            st = gguf_set_str(w, "general.architecture", "llama");
            if (!st) st = gguf_set_u32(w, "x.u32", 5);
            if (!st) st = gguf_set_arr_str(w, "x.strs", strs, 3);
            if (!st) st = gguf_set_value(w, "x.nested", &nested);
            if (!st) st = gguf_set_arr(w, "x.f32", GGUF_TYPE_FLOAT32, data, 8);
            if (!st) st = gguf_add_tensor(w, "t", EW_TYPE_F32, 1, (const int64_t[]){8}, data, NULL, NULL);
            if (!st) st = gguf_add_tensor(w, "z", EW_TYPE_Q8_0, 2, (const int64_t[]){32, 2}, NULL, NULL, NULL);
            if (!st) st = gguf_writer_write_mem(w, &img, &n);
            gguf_writer_free(w);
        }
        ew_free(img);
        ew_set_allocator(NULL, NULL);
        CHECKF(st == EW_OK || st == EW_ERR_NOMEM, "k=%d: %s: %s", k, ew_status_name(st), ew_last_error());
        CHECKF(c.live == 0, "k=%d: %ld blocks leaked", k, c.live);
        if (st == EW_OK) break;
        fails++;
    }
    CHECKF(fails >= 5 && k < 1000, "writer never succeeded or never failed (%d failures)", fails);
}

/* OOM while opening a real file by path (mmap'ed). */
static void test_oom_real_file(void) {
    const char *path = ew_test_shared("models/stories260K/stories260K.gguf");
    if (!path) return;
    int k;
    for (k = 1; k < 1000; k++) {
        oomctl c = {0, k, 0};
        ew_set_allocator(oom_alloc, &c);
        gguf_file *f = NULL;
        ew_status st = gguf_open(path, &f);
        gguf_close(f);
        ew_set_allocator(NULL, NULL);
        CHECKF(st == EW_OK || st == EW_ERR_NOMEM, "k=%d: %s", k, ew_last_error());
        CHECKF(c.live == 0, "k=%d: %ld blocks leaked", k, c.live);
        if (st == EW_OK) break;
    }
    CHECK(k > 1 && k < 1000);
}

int main(void) {
    g_base = base_image(&g_size, &g_o);
    test_base_is_valid();
    test_header();
    test_keys();
    test_arrays();
    test_alignment();
    test_tensors();
    test_huge_alignment_no_tensors();
    test_nesting();
    test_truncation();
    test_oom_open();
    test_oom_writer();
    test_oom_real_file();
    free(g_base);
    return ew_test_end();
}
