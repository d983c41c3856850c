/* test_threadpool.c - ew_pool: every thread runs once per job, ew_pool_for covers [0, n)
 * exactly once, no lost wakeups over many back-to-back jobs, an idle pool sleeps. Prints the
 * dispatch latency (not asserted: the CI machine is shared). */
#include "core/threadpool.h"
#include "test.h"
#include <stdatomic.h>
#include <time.h>

#define MAX_T 8

typedef struct run_ctx {
    _Atomic int hits[MAX_T];
    _Atomic int bad_nth;
} run_ctx;

/* Count one hit for thread ith; flag an nth that disagrees with the pool. */
static void count_task(void *ctx, int ith, int nth) {
    run_ctx *c = ctx;
    if (ith < 0 || ith >= MAX_T || nth < 1 || nth > MAX_T) { atomic_fetch_add(&c->bad_nth, 1); return; }
    atomic_fetch_add(&c->hits[ith], 1);
}

/* Every thread id 0..n-1 runs exactly once per ew_pool_run, for pools of 1..8 threads. */
static void test_run_each_thread_once(void) {
    for (int n = 1; n <= MAX_T; n++) {
        ew_pool *p = NULL;
        CHECK_OK(ew_pool_new(n, &p));
        if (!p) continue;
        CHECK(ew_pool_size(p) == n);
        run_ctx c;
        memset(&c, 0, sizeof c);
        const int reps = 200;
        for (int r = 0; r < reps; r++) ew_pool_run(p, count_task, &c);
        for (int i = 0; i < MAX_T; i++)
            CHECKF(atomic_load(&c.hits[i]) == (i < n ? reps : 0), "n=%d ith=%d hits=%d", n, i,
                   atomic_load(&c.hits[i]));
        CHECK(atomic_load(&c.bad_nth) == 0);
        ew_pool_free(p);
    }
}

typedef struct for_ctx {
    _Atomic unsigned char *seen;
    int64_t n, chunk;
    _Atomic int bad;
} for_ctx;

/* Mark items [start, end); flag empty/out-of-range/over-long ranges. */
static void mark_range(void *ctx, int64_t start, int64_t end, int ith) {
    for_ctx *c = ctx;
    if (start < 0 || end > c->n || start >= end || (c->chunk > 0 && end - start > c->chunk) ||
        ith < 0 || ith >= MAX_T) {
        atomic_fetch_add(&c->bad, 1);
        return;
    }
    for (int64_t i = start; i < end; i++) atomic_fetch_add(&c->seen[i], 1);
}

/* ew_pool_for covers [0, n) exactly once for awkward n and chunk sizes. */
static void test_for_coverage(void) {
    static const int64_t ns[] = {0, 1, 2, 3, 7, 13, 64, 1000, 1023, 4097};
    static const int64_t chunks[] = {0, 1, 7, 64, 100000};
    static _Atomic unsigned char seen[4097];
    for (int t = 1; t <= 4; t++) {
        ew_pool *p = NULL;
        CHECK_OK(ew_pool_new(t, &p));
        if (!p) continue;
        for (size_t a = 0; a < EW_ARRAY_LEN(ns); a++) {
            for (size_t b = 0; b < EW_ARRAY_LEN(chunks); b++) {
                for (int64_t i = 0; i < ns[a]; i++) atomic_store(&seen[i], 0);
                for_ctx c = {.seen = seen, .n = ns[a], .chunk = chunks[b]};
                ew_pool_for(p, ns[a], chunks[b], mark_range, &c);
                int64_t wrong = 0;
                for (int64_t i = 0; i < ns[a]; i++) wrong += atomic_load(&seen[i]) != 1;
                CHECKF(wrong == 0 && atomic_load(&c.bad) == 0,
                       "threads=%d n=%lld chunk=%lld: %lld items not covered once, %d bad ranges",
                       t, (long long)ns[a], (long long)chunks[b], (long long)wrong,
                       atomic_load(&c.bad));
            }
        }
        ew_pool_free(p);
    }
}

/* Add (ith + 1) to a shared sum: a tiny job. */
static void sum_task(void *ctx, int ith, int nth) {
    atomic_fetch_add((_Atomic int64_t *)ctx, ith + 1);
}

/* 100k back-to-back tiny jobs all complete with every thread's contribution (a lost wakeup
 * would hang or drop a contribution). Also prints the mean dispatch latency. */
static void test_many_jobs(int n_threads, int jobs) {
    ew_pool *p = NULL;
    CHECK_OK(ew_pool_new(n_threads, &p));
    if (!p) return;
    _Atomic int64_t sum = 0;
    for (int i = 0; i < 1000; i++) ew_pool_run(p, sum_task, &sum); /* warm up */
    atomic_store(&sum, 0);
    uint64_t t0 = ew_time_ns();
    for (int i = 0; i < jobs; i++) ew_pool_run(p, sum_task, &sum);
    uint64_t t1 = ew_time_ns();
    int64_t per_job = (int64_t)n_threads * (n_threads + 1) / 2;
    CHECKF(atomic_load(&sum) == per_job * jobs, "threads=%d: sum %lld, expected %lld", n_threads,
           (long long)atomic_load(&sum), (long long)(per_job * jobs));
    printf("threads=%d: %d empty jobs, mean dispatch+join %.2f us\n", n_threads, jobs,
           (double)(t1 - t0) / jobs / 1000.0);
    ew_pool_free(p);
}

/* Jobs issued after the workers fell asleep (gaps longer than the spin) still complete. */
static void test_jobs_after_sleep(void) {
    ew_pool *p = NULL;
    CHECK_OK(ew_pool_new(3, &p));
    if (!p) return;
    _Atomic int64_t sum = 0;
    struct timespec ts = {0, 2 * 1000 * 1000};
    for (int i = 0; i < 20; i++) {
        nanosleep(&ts, NULL);
        ew_pool_run(p, sum_task, &sum);
    }
    CHECK(atomic_load(&sum) == 20 * 6);
    /* gaps around the spin limit (0..100 us) exercise the spin -> block hand-over */
    atomic_store(&sum, 0);
    for (int i = 0; i < 3000; i++) {
        uint64_t until = ew_time_ns() + (uint64_t)(i * 7919 % 100) * 1000;
        while (ew_time_ns() < until) {}
        ew_pool_run(p, sum_task, &sum);
    }
    CHECK(atomic_load(&sum) == 3000 * 6);
    ew_pool_free(p);
}

/* An idle pool blocks: CPU time over 200 ms of idleness stays well under half a core. */
static void test_idle_cpu(void) {
    ew_pool *p = NULL;
    CHECK_OK(ew_pool_new(4, &p));
    if (!p) return;
    _Atomic int64_t sum = 0;
    for (int i = 0; i < 100; i++) ew_pool_run(p, sum_task, &sum);
    double c0 = ew_cpu_time_s(), w0 = ew_time_s();
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
    double cpu = ew_cpu_time_s() - c0, wall = ew_time_s() - w0;
    printf("idle pool: %.1f ms CPU over %.1f ms wall\n", cpu * 1e3, wall * 1e3);
    CHECKF(cpu < 0.5 * wall, "idle pool used %.3f s CPU in %.3f s", cpu, wall);
    ew_pool_free(p);
}

/* Bad thread counts are rejected with a message. */
static void test_invalid(void) {
    ew_pool *p = (ew_pool *)1;
    CHECK(ew_pool_new(0, &p) == EW_ERR_INVALID_ARG);
    CHECK(p == NULL);
    CHECK(strstr(ew_last_error(), "n_threads") != NULL);
    CHECK(ew_pool_new(-3, &p) == EW_ERR_INVALID_ARG);
}

int main(void) {
    test_invalid();
    test_run_each_thread_once();
    test_for_coverage();
    test_jobs_after_sleep();
    test_many_jobs(2, 100000);
    test_many_jobs(4, 20000);
    test_idle_cpu();
    return ew_test_end();
}
