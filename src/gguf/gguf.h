/*
 * gguf.h - GGUF v3 reader (mmap, hostile-input safe) and writer.
 *
 * The reader validates everything before anyone uses it: every count, length, size
 * product and offset is checked against the file; nothing asserts on input. Strings and
 * array payloads point into the mapping (not NUL-terminated: use .len).
 * Errors name the file, the byte offset and the field: "x.gguf: offset 0x1c: key #3 has
 * unknown value type 99".
 */
#ifndef EW_GGUF_H
#define EW_GGUF_H

#include "core/core.h"

#define GGUF_MAGIC 0x46554747u /* "GGUF" little-endian */
#define GGUF_DEFAULT_ALIGNMENT 32
#define GGUF_MAX_DIMS 4
#define GGUF_MAX_NESTING 8 /* arrays of arrays: at most this many levels */

typedef enum gguf_type {
    GGUF_TYPE_UINT8 = 0, GGUF_TYPE_INT8 = 1, GGUF_TYPE_UINT16 = 2, GGUF_TYPE_INT16 = 3,
    GGUF_TYPE_UINT32 = 4, GGUF_TYPE_INT32 = 5, GGUF_TYPE_FLOAT32 = 6, GGUF_TYPE_BOOL = 7,
    GGUF_TYPE_STRING = 8, GGUF_TYPE_ARRAY = 9, GGUF_TYPE_UINT64 = 10, GGUF_TYPE_INT64 = 11,
    GGUF_TYPE_FLOAT64 = 12, GGUF_TYPE_COUNT
} gguf_type;

const char *gguf_type_name(gguf_type t); /* "uint32", ..., "unknown" */

typedef struct gguf_str { const char *ptr; uint64_t len; } gguf_str;

typedef struct gguf_value gguf_value;
struct gguf_value {
    gguf_type type;
    union {
        uint64_t u;   /* UINT8/16/32/64 */
        int64_t i;    /* INT8/16/32/64 */
        double f;     /* FLOAT32/64 */
        bool b;       /* BOOL */
        gguf_str str; /* STRING */
        struct {
            gguf_type type;      /* element type */
            uint64_t n;          /* element count */
            const uint8_t *data; /* numeric/bool elements: raw little-endian, maybe unaligned */
            gguf_str *strs;      /* type == STRING: n strings */
            gguf_value *vals;    /* type == ARRAY: n nested arrays (each a gguf_value) */
        } arr;
    } v;
};

typedef struct gguf_kv { gguf_str key; gguf_value val; } gguf_kv;

typedef struct gguf_tensor {
    gguf_str name;
    uint32_t n_dims;
    int64_t ne[GGUF_MAX_DIMS];  /* ne[0] = row length (fastest); unused dims = 1 */
    uint32_t type;              /* ggml type id (see quant/quant.h: ew_type) */
    uint64_t offset;            /* relative to the data section; a multiple of the alignment */
    uint64_t nbytes;            /* computed from type and shape (0 if some ne is 0) */
    const void *data;           /* into the mapping; [data, data + nbytes) is in the file */
} gguf_tensor;

typedef struct gguf_file {
    char *path;                 /* for messages */
    const uint8_t *base;        /* whole file */
    uint64_t size;
    uint32_t version;
    uint64_t n_kv;
    gguf_kv *kv;
    uint64_t n_tensors;
    gguf_tensor *tensors;
    uint64_t alignment;
    uint64_t data_offset;       /* start of the data section in the file: aligned and
                                   <= size; with no tensors, min(aligned offset, size)
                                   (vocab-only files often end before the padding) */
    /* private */
    int mapped;                 /* 1 = munmap on close; 2 = ew_free(base) on close */
    void *arena;                /* parser allocations */
} gguf_file;

/* Map path read-only and parse it. On success the file is fully validated: keys unique,
 * valid UTF-8, no NUL; arrays nest <= GGUF_MAX_NESTING; general.alignment a nonzero power
 * of two; tensor names unique, n_dims 1..4, ne[j] >= 0 (0-element tensors are allowed, as in
 * ggml), known type, ne[0] a multiple of the block size, no size overflow, offsets aligned,
 * data inside the file and not overlapping. Versions 2 and 3 are accepted. */
ew_status gguf_open(const char *path, gguf_file **out);
/* Parse an image in memory (fuzzing, in-memory synthetic models). If take_ownership, the
 * buffer (allocated with ew_malloc) passes to the reader at the call: gguf_close frees it,
 * and so does gguf_open_memory itself when it fails. name (NULL = "<memory>") is used in
 * messages. The buffer needs no alignment. */
ew_status gguf_open_memory(const void *data, size_t size, bool take_ownership,
                           const char *name, gguf_file **out);
void gguf_close(gguf_file *f);

/* Lookups. Key names are NUL-terminated C strings. -1 when absent. */
int64_t gguf_find_key(const gguf_file *f, const char *key);
int64_t gguf_find_tensor(const gguf_file *f, const char *name);
const gguf_value *gguf_get(const gguf_file *f, const char *key); /* NULL if absent */

/* Typed getters. Absent key -> EW_ERR_NOT_FOUND; wrong type or value that does not fit
 * -> EW_ERR_FORMAT naming the key, expected and found type. Integer getters accept any
 * integer type whose value fits; gguf_get_f32 accepts FLOAT32/FLOAT64. */
ew_status gguf_get_u32(const gguf_file *f, const char *key, uint32_t *out);
ew_status gguf_get_u64(const gguf_file *f, const char *key, uint64_t *out);
ew_status gguf_get_i32(const gguf_file *f, const char *key, int32_t *out);
ew_status gguf_get_f32(const gguf_file *f, const char *key, float *out);
ew_status gguf_get_bool(const gguf_file *f, const char *key, bool *out);
ew_status gguf_get_str(const gguf_file *f, const char *key, gguf_str *out);
/* Array of the given element type (STRING arrays: use val->v.arr.strs). elem ==
 * GGUF_TYPE_COUNT accepts any element type. */
ew_status gguf_get_arr(const gguf_file *f, const char *key, gguf_type elem, const gguf_value **out);

/* Element i of a numeric or bool array, converted. Out of range i, string or nested arrays
 * give 0. gguf_arr_i64 truncates floats toward zero and saturates (NaN -> 0; uint64 values
 * above INT64_MAX -> INT64_MAX); gguf_arr_f32 turns doubles beyond float range into +-inf. */
float gguf_arr_f32(const gguf_value *arr, uint64_t i);
int64_t gguf_arr_i64(const gguf_value *arr, uint64_t i);

/* Compare a gguf_str with a C string. */
bool gguf_str_eq(gguf_str s, const char *c);
/* True if s[0..len) is valid UTF-8 (no overlongs, surrogates or code points > U+10FFFF). */
bool gguf_utf8_valid(const char *s, uint64_t len);

/* ---- writer ---- */

typedef struct gguf_writer gguf_writer;

/* Fills dst (nbytes long, uninitialised) with the tensor's data at write time; returns EW_OK
 * or an error (which fails the write). For gguf_writer_write, dst is one scratch buffer of
 * the largest filled tensor's size, reused for each tensor, so only one tensor's data is in
 * memory at a time. */
typedef ew_status (*gguf_fill_fn)(void *user, void *dst, uint64_t nbytes);

gguf_writer *gguf_writer_new(void);          /* NULL on OOM */
void gguf_writer_free(gguf_writer *w);
/* Set metadata (replaces an existing key of the same name in place; keys are written in
 * order of first insertion). Keys must be 1..65535 bytes of valid UTF-8 (else
 * EW_ERR_INVALID_ARG). All return EW_ERR_NOMEM on OOM. Note: llama.cpp's C reader rejects
 * arrays of arrays (gguf-py and this reader accept them). */
ew_status gguf_set_u32(gguf_writer *w, const char *key, uint32_t v);
ew_status gguf_set_i32(gguf_writer *w, const char *key, int32_t v);
ew_status gguf_set_u64(gguf_writer *w, const char *key, uint64_t v);
ew_status gguf_set_f32(gguf_writer *w, const char *key, float v);
ew_status gguf_set_bool(gguf_writer *w, const char *key, bool v);
ew_status gguf_set_str(gguf_writer *w, const char *key, const char *v);
/* Numeric/bool array: n elements of elem type, raw little-endian (copied). */
ew_status gguf_set_arr(gguf_writer *w, const char *key, gguf_type elem, const void *data, uint64_t n);
ew_status gguf_set_arr_str(gguf_writer *w, const char *key, const char *const *strs, uint64_t n);
/* Generic: any value, incl. nested arrays (deep-copied; at most GGUF_MAX_NESTING levels).
 * A gguf_value read by gguf_open can be passed straight in. */
ew_status gguf_set_value(gguf_writer *w, const char *key, const gguf_value *v);
/* Add a tensor. data is referenced (not copied) and must live until the write; or fill
 * produces the bytes at write time; with neither, the data is zero. ne[] has n_dims
 * entries. Checks the name is unique and 1..63 bytes (llama.cpp's limit), n_dims 1..4,
 * ne[j] >= 0, the type known (else EW_ERR_UNSUPPORTED), ne[0] a multiple of the block size,
 * no size overflow; giving both data and fill is EW_ERR_INVALID_ARG. */
ew_status gguf_add_tensor(gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims,
                          const int64_t *ne, const void *data, gguf_fill_fn fill, void *user);
/* Write the file (general.alignment honoured if set: it must be a uint32 power of two; else
 * 32). Streams to "<path>.tmp-<pid>-<n>" beside path and renames it into place after fsync,
 * so a failed write leaves no partial file (and an existing file at path intact). */
ew_status gguf_writer_write(gguf_writer *w, const char *path);
/* Write to a fresh ew_malloc'ed buffer (free it with ew_free, or hand it to
 * gguf_open_memory with take_ownership). Same bytes as gguf_writer_write. */
ew_status gguf_writer_write_mem(gguf_writer *w, void **out, size_t *size);

#endif
