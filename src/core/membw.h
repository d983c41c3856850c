/*
 * membw.h - the machine's memory read bandwidth, measured by edgewatt itself: the ceiling of
 * decode speed (tokens/s <= bandwidth / bytes read per token), so `bench` can report every
 * decode figure as a fraction of it.
 *
 * Method: n threads (the caller + a pool) each stream-read their own slice of a buffer much
 * larger than the last-level cache (max(256 MiB, 4 x LLC)), summing 64-bit words in several
 * independent accumulators; one untimed pass first (page faults, frequency ramp), then the
 * best of several timed passes (as STREAM reports its best). The buffer is anonymous memory
 * with ordinary pages, like the model's weights, and is unmapped before returning.
 */
#ifndef EW_MEMBW_H
#define EW_MEMBW_H

#include "core/core.h"

typedef struct ew_membw_result {
    double gbs;          /* best pass: bytes / second / 1e9 */
    double gbs_median;   /* median pass, for a sense of the noise */
    size_t bytes;        /* buffer size read per pass */
    int n_threads, n_passes;
} ew_membw_result;

/* Size of the last-level cache in bytes (sysfs, then sysconf), 0 if unknown. */
size_t ew_membw_llc_bytes(void);
/* Default buffer size: max(256 MiB, 4 x LLC), capped at 2 GiB. */
size_t ew_membw_default_bytes(void);

/* Measure read bandwidth with n_threads threads (>= 1) over a buffer of `bytes` (0 = the
 * default) in n_passes timed passes (0 = 8). EW_ERR_NOMEM if the buffer cannot be mapped. */
ew_status ew_membw_measure(int n_threads, size_t bytes, int n_passes, ew_membw_result *out);

#endif
