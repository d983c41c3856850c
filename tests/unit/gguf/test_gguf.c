/*
 * test_gguf.c - GGUF writer -> reader round trip of every value type (incl. nested arrays
 * and string arrays) and of tensors of several types; typed getters; writer argument
 * checks; atomic file writes; the real files in ../shared.
 */
#include "gguf_test_util.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- building the round-trip writer -------------------------------------------------- */

static const uint8_t u8s[] = {0, 1, 255};
static const int8_t i8s[] = {-128, 0, 127};
static const uint16_t u16s[] = {0, 65535};
static const int16_t i16s[] = {-32768, 32767};
static const uint32_t u32s[] = {0, 4000000000u};
static const int32_t i32s[] = {INT32_MIN, -1, INT32_MAX};
static const float f32s[] = {1.5f, -0.25f, 3e38f};
static const uint8_t bools[] = {1, 0, 1};
static const uint64_t u64s[] = {UINT64_MAX, 0};
static const int64_t i64s[] = {INT64_MIN, INT64_MAX};
static const double f64s[] = {1e300, -1e-300};
static const char *const tokens[] = {"<unk>", "", "h\xc3\xa9llo", "a b", "\xe2\x96\x81the"};

static float g_f32_data[4 * 3];

/* Fill callback: F16 data = i * 3 as raw u16 pattern. */
static ew_status fill_pattern(void *user, void *dst, uint64_t nbytes) {
    uint8_t *d = dst;
    for (uint64_t i = 0; i < nbytes; i++) d[i] = (uint8_t)(i * 3 + (uintptr_t)user);
    return EW_OK;
}

static ew_status fill_fail(void *user, void *dst, uint64_t nbytes) {
    (void)user; (void)dst; (void)nbytes;
    return ew_error(EW_ERR_IO, "source went away");
}

/* An array value of elem type over data. */
static gguf_value arr_of(gguf_type elem, const void *data, uint64_t n) {
    gguf_value v = {.type = GGUF_TYPE_ARRAY};
    v.v.arr.type = elem;
    v.v.arr.n = n;
    v.v.arr.data = data;
    return v;
}

/* A writer with every kind of value and 5 tensors. */
static gguf_writer *make_writer(uint32_t alignment) {
    gguf_writer *w = gguf_writer_new();
    CHECK(w != NULL);
    if (!w) return NULL;
    CHECK_OK(gguf_set_str(w, "general.architecture", "llama"));
    if (alignment) CHECK_OK(gguf_set_u32(w, "general.alignment", alignment));
    CHECK_OK(gguf_set_value(w, "s.u8", &(gguf_value){.type = GGUF_TYPE_UINT8, .v.u = 250}));
    CHECK_OK(gguf_set_value(w, "s.i8", &(gguf_value){.type = GGUF_TYPE_INT8, .v.i = -5}));
    CHECK_OK(gguf_set_value(w, "s.u16", &(gguf_value){.type = GGUF_TYPE_UINT16, .v.u = 65000}));
    CHECK_OK(gguf_set_value(w, "s.i16", &(gguf_value){.type = GGUF_TYPE_INT16, .v.i = -32000}));
    CHECK_OK(gguf_set_u32(w, "s.u32", 4000000000u));
    CHECK_OK(gguf_set_i32(w, "s.i32", -2000000000));
    CHECK_OK(gguf_set_f32(w, "s.f32", 0.125f));
    CHECK_OK(gguf_set_bool(w, "s.bool", true));
    CHECK_OK(gguf_set_u64(w, "s.u64", 1ull << 40));
    CHECK_OK(gguf_set_value(w, "s.i64", &(gguf_value){.type = GGUF_TYPE_INT64, .v.i = -(1ll << 40)}));
    CHECK_OK(gguf_set_value(w, "s.f64", &(gguf_value){.type = GGUF_TYPE_FLOAT64, .v.f = 1e-300}));
    CHECK_OK(gguf_set_str(w, "s.str", "h\xc3\xa9llo w\xc3\xb6rld"));
    CHECK_OK(gguf_set_str(w, "s.empty", ""));
    CHECK_OK(gguf_set_u32(w, "s.replaced", 1));
    CHECK_OK(gguf_set_arr(w, "a.u8", GGUF_TYPE_UINT8, u8s, 3));
    CHECK_OK(gguf_set_arr(w, "a.i8", GGUF_TYPE_INT8, i8s, 3));
    CHECK_OK(gguf_set_arr(w, "a.u16", GGUF_TYPE_UINT16, u16s, 2));
    CHECK_OK(gguf_set_arr(w, "a.i16", GGUF_TYPE_INT16, i16s, 2));
    CHECK_OK(gguf_set_arr(w, "a.u32", GGUF_TYPE_UINT32, u32s, 2));
    CHECK_OK(gguf_set_arr(w, "a.i32", GGUF_TYPE_INT32, i32s, 3));
    CHECK_OK(gguf_set_arr(w, "a.f32", GGUF_TYPE_FLOAT32, f32s, 3));
    CHECK_OK(gguf_set_arr(w, "a.bool", GGUF_TYPE_BOOL, bools, 3));
    CHECK_OK(gguf_set_arr(w, "a.u64", GGUF_TYPE_UINT64, u64s, 2));
    CHECK_OK(gguf_set_arr(w, "a.i64", GGUF_TYPE_INT64, i64s, 2));
    CHECK_OK(gguf_set_arr(w, "a.f64", GGUF_TYPE_FLOAT64, f64s, 2));
    CHECK_OK(gguf_set_arr(w, "a.empty", GGUF_TYPE_INT32, NULL, 0));
    CHECK_OK(gguf_set_arr_str(w, "tokenizer.ggml.tokens", tokens, EW_ARRAY_LEN(tokens)));
    /* nested: [[1,-2,3] (i32), ["x","yz"] (str), [[1.5], []] (array of f32 arrays), []] */
    gguf_str xs[2] = {{"x", 1}, {"yz", 2}};
    gguf_value deepest[2] = {arr_of(GGUF_TYPE_FLOAT32, f32s, 1), arr_of(GGUF_TYPE_FLOAT32, NULL, 0)};
    gguf_value inner[4] = {arr_of(GGUF_TYPE_INT32, (const int32_t[]){1, -2, 3}, 3),
                           arr_of(GGUF_TYPE_STRING, NULL, 2), arr_of(GGUF_TYPE_ARRAY, NULL, 2),
                           arr_of(GGUF_TYPE_UINT8, NULL, 0)};
    inner[1].v.arr.strs = xs;
    inner[2].v.arr.vals = deepest;
    gguf_value nested = arr_of(GGUF_TYPE_ARRAY, NULL, 4);
    nested.v.arr.vals = inner;
    CHECK_OK(gguf_set_value(w, "a.nested", &nested));
    CHECK_OK(gguf_set_u32(w, "s.replaced", 2)); /* replaced in place */
    for (int i = 0; i < 12; i++) g_f32_data[i] = (float)i - 5.5f;
    CHECK_OK(gguf_add_tensor(w, "t.f32", EW_TYPE_F32, 2, (const int64_t[]){4, 3}, g_f32_data, NULL, NULL));
    CHECK_OK(gguf_add_tensor(w, "t.f16", EW_TYPE_F16, 3, (const int64_t[]){6, 2, 2}, NULL, fill_pattern, (void *)1));
    CHECK_OK(gguf_add_tensor(w, "t.q8_0", EW_TYPE_Q8_0, 2, (const int64_t[]){64, 3}, NULL, NULL, NULL));
    CHECK_OK(gguf_add_tensor(w, "t.q4_k", EW_TYPE_Q4_K, 1, (const int64_t[]){512}, NULL, fill_pattern, (void *)7));
    CHECK_OK(gguf_add_tensor(w, "t.i8.4d", EW_TYPE_I8, 4, (const int64_t[]){3, 1, 2, 5}, NULL, fill_pattern, NULL));
    return w;
}

/* ---- checking what was read ----------------------------------------------------------- */

static void check_num_array(const gguf_file *f, const char *key, gguf_type t, const void *data, uint64_t n, size_t esz) {
    const gguf_value *v = NULL;
    CHECK_OK(gguf_get_arr(f, key, t, &v));
    CHECKF(v && v->v.arr.n == n && (n == 0 || memcmp(v->v.arr.data, data, n * esz) == 0), "%s", key);
}

static void check_kvs(const gguf_file *f) {
    uint32_t u32; int32_t i32; uint64_t u64; float f32; bool b; gguf_str s;
    const gguf_value *v;
    CHECK(f->version == 3);
    CHECK(f->n_kv == 30 - (gguf_find_key(f, "general.alignment") < 0));
    CHECK(gguf_str_eq(f->kv[0].key, "general.architecture"));
    CHECK_OK(gguf_get_str(f, "general.architecture", &s));
    CHECK(gguf_str_eq(s, "llama"));
    CHECK((v = gguf_get(f, "s.u8")) && v->type == GGUF_TYPE_UINT8 && v->v.u == 250);
    CHECK((v = gguf_get(f, "s.i8")) && v->type == GGUF_TYPE_INT8 && v->v.i == -5);
    CHECK((v = gguf_get(f, "s.u16")) && v->type == GGUF_TYPE_UINT16 && v->v.u == 65000);
    CHECK((v = gguf_get(f, "s.i16")) && v->type == GGUF_TYPE_INT16 && v->v.i == -32000);
    CHECK_OK(gguf_get_u32(f, "s.u32", &u32)); CHECK(u32 == 4000000000u);
    CHECK_OK(gguf_get_i32(f, "s.i32", &i32)); CHECK(i32 == -2000000000);
    CHECK_OK(gguf_get_f32(f, "s.f32", &f32)); CHECK(f32 == 0.125f);
    CHECK_OK(gguf_get_bool(f, "s.bool", &b)); CHECK(b);
    CHECK_OK(gguf_get_u64(f, "s.u64", &u64)); CHECK(u64 == 1ull << 40);
    CHECK((v = gguf_get(f, "s.i64")) && v->type == GGUF_TYPE_INT64 && v->v.i == -(1ll << 40));
    CHECK((v = gguf_get(f, "s.f64")) && v->type == GGUF_TYPE_FLOAT64 && v->v.f == 1e-300);
    CHECK_OK(gguf_get_str(f, "s.str", &s)); CHECK(gguf_str_eq(s, "h\xc3\xa9llo w\xc3\xb6rld"));
    CHECK_OK(gguf_get_str(f, "s.empty", &s)); CHECK(s.len == 0);
    CHECK_OK(gguf_get_u32(f, "s.replaced", &u32)); CHECK(u32 == 2);
    int64_t ri = gguf_find_key(f, "s.replaced");
    CHECKF(ri >= 0 && gguf_str_eq(f->kv[ri + 1].key, "a.u8"), "replaced key kept its position");
    check_num_array(f, "a.u8", GGUF_TYPE_UINT8, u8s, 3, 1);
    check_num_array(f, "a.i8", GGUF_TYPE_INT8, i8s, 3, 1);
    check_num_array(f, "a.u16", GGUF_TYPE_UINT16, u16s, 2, 2);
    check_num_array(f, "a.i16", GGUF_TYPE_INT16, i16s, 2, 2);
    check_num_array(f, "a.u32", GGUF_TYPE_UINT32, u32s, 2, 4);
    check_num_array(f, "a.i32", GGUF_TYPE_INT32, i32s, 3, 4);
    check_num_array(f, "a.f32", GGUF_TYPE_FLOAT32, f32s, 3, 4);
    check_num_array(f, "a.bool", GGUF_TYPE_BOOL, bools, 3, 1);
    check_num_array(f, "a.u64", GGUF_TYPE_UINT64, u64s, 2, 8);
    check_num_array(f, "a.i64", GGUF_TYPE_INT64, i64s, 2, 8);
    check_num_array(f, "a.f64", GGUF_TYPE_FLOAT64, f64s, 2, 8);
    check_num_array(f, "a.empty", GGUF_TYPE_INT32, NULL, 0, 4);
    CHECK_OK(gguf_get_arr(f, "tokenizer.ggml.tokens", GGUF_TYPE_STRING, &v));
    CHECK(v && v->v.arr.n == EW_ARRAY_LEN(tokens));
    for (size_t i = 0; v && i < EW_ARRAY_LEN(tokens); i++) CHECKF(gguf_str_eq(v->v.arr.strs[i], tokens[i]), "token %zu", i);
    CHECK_OK(gguf_get_arr(f, "a.nested", GGUF_TYPE_ARRAY, &v));
    if (!v || v->v.arr.n != 4) { CHECK(0); return; }
    const gguf_value *in = v->v.arr.vals;
    CHECK(in[0].type == GGUF_TYPE_ARRAY && in[0].v.arr.type == GGUF_TYPE_INT32 && in[0].v.arr.n == 3);
    CHECK(gguf_arr_i64(&in[0], 1) == -2 && gguf_arr_f32(&in[0], 2) == 3.0f);
    CHECK(in[1].v.arr.type == GGUF_TYPE_STRING && in[1].v.arr.n == 2 && gguf_str_eq(in[1].v.arr.strs[1], "yz"));
    CHECK(in[2].v.arr.type == GGUF_TYPE_ARRAY && in[2].v.arr.n == 2);
    CHECK(in[2].v.arr.vals[0].v.arr.n == 1 && gguf_arr_f32(&in[2].v.arr.vals[0], 0) == 1.5f);
    CHECK(in[2].v.arr.vals[1].v.arr.type == GGUF_TYPE_FLOAT32 && in[2].v.arr.vals[1].v.arr.n == 0);
    CHECK(in[3].v.arr.type == GGUF_TYPE_UINT8 && in[3].v.arr.n == 0);
}

static void check_tensors(const gguf_file *f, uint64_t align) {
    CHECK(f->n_tensors == 5 && f->alignment == align && f->data_offset % align == 0);
    static const char *names[] = {"t.f32", "t.f16", "t.q8_0", "t.q4_k", "t.i8.4d"};
    static const uint64_t nbytes[] = {48, 48, 2 * 34 * 3, 2 * 144, 30};
    for (int i = 0; i < 5; i++) {
        int64_t k = gguf_find_tensor(f, names[i]);
        CHECKF(k == i, "%s at %lld", names[i], (long long)k);
        if (k != i) continue;
        const gguf_tensor *t = &f->tensors[i];
        CHECKF(t->nbytes == nbytes[i] && t->offset % align == 0, "%s: %llu bytes", names[i], (unsigned long long)t->nbytes);
        CHECK((const uint8_t *)t->data == f->base + f->data_offset + t->offset);
    }
    const gguf_tensor *t = f->tensors;
    CHECK(t[0].n_dims == 2 && t[0].ne[0] == 4 && t[0].ne[1] == 3 && t[0].ne[2] == 1 && t[0].type == EW_TYPE_F32);
    CHECK(memcmp(t[0].data, g_f32_data, 48) == 0);
    CHECK(t[1].n_dims == 3 && t[1].ne[2] == 2 && ((const uint8_t *)t[1].data)[5] == 16);
    bool zero = true;
    for (uint64_t i = 0; i < t[2].nbytes; i++) zero &= ((const uint8_t *)t[2].data)[i] == 0;
    CHECK(zero);
    CHECK(((const uint8_t *)t[3].data)[100] == (uint8_t)(300 + 7));
    CHECK(t[4].n_dims == 4 && t[4].ne[3] == 5 && t[4].type == EW_TYPE_I8);
    CHECK(gguf_find_tensor(f, "nope") == -1 && gguf_find_tensor(f, "t.f3") == -1);
    uint64_t end = f->data_offset + t[4].offset + t[4].nbytes;
    CHECK(f->size == end + (align - end % align) % align);
}

/* Write to memory and to a file; both must parse and be byte-identical. */
static void test_round_trip(uint32_t alignment) {
    gguf_writer *w = make_writer(alignment);
    if (!w) return;
    void *img = NULL;
    size_t n = 0;
    CHECK_OK(gguf_writer_write_mem(w, &img, &n));
    char path[256];
    snprintf(path, sizeof path, "/tmp/ew_test_gguf_%ld_%u.gguf", (long)getpid(), alignment);
    CHECK_OK(gguf_writer_write(w, path));
    gguf_writer_free(w);
    gguf_file *f = NULL;
    CHECK_OK(gguf_open_memory(img, n, true, "rt.gguf", &f));
    if (f) {
        check_kvs(f);
        check_tensors(f, alignment ? alignment : GGUF_DEFAULT_ALIGNMENT);
    }
    gguf_file *g = NULL;
    CHECK_OK(gguf_open(path, &g));
    CHECK(g && f && g->size == f->size && memcmp(g->base, f->base, f->size) == 0);
    if (g) check_kvs(g);
    if (getenv("EW_TEST_KEEP")) printf("kept %s\n", path);
    else unlink(path);
    gguf_close(f);
    gguf_close(g);
}

/* ---- getters -------------------------------------------------------------------------- */

static void test_getters(void) {
    gguf_writer *w = gguf_writer_new();
    CHECK_OK(gguf_set_value(w, "neg", &(gguf_value){.type = GGUF_TYPE_INT8, .v.i = -3}));
    CHECK_OK(gguf_set_value(w, "small", &(gguf_value){.type = GGUF_TYPE_UINT8, .v.u = 9}));
    CHECK_OK(gguf_set_u64(w, "big", 1ull << 33));
    CHECK_OK(gguf_set_value(w, "i32min", &(gguf_value){.type = GGUF_TYPE_INT64, .v.i = INT32_MIN}));
    CHECK_OK(gguf_set_value(w, "f64", &(gguf_value){.type = GGUF_TYPE_FLOAT64, .v.f = 1e300}));
    CHECK_OK(gguf_set_str(w, "str", "v"));
    CHECK_OK(gguf_set_arr(w, "u64s", GGUF_TYPE_UINT64, (const uint64_t[]){UINT64_MAX}, 1));
    CHECK_OK(gguf_set_arr(w, "f64s", GGUF_TYPE_FLOAT64, (const double[]){1e300, -1e300, NAN, -2.7}, 4));
    CHECK_OK(gguf_set_arr(w, "bools", GGUF_TYPE_BOOL, (const uint8_t[]){0, 1}, 2));
    void *img;
    size_t n;
    CHECK_OK(gguf_writer_write_mem(w, &img, &n));
    gguf_writer_free(w);
    gguf_file *f = NULL;
    CHECK_OK(gguf_open_memory(img, n, true, "get.gguf", &f));
    if (!f) return;
    uint32_t u32 = 0; int32_t i32 = 0; uint64_t u64 = 0; float f32 = 0; bool b; gguf_str s;
    const gguf_value *v;
    CHECK_OK(gguf_get_u32(f, "small", &u32)); CHECK(u32 == 9);
    CHECK_OK(gguf_get_i32(f, "small", &i32)); CHECK(i32 == 9);
    CHECK_OK(gguf_get_i32(f, "neg", &i32)); CHECK(i32 == -3);
    CHECK_OK(gguf_get_i32(f, "i32min", &i32)); CHECK(i32 == INT32_MIN);
    CHECK_OK(gguf_get_u64(f, "big", &u64)); CHECK(u64 == 1ull << 33);
    CHECK(gguf_get_u32(f, "neg", &u32) == EW_ERR_FORMAT && strstr(ew_last_error(), "'neg' = -3 does not fit in uint32"));
    CHECK(gguf_get_u64(f, "neg", &u64) == EW_ERR_FORMAT);
    CHECK(gguf_get_u32(f, "big", &u32) == EW_ERR_FORMAT && strstr(ew_last_error(), "get.gguf: key 'big'"));
    CHECK(gguf_get_i32(f, "big", &i32) == EW_ERR_FORMAT);
    CHECK(gguf_get_u32(f, "str", &u32) == EW_ERR_FORMAT && strstr(ew_last_error(), "has type string, expected uint32"));
    CHECK(gguf_get_u32(f, "absent", &u32) == EW_ERR_NOT_FOUND && strstr(ew_last_error(), "'absent' not found"));
    CHECK_OK(gguf_get_f32(f, "f64", &f32)); CHECK(isinf(f32));
    CHECK(gguf_get_f32(f, "small", &f32) == EW_ERR_FORMAT);
    CHECK(gguf_get_bool(f, "small", &b) == EW_ERR_FORMAT);
    CHECK(gguf_get_str(f, "small", &s) == EW_ERR_FORMAT);
    CHECK(gguf_get_arr(f, "u64s", GGUF_TYPE_INT32, &v) == EW_ERR_FORMAT &&
          strstr(ew_last_error(), "has type array of uint64, expected array of int32"));
    CHECK(gguf_get_arr(f, "small", GGUF_TYPE_UINT8, &v) == EW_ERR_FORMAT);
    CHECK_OK(gguf_get_arr(f, "u64s", GGUF_TYPE_COUNT, &v));
    CHECK(gguf_arr_i64(v, 0) == INT64_MAX && gguf_arr_f32(v, 0) > 1e19f);
    CHECK(gguf_arr_i64(v, 1) == 0); /* out of range */
    CHECK_OK(gguf_get_arr(f, "f64s", GGUF_TYPE_FLOAT64, &v));
    CHECK(gguf_arr_i64(v, 0) == INT64_MAX && gguf_arr_i64(v, 1) == INT64_MIN);
    CHECK(gguf_arr_i64(v, 2) == 0 && gguf_arr_i64(v, 3) == -2 && gguf_arr_f32(v, 3) == -2.7f);
    CHECK(isinf(gguf_arr_f32(v, 0)) && isnan(gguf_arr_f32(v, 2)));
    CHECK_OK(gguf_get_arr(f, "bools", GGUF_TYPE_BOOL, &v));
    CHECK(gguf_arr_i64(v, 1) == 1 && gguf_arr_f32(v, 0) == 0.0f);
    CHECK(gguf_find_key(f, NULL) == -1 && gguf_get(NULL, "x") == NULL);
    CHECK(gguf_type_name(GGUF_TYPE_FLOAT64) && strcmp(gguf_type_name((gguf_type)77), "unknown") == 0);
    gguf_close(f);
    gguf_close(NULL);
}

/* ---- writer argument checks and failure handling ------------------------------------- */

static void test_writer_errors(void) {
    gguf_writer *w = gguf_writer_new();
    const int64_t ne[4] = {32, 2, 1, 1};
    CHECK(gguf_add_tensor(w, "a", EW_TYPE_F32, 0, ne, NULL, NULL, NULL) == EW_ERR_INVALID_ARG);
    CHECK(gguf_add_tensor(w, "a", EW_TYPE_F32, 5, ne, NULL, NULL, NULL) == EW_ERR_INVALID_ARG);
    CHECK(gguf_add_tensor(w, "a", 99, 1, ne, NULL, NULL, NULL) == EW_ERR_UNSUPPORTED &&
          strstr(ew_last_error(), "unknown type 99"));
    CHECK(gguf_add_tensor(w, "a", EW_TYPE_Q4_K, 1, ne, NULL, NULL, NULL) == EW_ERR_INVALID_ARG &&
          strstr(ew_last_error(), "block size 256"));
    CHECK(gguf_add_tensor(w, "a", EW_TYPE_F32, 1, (const int64_t[]){-1}, NULL, NULL, NULL) == EW_ERR_INVALID_ARG);
    CHECK(gguf_add_tensor(w, "a", EW_TYPE_F32, 2, (const int64_t[]){1ll << 40, 1ll << 40}, NULL, NULL, NULL) == EW_ERR_INVALID_ARG);
    CHECK(gguf_add_tensor(w, "0123456789012345678901234567890123456789012345678901234567890123", EW_TYPE_F32, 1, ne,
                          NULL, NULL, NULL) == EW_ERR_INVALID_ARG);
    CHECK(gguf_add_tensor(w, "", EW_TYPE_F32, 1, ne, NULL, NULL, NULL) == EW_ERR_INVALID_ARG);
    CHECK_OK(gguf_add_tensor(w, "a", EW_TYPE_Q8_0, 2, ne, NULL, NULL, NULL));
    CHECK(gguf_add_tensor(w, "a", EW_TYPE_F32, 1, ne, NULL, NULL, NULL) == EW_ERR_INVALID_ARG &&
          strstr(ew_last_error(), "duplicate tensor name 'a'"));
    CHECK(gguf_set_u32(w, "", 1) == EW_ERR_INVALID_ARG);
    CHECK(gguf_set_u32(w, "bad\xff", 1) == EW_ERR_INVALID_ARG);
    CHECK(gguf_set_u32(w, NULL, 1) == EW_ERR_INVALID_ARG);
    CHECK(gguf_set_str(w, "k", NULL) == EW_ERR_INVALID_ARG);
    CHECK(gguf_set_arr(w, "k", GGUF_TYPE_STRING, NULL, 0) == EW_ERR_INVALID_ARG);
    CHECK(gguf_set_arr(w, "k", GGUF_TYPE_INT32, NULL, 3) == EW_ERR_INVALID_ARG);
    CHECK(gguf_set_arr_str(w, "k", (const char *const[]){"a", NULL}, 2) == EW_ERR_INVALID_ARG);
    CHECK(gguf_set_value(w, "k", &(gguf_value){.type = GGUF_TYPE_COUNT}) == EW_ERR_INVALID_ARG);
    CHECK(gguf_set_value(w, "k", &(gguf_value){.type = GGUF_TYPE_UINT8, .v.u = 256}) == EW_ERR_INVALID_ARG &&
          strstr(ew_last_error(), "does not fit in uint8"));
    CHECK(gguf_set_value(w, "k", &(gguf_value){.type = GGUF_TYPE_INT16, .v.i = -40000}) == EW_ERR_INVALID_ARG);
    CHECK(gguf_set_value(w, "k", &(gguf_value){.type = GGUF_TYPE_UINT32, .v.u = 1ull << 32}) == EW_ERR_INVALID_ARG);
    CHECK(gguf_find_key(NULL, "k") == -1);
    CHECK_OK(gguf_set_value(w, "f32big", &(gguf_value){.type = GGUF_TYPE_FLOAT32, .v.f = 1e300}));
    /* nesting: 8 levels are fine, 9 are not */
    gguf_value lv[10];
    lv[0] = arr_of(GGUF_TYPE_UINT8, NULL, 0);
    for (int d = 1; d < 10; d++) {
        lv[d] = arr_of(GGUF_TYPE_ARRAY, NULL, 1);
        lv[d].v.arr.vals = &lv[d - 1];
    }
    CHECK_OK(gguf_set_value(w, "deep8", &lv[7]));
    CHECK(gguf_set_value(w, "deep9", &lv[8]) == EW_ERR_INVALID_ARG && strstr(ew_last_error(), "nested deeper"));
    gguf_value bad_inner = arr_of(GGUF_TYPE_ARRAY, NULL, 1);
    bad_inner.v.arr.vals = &(gguf_value){.type = GGUF_TYPE_UINT8};
    CHECK(gguf_set_value(w, "k", &bad_inner) == EW_ERR_INVALID_ARG);
    CHECK(gguf_find_key(NULL, "k") == -1);
    void *img;
    size_t n;
    CHECK_OK(gguf_set_value(w, "general.alignment", &(gguf_value){.type = GGUF_TYPE_UINT64, .v.u = 32}));
    CHECK(gguf_writer_write_mem(w, &img, &n) == EW_ERR_INVALID_ARG && strstr(ew_last_error(), "general.alignment"));
    CHECK_OK(gguf_set_u32(w, "general.alignment", 48));
    CHECK(gguf_writer_write_mem(w, &img, &n) == EW_ERR_INVALID_ARG);
    CHECK_OK(gguf_set_u32(w, "general.alignment", 1));
    CHECK_OK(gguf_writer_write_mem(w, &img, &n));
    gguf_file *f = NULL;
    CHECK_OK(gguf_open_memory(img, n, true, "a1.gguf", &f));
    CHECK(f && f->alignment == 1 && gguf_get(f, "deep8") != NULL);
    gguf_close(f);
    gguf_writer_free(w);
    gguf_writer_free(NULL);
}

/* Count directory entries whose name starts with prefix. */
static int count_prefix(const char *dir, const char *prefix) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    if (d) closedir(d);
    return n;
}

/* A fill error leaves neither the target nor a temporary file; an old file survives. */
static void test_write_failure(void) {
    char dir[] = "/tmp/ew_gguf_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[300];
    snprintf(path, sizeof path, "%s/m.gguf", dir);
    gguf_writer *w = gguf_writer_new();
    CHECK_OK(gguf_add_tensor(w, "ok", EW_TYPE_F32, 1, (const int64_t[]){1000}, NULL, fill_pattern, NULL));
    CHECK_OK(gguf_add_tensor(w, "bad", EW_TYPE_F32, 1, (const int64_t[]){8}, NULL, fill_fail, NULL));
    CHECK(gguf_writer_write(w, path) == EW_ERR_IO && strstr(ew_last_error(), "tensor 'bad': source went away"));
    CHECK(count_prefix(dir, "m.gguf") == 0);
    void *img;
    size_t n;
    CHECK(gguf_writer_write_mem(w, &img, &n) == EW_ERR_IO);
    gguf_writer_free(w);
    w = gguf_writer_new();
    CHECK_OK(gguf_set_str(w, "general.name", "old"));
    CHECK_OK(gguf_writer_write(w, path));
    gguf_writer_free(w);
    w = gguf_writer_new();
    CHECK_OK(gguf_add_tensor(w, "bad", EW_TYPE_F32, 1, (const int64_t[]){8}, NULL, fill_fail, NULL));
    CHECK(gguf_writer_write(w, path) == EW_ERR_IO);
    gguf_writer_free(w);
    CHECK(count_prefix(dir, "m.gguf") == 1);
    gguf_file *f = NULL;
    gguf_str s = {0};
    CHECK_OK(gguf_open(path, &f));
    CHECK(f && gguf_get_str(f, "general.name", &s) == EW_OK && gguf_str_eq(s, "old"));
    gguf_close(f);
    w = gguf_writer_new();
    CHECK(gguf_writer_write(w, "/nonexistent-dir/x.gguf") == EW_ERR_IO && strstr(ew_last_error(), "cannot create"));
    gguf_writer_free(w);
    unlink(path);
    rmdir(dir);
}

/* A large tensor streamed through a fill callback to a file (size via EW_TEST_BIG_MB,
 * default 64 MB; set it to 1024 to try a 1 GB tensor). */
static ew_status fill_big(void *user, void *dst, uint64_t nbytes) {
    (void)user;
    memset(dst, 0, nbytes);
    for (uint64_t i = 0; i < nbytes; i += 4096) ((uint8_t *)dst)[i] = (uint8_t)(i >> 12);
    return EW_OK;
}

static void test_big_tensor(void) {
    const char *mb_env = getenv("EW_TEST_BIG_MB");
    int64_t mb = mb_env ? atoll(mb_env) : 64;
    char path[256];
    snprintf(path, sizeof path, "/tmp/ew_test_gguf_big_%ld.gguf", (long)getpid());
    gguf_writer *w = gguf_writer_new();
    CHECK_OK(gguf_add_tensor(w, "big", EW_TYPE_F32, 2, (const int64_t[]){1024 * 256, mb}, NULL, fill_big, NULL));
    CHECK_OK(gguf_add_tensor(w, "zeros", EW_TYPE_F16, 1, (const int64_t[]){100000}, NULL, NULL, NULL));
    CHECK_OK(gguf_writer_write(w, path));
    gguf_writer_free(w);
    gguf_file *f = NULL;
    CHECK_OK(gguf_open(path, &f));
    if (f) {
        const gguf_tensor *t = &f->tensors[0];
        CHECK(t->nbytes == (uint64_t)mb << 20);
        CHECK(((const uint8_t *)t->data)[4096 * 5] == 5 && ((const uint8_t *)t->data)[t->nbytes - 4096] == (uint8_t)((t->nbytes - 4096) >> 12));
        CHECK(((const uint8_t *)f->tensors[1].data)[199999] == 0);
    }
    gguf_close(f);
    unlink(path);
}

/* ---- opening files -------------------------------------------------------------------- */

static void test_open_errors(void) {
    gguf_file *f = (gguf_file *)&f;
    CHECK(gguf_open("/nonexistent/x.gguf", &f) == EW_ERR_IO && f == NULL && strstr(ew_last_error(), "/nonexistent/x.gguf"));
    CHECK(gguf_open("/tmp", &f) == EW_ERR_IO && strstr(ew_last_error(), "not a regular file"));
    char path[256];
    snprintf(path, sizeof path, "/tmp/ew_test_gguf_empty_%ld.gguf", (long)getpid());
    FILE *fp = fopen(path, "wb");
    if (fp) fclose(fp);
    CHECK(gguf_open(path, &f) == EW_ERR_FORMAT && strstr(ew_last_error(), "too small"));
    fp = fopen(path, "wb");
    if (fp) { fputs("GGML junk junk junk", fp); fclose(fp); }
    CHECK(gguf_open(path, &f) == EW_ERR_FORMAT && strstr(ew_last_error(), "bad magic"));
    unlink(path);
    CHECK(gguf_open(NULL, &f) == EW_ERR_INVALID_ARG);
}

/* stories260K: 48 F32 tensors and llama metadata. Returns false if the file is absent. */
static bool test_stories(void) {
    const char *path = ew_test_shared("models/stories260K/stories260K.gguf");
    if (!path) return false;
    gguf_file *f = NULL;
    CHECK_OK(gguf_open(path, &f));
    if (!f) return true;
    gguf_str s;
    uint32_t u;
    const gguf_value *v;
    CHECK(f->n_tensors == 48 && f->n_kv == 19 && f->version == 3);
    CHECK_OK(gguf_get_str(f, "general.architecture", &s));
    CHECK(gguf_str_eq(s, "llama"));
    CHECK_OK(gguf_get_u32(f, "llama.embedding_length", &u)); CHECK(u == 64);
    CHECK_OK(gguf_get_u32(f, "llama.block_count", &u)); CHECK(u == 5);
    CHECK_OK(gguf_get_arr(f, "tokenizer.ggml.tokens", GGUF_TYPE_STRING, &v));
    CHECK(v && v->v.arr.n == 512);
    CHECK_OK(gguf_get_arr(f, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, &v));
    CHECK(v && v->v.arr.n == 512);
    CHECK(f->data_offset == 14176);
    int64_t i = gguf_find_tensor(f, "token_embd.weight");
    CHECK(i >= 0 && f->tensors[i].type == EW_TYPE_F32 && f->tensors[i].ne[0] == 64 && f->tensors[i].ne[1] == 512 &&
          f->tensors[i].nbytes == 131072);
    for (uint64_t k = 0; k < f->n_tensors; k++) CHECK(f->tensors[k].type == EW_TYPE_F32);
    i = gguf_find_tensor(f, "blk.4.ffn_down.weight");
    CHECK(i >= 0);
    gguf_close(f);
    return true;
}

/* The gpt-2 vocab file: 0 tensors, 16 keys, 50257 tokens; its data section starts past the
 * end of the file (no padding written), which must be accepted. */
static bool test_vocab(void) {
    const char *path = ew_test_shared("data/tokenizers/llamacpp-vocab-tests/ggml-vocab-gpt-2.gguf");
    if (!path) return false;
    gguf_file *f = NULL;
    CHECK_OK(gguf_open(path, &f));
    if (!f) return true;
    const gguf_value *v;
    gguf_str s;
    CHECK(f->n_tensors == 0 && f->n_kv == 16 && f->data_offset == f->size);
    CHECK_OK(gguf_get_str(f, "tokenizer.ggml.model", &s));
    CHECK(gguf_str_eq(s, "gpt2"));
    CHECK_OK(gguf_get_arr(f, "tokenizer.ggml.tokens", GGUF_TYPE_STRING, &v));
    CHECK(v && v->v.arr.n == 50257);
    CHECK_OK(gguf_get_arr(f, "tokenizer.ggml.merges", GGUF_TYPE_STRING, &v));
    CHECK(v && v->v.arr.n == 50000);
    gguf_close(f);
    return true;
}

/* Writing to an existing device (e.g. /dev/null) writes through it and leaves it a device:
 * the temp-file + rename path is for regular files only. */
static void test_write_to_device(void) {
    struct stat sb;
    if (stat("/dev/null", &sb) != 0 || !S_ISCHR(sb.st_mode)) return;
    gguf_writer *w = gguf_writer_new();
    CHECK(w != NULL);
    if (!w) return;
    CHECK_OK(gguf_set_u32(w, "a", 1));
    CHECK_OK(gguf_writer_write(w, "/dev/null"));
    CHECK(stat("/dev/null", &sb) == 0 && S_ISCHR(sb.st_mode));
    CHECK(gguf_writer_write(w, "/tmp") == EW_ERR_IO);
    gguf_writer_free(w);
}

int main(void) {
    test_write_to_device();
    test_round_trip(0);
    test_round_trip(64);
    test_round_trip(8);
    test_getters();
    test_writer_errors();
    test_write_failure();
    test_big_tensor();
    test_open_errors();
    bool a = test_stories();
    bool b = test_vocab();
    if (!a || !b) {
        int r = ew_test_end();
        if (r) return r;
        EW_TEST_SKIP("../shared model files absent (the rest passed)");
    }
    return ew_test_end();
}
