/*
 * bench.h - llama-bench's method inside edgewatt (`edgewatt bench`), plus what llama-bench
 * does not report: CPU-seconds per token, peak RSS, and decode speed as a fraction of the
 * memory-bandwidth roofline (core/membw.h).
 *
 * One test is either pp (prefill: evaluate n_prompt random tokens from an empty cache, in
 * pieces of n_batch) or tg (generation: n_gen single-token evals from an empty cache). Each
 * test runs once untimed (warmup, as llama-bench: the whole prompt for pp, one token for
 * tg), then `reps` timed repetitions; t/s is the mean +/- sample stddev of the per-run rates.
 *
 *   ew_bench_model_desc d;  ew_bench_describe(m, "model.gguf", &d);
 *   ew_bench_test t = ew_bench_default_test();  t.n_gen = 128;  t.bandwidth_gbs = bw;
 *   ew_bench_result r;  ew_bench_run(m, &t, &r);
 *   ew_bench_write_row(stdout, EW_BENCH_MD, &d, &r, first);
 */
#ifndef EW_BENCH_H
#define EW_BENCH_H

#include "core/core.h"
#include <stdio.h>

#define EW_BENCH_MAX_REPS 100

/* What a result row says about the model. */
typedef struct ew_bench_model_desc {
    char name[160];        /* "smollm2-135m Q8_0": synth preset (else general.name, else the
                              file's base name) + file type */
    char type[128];        /* llama-bench's model_type style: "llama 135M Q8_0" */
    char filename[1024];   /* the path, or "synth:PRESET:TYPE" for an in-memory model */
    uint64_t size_bytes;   /* bytes of the weight tensors */
    uint64_t n_params;
    double load_ms;        /* set by the caller: the mmap load, or the load from memory */
    bool use_mmap;         /* loaded from a file (true) or built in memory (false) */
} ew_bench_model_desc;

typedef struct ew_bench_test {
    int n_prompt;          /* pp: tokens to prefill (then n_gen = 0) */
    int n_gen;             /* tg: tokens to generate (then n_prompt = 0) */
    int n_threads;         /* >= 1 */
    int n_batch;           /* prefill piece (default 512, llama-bench's -ub) */
    int reps;              /* timed repetitions, 1..EW_BENCH_MAX_REPS (default 5) */
    ew_kv_type kv_type;    /* default F16 */
    double bandwidth_gbs;  /* measured read bandwidth at n_threads (0 = unknown: no roofline) */
} ew_bench_test;

typedef struct ew_bench_result {
    ew_bench_test t;
    int n_samples;
    double samples_ns[EW_BENCH_MAX_REPS], samples_ts[EW_BENCH_MAX_REPS];
    double avg_ns, stddev_ns, avg_ts, stddev_ts;
    double cpu_s_per_token;   /* process CPU time (all threads) over the timed runs / tokens */
    double bytes_per_token;   /* tg: bytes read per decoded token (ew_bench_decode_bytes); pp: 0 */
    double roofline_pct;      /* tg with a bandwidth: t/s * bytes_per_token / bandwidth; else -1 */
    uint64_t peak_rss_bytes;  /* peak RSS over session creation + runs (model resident included) */
    char test_time[32];       /* UTC start, ISO 8601 */
} ew_bench_result;

/* pp/tg 0, 1 thread, n_batch 512, 5 reps, F16 cache, no bandwidth. */
ew_bench_test ew_bench_default_test(void);

/* Fill d from a loaded model (load_ms and use_mmap are left for the caller). filename is
 * copied as given. */
void ew_bench_describe(const ew_model *m, const char *filename, ew_bench_model_desc *d);

/* Bytes one decode step reads: every weight tensor except the token embedding, of which one
 * row (all of it when tied to the output), plus the KV cache of kv_positions positions
 * (K and V, every layer). */
double ew_bench_decode_bytes(const ew_model *m, ew_kv_type kv_type, double kv_positions);

/* Run one test (warmup + reps) on a fresh session; fills r. EW_ERR_INVALID_ARG for a test
 * that is not exactly one of pp/tg or has reps/threads/batch out of range. */
ew_status ew_bench_run(ew_model *m, const ew_bench_test *t, ew_bench_result *r);

/* Start a new peak-RSS window (Linux: /proc/self/clear_refs "5"); false if unsupported. */
bool ew_bench_rss_reset_peak(void);
/* Peak RSS since the last reset (VmHWM), else the process peak (getrusage). */
uint64_t ew_bench_rss_peak(void);

/* ---- report (bench_report.c) ------------------------------------------------------------- */

typedef enum ew_bench_format { EW_BENCH_MD = 0, EW_BENCH_JSON, EW_BENCH_CSV } ew_bench_format;

/* Parse "md" | "json" | "csv"; -1 otherwise. */
int ew_bench_format_from_name(const char *s);
/* Write one result. first: the first row of the output (md/csv header, json "[").
 * backend: "CPU (avx512 ...)" text for the backend column. */
void ew_bench_write_row(FILE *f, ew_bench_format fmt, const ew_bench_model_desc *d, const ew_bench_result *r,
                        const char *backend, bool first);
/* Close the output after the last row (json "]"; nothing for md/csv). any_rows: whether a
 * row was written (an empty json output is "[]"). */
void ew_bench_write_end(FILE *f, ew_bench_format fmt, bool any_rows);

/* "pp512" / "tg128". */
void ew_bench_test_name(const ew_bench_test *t, char *buf, size_t cap);
/* llama-bench's size and params columns: "138.10 MiB", "1.10 GiB"; "134.52 M", "1.10 B". */
void ew_bench_fmt_size(uint64_t bytes, char *buf, size_t cap);
void ew_bench_fmt_params(uint64_t n, char *buf, size_t cap);

#endif
