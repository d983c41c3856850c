/*
 * core.h - internal services every module uses: error messages, logging, allocation,
 * overflow-checked arithmetic, clocks. Not part of the public API.
 */
#ifndef EW_CORE_H
#define EW_CORE_H

#include "edgewatt.h"
#include <stdarg.h>
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

#if defined(__GNUC__)
#define EW_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define EW_UNUSED __attribute__((unused))
#else
#define EW_PRINTF(a, b)
#define EW_UNUSED
#endif

/* Record status s with a printf-style message for ew_last_error(); returns s, so callers
 * write `return ew_error(EW_ERR_FORMAT, "%s: bad magic", path);`. */
ew_status ew_error(ew_status s, const char *fmt, ...) EW_PRINTF(2, 3);
/* Prefix the current error message with "prefix: " (keeps the status); returns the status. */
ew_status ew_error_prefix(ew_status s, const char *fmt, ...) EW_PRINTF(2, 3);
void ew_clear_error(void);

void ew_log(ew_log_level level, const char *fmt, ...) EW_PRINTF(2, 3);

/* Allocation through the pluggable allocator. ew_malloc/ew_calloc return NULL on failure
 * (and on size 0 they return a valid unique pointer). ew_free(NULL) is a no-op.
 * ew_calloc checks n*size for overflow. ew_strndup copies and NUL-terminates. */
void *ew_malloc(size_t size);
void *ew_calloc(size_t n, size_t size);
void *ew_realloc(void *p, size_t size);
void ew_free(void *p);
char *ew_strdup(const char *s);
char *ew_strndup(const char *s, size_t n);
/* 64-byte aligned allocation for kernels' buffers (freed with ew_free_aligned). */
void *ew_malloc_aligned(size_t size);
void ew_free_aligned(void *p);

/* Overflow-checked arithmetic: return false on overflow (result undefined then). */
static inline bool ew_mul_u64(uint64_t a, uint64_t b, uint64_t *r) { return !__builtin_mul_overflow(a, b, r); }
static inline bool ew_add_u64(uint64_t a, uint64_t b, uint64_t *r) { return !__builtin_add_overflow(a, b, r); }
static inline bool ew_mul_size(size_t a, size_t b, size_t *r) { return !__builtin_mul_overflow(a, b, r); }
static inline bool ew_add_size(size_t a, size_t b, size_t *r) { return !__builtin_add_overflow(a, b, r); }

/* Monotonic clock in seconds / nanoseconds; process CPU time in seconds. */
double ew_time_s(void);
uint64_t ew_time_ns(void);
double ew_cpu_time_s(void);
/* Peak resident set size of this process in bytes (0 if unknown). */
uint64_t ew_peak_rss_bytes(void);

/* Read a whole file into a fresh NUL-terminated buffer (ew_free it). Errors name the path. */
ew_status ew_read_file(const char *path, char **data, size_t *size);

#define EW_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define EW_MIN(a, b) ((a) < (b) ? (a) : (b))
#define EW_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
