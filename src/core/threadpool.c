/*
 * threadpool.c - worker threads created once; jobs dispatched by a generation counter.
 *
 * Dispatch: the caller publishes (fn, ctx), sets `pending` = n-1 and bumps `gen`; each worker
 * waits for `gen` to change, runs fn, and decrements `pending`; the caller runs its own share
 * as thread 0 and then waits for `pending` to reach 0.
 *
 * Waiting (both sides) = spin on the atomic with a pause instruction for a bounded time
 * (EW_POOL_SPIN_NS, default 50 us: hot workers pick up the next job in well under that;
 * every ~64 pauses the spinner also calls sched_yield(), which costs nothing on an idle core
 * and lets a runnable peer in when threads outnumber free cores), then block: futex on Linux, a mutex + condvar elsewhere. A sleeper first registers itself
 * (`sleepers` / `caller_sleeping`) and then re-checks the word; a waker first changes the word
 * and then checks the registration. All these accesses are seq_cst, so at least one side
 * sees the other's write (Dekker) and no wakeup is lost; the futex call re-checks the word in
 * the kernel. Wakers skip the syscall entirely when nobody sleeps.
 *
 * No allocation after ew_pool_new.
 */
#include "core/threadpool.h"

#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#if defined(__linux__) && !defined(EW_NO_FUTEX) /* -DEW_NO_FUTEX tests the fallback */
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#define EW_HAVE_FUTEX 1
#endif

#define EW_POOL_MAX_THREADS 1024
#define EW_POOL_SPIN_NS 50000ull
#define EW_CACHE_LINE 64

typedef struct ew_worker {
    pthread_t thread;
    ew_pool *pool;
    int ith;
} ew_worker;

struct ew_pool {
    int n;                        /* threads including the caller */
    ew_worker *workers;           /* n-1 entries */
    ew_task_fn fn;                /* current job (written before gen is bumped) */
    void *ctx;
    bool stop;                    /* written before the final gen bump */
    /* ew_pool_for state */
    ew_range_fn range_fn;
    void *range_ctx;
    int64_t range_n, range_chunk, range_n_chunks;
    _Alignas(EW_CACHE_LINE) _Atomic int64_t next_chunk;
    _Alignas(EW_CACHE_LINE) _Atomic uint32_t gen;       /* futex word: job generation */
    _Atomic int sleepers;                               /* workers blocked (or about to) */
    _Alignas(EW_CACHE_LINE) _Atomic uint32_t pending;   /* futex word: workers still busy */
    _Atomic int caller_sleeping;
#if !defined(EW_HAVE_FUTEX)
    pthread_mutex_t mu;
    pthread_cond_t cv;
#endif
};

/* One pause/yield hint for spin loops. */
static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#endif
}

/* Block while *word == expected (may return spuriously; callers loop). */
static void block_on(ew_pool *p, _Atomic uint32_t *word, uint32_t expected) {
#if defined(EW_HAVE_FUTEX)
    (void)p;
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
#else
    pthread_mutex_lock(&p->mu);
    if (atomic_load(word) == expected) pthread_cond_wait(&p->cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
#endif
}

/* Wake every thread blocked on word (call after changing *word). */
static void wake_all(ew_pool *p, _Atomic uint32_t *word) {
#if defined(EW_HAVE_FUTEX)
    (void)p;
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
#else
    (void)word;
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
#endif
}

/* Spin up to EW_POOL_SPIN_NS while (*word == value) == equal; true if that ended. */
static bool spin_while(_Atomic uint32_t *word, uint32_t value, bool equal) {
    uint64_t deadline = 0;
    for (unsigned i = 1;; i++) {
        if ((atomic_load_explicit(word, memory_order_acquire) == value) != equal) return true;
        cpu_relax();
        if ((i & 63) == 0) {
            uint64_t now = ew_time_ns();
            if (!deadline) deadline = now + EW_POOL_SPIN_NS;
            else if (now >= deadline) return false;
            sched_yield(); /* lets a runnable peer in when threads outnumber free cores */
        }
    }
}

/* Worker side: wait until gen differs from seen; returns the new generation. */
static uint32_t wait_for_job(ew_pool *p, uint32_t seen) {
    if (!spin_while(&p->gen, seen, true)) {
        for (;;) {
            atomic_fetch_add(&p->sleepers, 1);
            if (atomic_load(&p->gen) == seen) block_on(p, &p->gen, seen);
            atomic_fetch_sub(&p->sleepers, 1);
            if (atomic_load(&p->gen) != seen) break;
        }
    }
    return atomic_load_explicit(&p->gen, memory_order_acquire);
}

/* Caller side: wait until every worker has finished the current job (pending == 0). */
static void wait_for_workers(ew_pool *p) {
    if (spin_while(&p->pending, 0, false)) return;
    atomic_store(&p->caller_sleeping, 1);
    uint32_t v;
    while ((v = atomic_load(&p->pending)) != 0) block_on(p, &p->pending, v);
    atomic_store(&p->caller_sleeping, 0);
}

/* Worker thread body: run each published job once, until stop. */
static void *worker_main(void *arg) {
    ew_worker *w = arg;
    ew_pool *p = w->pool;
    uint32_t seen = 0;
    for (;;) {
        seen = wait_for_job(p, seen);
        if (p->stop) break;
        p->fn(p->ctx, w->ith, p->n);
        if (atomic_fetch_sub(&p->pending, 1) == 1 && /* seq_cst (Dekker) */
            atomic_load(&p->caller_sleeping))
            wake_all(p, &p->pending);
    }
    return NULL;
}

/* Publish (fn, ctx) (or the stop flag) to the workers and wake the sleepers. */
static void publish(ew_pool *p) {
    atomic_store_explicit(&p->pending, (uint32_t)(p->n - 1), memory_order_relaxed);
    atomic_fetch_add(&p->gen, 1); /* seq_cst: releases fn/ctx/stop/pending */
    if (atomic_load(&p->sleepers) > 0) wake_all(p, &p->gen);
}

/* Stop and join the first n_started workers. */
static void stop_workers(ew_pool *p, int n_started) {
    p->stop = true;
    publish(p);
    for (int i = 0; i < n_started; i++) pthread_join(p->workers[i].thread, NULL);
}

/* Create a pool of n_threads (the caller counts as one). Errors: INVALID_ARG for n_threads
 * outside 1..1024, NOMEM, INTERNAL if a thread cannot be created. */
ew_status ew_pool_new(int n_threads, ew_pool **out) {
    if (!out) return ew_error(EW_ERR_INVALID_ARG, "ew_pool_new: out is NULL");
    *out = NULL;
    if (n_threads < 1 || n_threads > EW_POOL_MAX_THREADS)
        return ew_error(EW_ERR_INVALID_ARG, "thread pool: n_threads = %d, expected 1..%d",
                        n_threads, EW_POOL_MAX_THREADS);
    ew_pool *p = ew_malloc_aligned(sizeof *p);
    if (!p) return ew_error(EW_ERR_NOMEM, "thread pool: out of memory");
    memset(p, 0, sizeof *p);
    p->n = n_threads;
#if !defined(EW_HAVE_FUTEX)
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
#endif
    if (n_threads > 1) {
        p->workers = ew_calloc((size_t)n_threads - 1, sizeof *p->workers);
        if (!p->workers) { ew_pool_free(p); return ew_error(EW_ERR_NOMEM, "thread pool: out of memory"); }
    }
    for (int i = 0; i < n_threads - 1; i++) {
        p->workers[i].pool = p;
        p->workers[i].ith = i + 1;
        int rc = pthread_create(&p->workers[i].thread, NULL, worker_main, &p->workers[i]);
        if (rc != 0) {
            stop_workers(p, i);
            p->n = 1; /* nothing left to join in ew_pool_free */
            ew_pool_free(p);
            return ew_error(EW_ERR_INTERNAL, "thread pool: cannot create thread %d of %d: %s",
                            i + 1, n_threads, strerror(rc));
        }
    }
    *out = p;
    return EW_OK;
}

/* Join the workers and free the pool. NULL is a no-op. */
void ew_pool_free(ew_pool *p) {
    if (!p) return;
    if (p->n > 1 && p->workers) stop_workers(p, p->n - 1);
#if !defined(EW_HAVE_FUTEX)
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
#endif
    ew_free(p->workers);
    ew_free_aligned(p);
}

/* Threads in the pool, the caller included. */
int ew_pool_size(const ew_pool *p) { return p ? p->n : 1; }

/* Run fn(ctx, ith, n) on every thread (ith 0 on the caller); return when all are done. */
void ew_pool_run(ew_pool *p, ew_task_fn fn, void *ctx) {
    if (p->n == 1) {
        fn(ctx, 0, 1);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    publish(p);
    fn(ctx, 0, p->n);
    wait_for_workers(p);
}

/* Task of ew_pool_for: take chunk indices from the shared counter until none are left. */
static void range_task(void *ctx, int ith, int nth) {
    ew_pool *p = ctx;
    (void)nth;
    for (;;) {
        int64_t c = atomic_fetch_add_explicit(&p->next_chunk, 1, memory_order_relaxed);
        if (c >= p->range_n_chunks) break;
        int64_t start = c * p->range_chunk;
        int64_t end = p->range_n - start < p->range_chunk ? p->range_n : start + p->range_chunk;
        p->range_fn(p->range_ctx, start, end, ith);
    }
}

/* Run fn over [0, n) in chunks of `chunk` items (0 = about 4 chunks per thread) handed out
 * dynamically; return when all are done. n <= 0 does nothing. */
void ew_pool_for(ew_pool *p, int64_t n, int64_t chunk, ew_range_fn fn, void *ctx) {
    if (n <= 0) return;
    if (chunk <= 0) {
        int64_t parts = 4 * (int64_t)p->n;
        chunk = n / parts + (n % parts != 0);
    }
    if (chunk > n) chunk = n;
    if (p->n == 1) {
        for (int64_t s = 0; s < n;) {
            int64_t e = n - s <= chunk ? n : s + chunk;
            fn(ctx, s, e, 0);
            s = e;
        }
        return;
    }
    p->range_fn = fn;
    p->range_ctx = ctx;
    p->range_n = n;
    p->range_chunk = chunk;
    p->range_n_chunks = n / chunk + (n % chunk != 0);
    atomic_store_explicit(&p->next_chunk, 0, memory_order_relaxed);
    ew_pool_run(p, range_task, p);
}
