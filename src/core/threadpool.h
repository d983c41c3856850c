/*
 * threadpool.h - a pool of worker threads created once (at model/session load) and reused
 * for every kernel call. The caller's thread takes part as thread 0.
 *
 * Workers spin for a short, bounded time waiting for the next job (the token loop issues
 * hundreds of jobs per token), then block on a futex/condvar so an idle pool burns no CPU.
 */
#ifndef EW_THREADPOOL_H
#define EW_THREADPOOL_H

#include "core/core.h"

typedef struct ew_pool ew_pool;

/* fn runs once on each of the nth threads with ith = 0..nth-1 (ith 0 = the caller). */
typedef void (*ew_task_fn)(void *ctx, int ith, int nth);
/* fn runs on [start, end) item ranges handed out by an atomic counter in chunks. */
typedef void (*ew_range_fn)(void *ctx, int64_t start, int64_t end, int ith);

/* n_threads >= 1 (1 = no worker threads, everything on the caller). */
ew_status ew_pool_new(int n_threads, ew_pool **out);
void ew_pool_free(ew_pool *p);
int ew_pool_size(const ew_pool *p);

/* Run fn on all threads and return when every thread has finished. Not re-entrant. */
void ew_pool_run(ew_pool *p, ew_task_fn fn, void *ctx);
/* Split [0, n) into chunks of `chunk` items (0 = automatic: about 4 chunks per thread),
 * hand them out dynamically, and return when all are done. */
void ew_pool_for(ew_pool *p, int64_t n, int64_t chunk, ew_range_fn fn, void *ctx);

#endif
