/*
 * membw.c - memory read bandwidth: a multi-threaded streaming read over a buffer much larger
 * than the last-level cache (see membw.h for the method).
 */
#include "core/membw.h"
#include "core/threadpool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MIB ((size_t)1 << 20)

/* Parse a sysfs cache size such as "32768K" or "2M"; 0 if malformed. */
static size_t parse_cache_size(const char *s) {
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s) return 0;
    if (*end == 'K' || *end == 'k') v <<= 10;
    else if (*end == 'M' || *end == 'm') v <<= 20;
    else if (*end == 'G' || *end == 'g') v <<= 30;
    return (size_t)v;
}

/* Largest cache of cpu0 that sysfs lists (the LLC), 0 if sysfs has none. */
static size_t llc_from_sysfs(void) {
    size_t best = 0;
    for (int i = 0; i < 8; i++) {
        char path[96], buf[64];
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        if (fgets(buf, sizeof buf, f)) {
            size_t v = parse_cache_size(buf);
            if (v > best) best = v;
        }
        fclose(f);
    }
    return best;
}

/* The LLC size: sysfs first (glibc's sysconf misreports it on some virtual machines). */
size_t ew_membw_llc_bytes(void) {
    size_t v = llc_from_sysfs();
#ifdef _SC_LEVEL3_CACHE_SIZE
    if (!v) {
        long s = sysconf(_SC_LEVEL3_CACHE_SIZE);
        if (s <= 0) s = sysconf(_SC_LEVEL2_CACHE_SIZE);
        if (s > 0) v = (size_t)s;
    }
#endif
    return v;
}

/* max(256 MiB, 4 x LLC), at most 2 GiB. */
size_t ew_membw_default_bytes(void) {
    size_t b = EW_MAX(256 * MIB, 4 * ew_membw_llc_bytes());
    return EW_MIN(b, 2048 * MIB);
}

typedef struct bw_job {
    uint64_t *buf;
    size_t n_words;
    bool fill;                 /* first pass: write the pages (each thread its own slice) */
    uint64_t sink[256];        /* per-thread sums, so the reads are not optimised away */
} bw_job;

/* Sum of n 64-bit words, read in order with eight independent accumulators (n % 8 == 0). */
static uint64_t sum_words(const uint64_t *p, size_t n) {
    uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
    for (size_t i = 0; i < n; i += 8) {
        a0 += p[i + 0]; a1 += p[i + 1]; a2 += p[i + 2]; a3 += p[i + 3];
        a4 += p[i + 4]; a5 += p[i + 5]; a6 += p[i + 6]; a7 += p[i + 7];
    }
    return (a0 + a1) ^ (a2 + a3) ^ (a4 + a5) ^ (a6 + a7);
}

/* Pool task: thread ith fills or reads its slice [ith*n/nth, (ith+1)*n/nth), 64-byte aligned. */
static void bw_task(void *ctx, int ith, int nth) {
    bw_job *j = ctx;
    const size_t lines = j->n_words / 8;
    const size_t a = lines * (size_t)ith / (size_t)nth * 8, b = lines * (size_t)(ith + 1) / (size_t)nth * 8;
    if (j->fill) {
        for (size_t i = a; i < b; i++) j->buf[i] = i * 0x9E3779B97F4A7C15ull;
        return;
    }
    j->sink[ith & 255] += sum_words(j->buf + a, b - a);
}

/* Ascending sort of a few doubles. */
static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Time n_passes reads of the whole buffer; fills out (best and median GB/s). */
static void time_passes(ew_pool *pool, bw_job *j, size_t bytes, int n_passes, ew_membw_result *out) {
    double gbs[64];
    j->fill = false;
    ew_pool_run(pool, bw_task, j); /* untimed: frequency ramp, TLB */
    for (int p = 0; p < n_passes; p++) {
        double t0 = ew_time_s();
        ew_pool_run(pool, bw_task, j);
        double dt = ew_time_s() - t0;
        gbs[p] = dt > 0 ? (double)bytes / dt / 1e9 : 0;
    }
    qsort(gbs, (size_t)n_passes, sizeof gbs[0], cmp_double);
    out->gbs = gbs[n_passes - 1];
    out->gbs_median = gbs[n_passes / 2];
}

/* See membw.h. */
ew_status ew_membw_measure(int n_threads, size_t bytes, int n_passes, ew_membw_result *out) {
    if (!out || n_threads < 1 || n_threads > 256 || n_passes < 0 || n_passes > 64)
        return ew_error(EW_ERR_INVALID_ARG, "membw: n_threads must be in [1, 256] and passes in [0, 64]");
    memset(out, 0, sizeof *out);
    if (!bytes) bytes = ew_membw_default_bytes();
    if (!n_passes) n_passes = 8;
    bytes = (bytes + 63) & ~(size_t)63;
    void *buf = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED)
        return ew_error(EW_ERR_NOMEM, "membw: cannot map a %zu MiB buffer to measure read bandwidth", bytes / MIB);
    ew_pool *pool;
    ew_status st = ew_pool_new(n_threads, &pool);
    if (st) { munmap(buf, bytes); return st; }
    bw_job *j = ew_calloc(1, sizeof *j);
    if (!j) { ew_pool_free(pool); munmap(buf, bytes); return ew_error(EW_ERR_NOMEM, "out of memory"); }
    j->buf = buf;
    j->n_words = bytes / 8;
    j->fill = true;
    ew_pool_run(pool, bw_task, j);
    time_passes(pool, j, bytes, n_passes, out);
    out->bytes = bytes;
    out->n_threads = n_threads;
    out->n_passes = n_passes;
    ew_free(j);
    ew_pool_free(pool);
    munmap(buf, bytes);
    return EW_OK;
}
