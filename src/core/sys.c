/* sys.c - clocks, resource usage and whole-file reads. */
#include "core.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

uint64_t ew_time_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

double ew_time_s(void) { return (double)ew_time_ns() * 1e-9; }

double ew_cpu_time_s(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

uint64_t ew_peak_rss_bytes(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
#if defined(__APPLE__)
    return (uint64_t)ru.ru_maxrss;
#else
    return (uint64_t)ru.ru_maxrss * 1024ull;
#endif
}

ew_status ew_read_file(const char *path, char **data, size_t *size) {
    *data = NULL;
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return ew_error(EW_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = ew_malloc(cap);
    if (!buf) { fclose(f); return ew_error(EW_ERR_NOMEM, "%s: out of memory", path); }
    for (;;) {
        if (n + 1 >= cap) {
            if (cap > ((size_t)1 << 40)) { ew_free(buf); fclose(f); return ew_error(EW_ERR_RANGE, "%s: file too large", path); }
            char *nb = ew_realloc(buf, cap * 2);
            if (!nb) { ew_free(buf); fclose(f); return ew_error(EW_ERR_NOMEM, "%s: out of memory reading %zu bytes", path, cap * 2); }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0) break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) { ew_free(buf); return ew_error(EW_ERR_IO, "%s: read error", path); }
    buf[n] = 0;
    *data = buf;
    *size = n;
    return EW_OK;
}
