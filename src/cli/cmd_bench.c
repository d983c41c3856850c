/*
 * cmd_bench.c - `edgewatt bench`: llama-bench's pp/tg tests on model files or on synthetic
 * models built in memory (--like), with CPU-seconds per token, peak RSS and decode as a
 * percentage of the read-bandwidth roofline that edgewatt measures itself. The measuring is
 * in src/bench (bench.h) and src/core/membw.h; this file parses flags and loops.
 */
#include "cli/cli.h"
#include "bench/bench.h"
#include "core/cpu.h"
#include "core/membw.h"
#include "model/synth.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define VERB "bench"
#define MAX_LIST 16
#define MAX_MODELS 64
/* cli_fail for the helpers that return bool: prints the line, gives false. */
#define FAIL(...) (cli_fail(VERB, __VA_ARGS__), false)

static const char *k_help =
    "usage: edgewatt bench (-m FILE | --like PRESET[:TYPE]) [-m ...] [flags]\n"
    "llama-bench's tests: pp = prefill of p random tokens, tg = generation of n tokens one at\n"
    "a time, each from an empty cache; one warmup run, then -r timed runs (t/s mean +/- stddev).\n"
    "Also: CPU-seconds per token, peak RSS, and tg as a %% of the memory-bandwidth roofline\n"
    "(bytes read per token / read bandwidth measured here with the test's thread count).\n"
    "  -m, --model FILE          GGUF model (repeatable)\n"
    "  --like PRESET[:TYPE]      synthetic model of a preset, built in memory (TYPE default Q8_0;\n"
    "                            see edgewatt synth --list): its speed before you download it\n"
    "  -p, --n-prompt N[,N...]   prompt lengths (default 512; 0 = no pp test)\n"
    "  -n, --n-gen N[,N...]      generated tokens (default 128; 0 = no tg test)\n"
    "  -t, --threads N[,N...]    thread counts to sweep (default: physical cores)\n"
    "  -r, --repetitions N       timed runs per test (default 5)\n"
    "  -b, --batch N             prefill batch (llama-bench's -ub; default 512)\n"
    "  --kv-type f16|f32         KV cache type (default f16)\n"
    "  --bw-mib N                buffer for the bandwidth measurement (default max(256, 4 x LLC))\n"
    "  -o, --output md|json|csv  output format (default md)\n";

typedef struct bench_model_arg { const char *arg; bool like; } bench_model_arg;

typedef struct bench_opts {
    bench_model_arg models[MAX_MODELS];
    int n_models;
    long prompts[MAX_LIST], gens[MAX_LIST], threads[MAX_LIST];
    int n_prompts, n_gens, n_threads;
    long reps, batch, bw_mib;
    ew_kv_type kv;
    ew_bench_format fmt;
} bench_opts;

/* Parse "N[,N...]" into out (each in [lo, hi]); false after printing an error. */
static bool parse_list(const char *flag, const char *s, long lo, long hi, long *out, int *n) {
    char buf[256];
    if (strlen(s) >= sizeof buf) return FAIL("%s: list too long", flag);
    snprintf(buf, sizeof buf, "%s", s);
    *n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (*n == MAX_LIST) return FAIL("%s: at most %d values", flag, MAX_LIST);
        if (!cli_parse_int(VERB, flag, tok, lo, hi, &out[*n])) return false;
        (*n)++;
    }
    if (*n == 0) return FAIL("%s expects N[,N...], got '%s'", flag, s);
    return true;
}

/* Add a model argument; false after printing an error. */
static bool add_model(bench_opts *o, const char *arg, bool like) {
    if (o->n_models == MAX_MODELS) return FAIL("at most %d models", MAX_MODELS);
    o->models[o->n_models++] = (bench_model_arg){arg, like};
    return true;
}

/* One flag with its value v; false after printing an error. */
static bool parse_flag(bench_opts *o, const char *a, const char *v) {
#define IS(x, y) (!strcmp(a, x) || !strcmp(a, y))
    if (IS("-m", "--model")) return add_model(o, v, false);
    if (IS("--like", "--like")) return add_model(o, v, true);
    if (IS("-p", "--n-prompt")) return parse_list(a, v, 0, 1 << 20, o->prompts, &o->n_prompts);
    if (IS("-n", "--n-gen")) return parse_list(a, v, 0, 1 << 20, o->gens, &o->n_gens);
    if (IS("-t", "--threads")) return parse_list(a, v, 1, 256, o->threads, &o->n_threads);
    if (IS("-r", "--repetitions")) return cli_parse_int(VERB, a, v, 1, EW_BENCH_MAX_REPS, &o->reps);
    if (IS("-b", "--batch")) return cli_parse_int(VERB, a, v, 1, 1 << 20, &o->batch);
    if (IS("--bw-mib", "--bw-mib")) return cli_parse_int(VERB, a, v, 16, 1 << 16, &o->bw_mib);
    if (IS("--kv-type", "--kv-type")) {
        if (!strcmp(v, "f16")) o->kv = EW_KV_F16;
        else if (!strcmp(v, "f32")) o->kv = EW_KV_F32;
        else return FAIL("--kv-type expects f16 or f32, got '%s'", v);
        return true;
    }
    if (IS("-o", "--output")) {
        int f = ew_bench_format_from_name(v);
        if (f < 0) return FAIL("-o expects md, json or csv, got '%s'", v);
        o->fmt = (ew_bench_format)f;
        return true;
    }
#undef IS
    return FAIL("unknown flag '%s' (see edgewatt bench --help)", a);
}

/* 0 = run, 1 = error (reported), 2 = help printed. */
static int parse_args(int argc, char **argv, bench_opts *o) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(k_help, stdout); return 2; }
        if (a[0] != '-') { cli_fail(VERB, "unexpected argument '%s' (models go after -m)", a); return 1; }
        if (i + 1 >= argc) { cli_fail(VERB, "%s needs a value (or is unknown; see --help)", a); return 1; }
        if (!parse_flag(o, a, argv[++i])) return 1;
    }
    if (!o->n_models) { cli_fail(VERB, "no model: pass -m FILE.gguf or --like PRESET[:TYPE]"); return 1; }
    bool any = false;
    for (int i = 0; i < o->n_prompts; i++) any |= o->prompts[i] > 0;
    for (int i = 0; i < o->n_gens; i++) any |= o->gens[i] > 0;
    if (!any) { cli_fail(VERB, "nothing to run: -p and -n are both 0"); return 1; }
    return 0;
}

/* Split "PRESET[:TYPE]" into preset (buf) and type (default Q8_0). */
static const char *split_like(const char *arg, char *preset, size_t cap) {
    snprintf(preset, cap, "%s", arg);
    char *colon = strchr(preset, ':');
    if (!colon) return "Q8_0";
    *colon = 0;
    return colon + 1;
}

/* Check every model argument before the (slow) measurements: files open, presets and types
 * exist. False after printing the error. */
static bool validate_models(const bench_opts *o) {
    for (int i = 0; i < o->n_models; i++) {
        const bench_model_arg *a = &o->models[i];
        if (a->like) {
            char preset[128];
            const char *type = split_like(a->arg, preset, sizeof preset);
            ew_synth *s;
            if (ew_synth_new(preset, type, 1, &s) != EW_OK) return FAIL("--like %s: %s", a->arg, ew_last_error());
            ew_synth_free(s);
        } else {
            FILE *f = fopen(a->arg, "rb");
            if (!f) return FAIL("%s: cannot open: %s", a->arg, strerror(errno));
            fclose(f);
        }
    }
    return true;
}

/* Read bandwidth for each thread count (before any model is loaded), GB/s into bw[]. */
static bool measure_bandwidth(const bench_opts *o, double *bw) {
    const size_t llc = ew_membw_llc_bytes();
    if (o->bw_mib && ((size_t)o->bw_mib << 20) < 4 * llc)
        fprintf(stderr, "edgewatt bench: warning: --bw-mib %ld is less than 4 x the last-level cache (%zu MiB): "
                "cache hits inflate the bandwidth\n", o->bw_mib, llc >> 20);
    for (int i = 0; i < o->n_threads; i++) {
        ew_membw_result r;
        if (ew_membw_measure((int)o->threads[i], (size_t)o->bw_mib << 20, 0, &r) != EW_OK)
            return FAIL("%s", ew_last_error());
        bw[i] = r.gbs;
        fprintf(stderr, "edgewatt bench: read bandwidth, %d thread%s: %.1f GB/s (best of %d passes over %zu MiB; median %.1f)\n",
                r.n_threads, r.n_threads > 1 ? "s" : "", r.gbs, r.n_passes, r.bytes >> 20, r.gbs_median);
    }
    ew_bench_rss_reset_peak(); /* the buffer is gone: start the RSS window afresh */
    return true;
}

/* Build PRESET[:TYPE] in memory and load it; the load from memory is timed. */
static ew_status load_like(const char *arg, const ew_model_params *mp, ew_model **m, char *fname, size_t cap,
                           double *load_ms) {
    char preset[128];
    const char *type = split_like(arg, preset, sizeof preset);
    ew_synth *s;
    ew_status st = ew_synth_new(preset, type, 1, &s);
    if (st) return st;
    const double t0 = ew_time_s();
    void *data;
    size_t size;
    if ((st = ew_synth_write_mem(s, &data, &size)) == EW_OK) {
        snprintf(fname, cap, "synth:%s:%s", preset, ew_synth_get_plan(s)->ftype_name);
        fprintf(stderr, "edgewatt bench: built %s in memory (%.1f MiB) in %.1f s\n", fname, size / 1048576.0,
                ew_time_s() - t0);
        ew_bench_rss_reset_peak();
        const double t1 = ew_time_s();
        st = ew_model_load_memory(data, size, true, fname, mp, m);
        *load_ms = (ew_time_s() - t1) * 1e3;
    }
    ew_synth_free(s);
    return st;
}

/* Load model argument a (file: the mmap load is timed); fill d. */
static ew_status load_model(const bench_model_arg *a, int n_threads, ew_model **m, ew_bench_model_desc *d) {
    ew_model_params mp = ew_model_default_params();
    mp.n_threads = n_threads;
    char fname[1024];
    double load_ms = 0;
    ew_status st;
    if (a->like) {
        st = load_like(a->arg, &mp, m, fname, sizeof fname, &load_ms);
    } else {
        snprintf(fname, sizeof fname, "%s", a->arg);
        ew_bench_rss_reset_peak();
        const double t0 = ew_time_s();
        st = ew_model_load(a->arg, &mp, m);
        load_ms = (ew_time_s() - t0) * 1e3;
    }
    if (st) return st;
    ew_bench_describe(*m, fname, d);
    d->load_ms = load_ms;
    d->use_mmap = !a->like;
    fprintf(stderr, "edgewatt bench: %s: loaded in %.1f ms (%s)\n", d->name, load_ms, a->like ? "from memory" : "mmap");
    return EW_OK;
}

/* A decode faster than the bandwidth allows is a sign of a broken measurement: say so. */
static void warn_roofline(const ew_bench_model_desc *d, const ew_bench_result *r) {
    if (r->roofline_pct <= 120) return;
    char test[32];
    ew_bench_test_name(&r->t, test, sizeof test);
    fprintf(stderr, "edgewatt bench: warning: %s %s runs at %.0f%% of the measured bandwidth roofline: the "
            "weights fit in the caches, or the kernels skip work\n", d->name, test, r->roofline_pct);
}

/* Every test of one model: for each thread count, the pp tests then the tg tests. */
static bool run_model(const bench_opts *o, ew_model *m, const ew_bench_model_desc *d, const double *bw,
                      const char *backend, bool *first) {
    for (int ti = 0; ti < o->n_threads; ti++) {
        for (int kind = 0; kind < 2; kind++) {
            const long *vals = kind ? o->gens : o->prompts;
            for (int k = 0; k < (kind ? o->n_gens : o->n_prompts); k++) {
                if (vals[k] <= 0) continue;
                ew_bench_test t = ew_bench_default_test();
                t.n_prompt = kind ? 0 : (int)vals[k];
                t.n_gen = kind ? (int)vals[k] : 0;
                t.n_threads = (int)o->threads[ti];
                t.n_batch = (int)o->batch;
                t.reps = (int)o->reps;
                t.kv_type = o->kv;
                t.bandwidth_gbs = bw[ti];
                ew_bench_result r;
                if (ew_bench_run(m, &t, &r) != EW_OK) return FAIL("%s: %s", d->name, ew_last_error());
                warn_roofline(d, &r);
                ew_bench_write_row(stdout, o->fmt, d, &r, backend, *first);
                *first = false;
            }
        }
    }
    return true;
}

/* Markdown footer: load times, bandwidths, build. */
static void md_footer(const bench_opts *o, const ew_bench_model_desc *ds, int n, const double *bw) {
    printf("\n");
    for (int i = 0; i < n; i++)
        printf("load: %s %.1f ms (%s)\n", ds[i].name, ds[i].load_ms, ds[i].use_mmap ? "mmap" : "from memory");
    printf("read bandwidth (measured):");
    for (int i = 0; i < o->n_threads; i++) printf("%s %ld thread%s %.1f GB/s", i ? "," : "", o->threads[i],
                                                  o->threads[i] > 1 ? "s" : "", bw[i]);
    printf("\nbuild: edgewatt %s, kernels %s\n", EW_VERSION_STRING, ew_cpu_level_name());
}

/* Entry point of `edgewatt bench`. */
int cmd_bench(int argc, char **argv) {
    static bench_opts o;
    memset(&o, 0, sizeof o);
    o.prompts[0] = 512, o.n_prompts = 1;
    o.gens[0] = 128, o.n_gens = 1;
    o.threads[0] = ew_cpu_physical_cores() > 0 ? ew_cpu_physical_cores() : 1, o.n_threads = 1;
    o.reps = 5, o.batch = 512, o.kv = EW_KV_F16, o.fmt = EW_BENCH_MD;
    int pa = parse_args(argc, argv, &o);
    if (pa) return pa == 2 ? 0 : 1;
    char backend[128];
    snprintf(backend, sizeof backend, "CPU (%s)", ew_cpu_level_str(ew_cpu_level_get()));
    double bw[MAX_LIST];
    if (!validate_models(&o) || !measure_bandwidth(&o, bw)) return 1;
    static ew_bench_model_desc ds[MAX_MODELS];
    bool first = true;
    for (int i = 0; i < o.n_models; i++) {
        ew_model *m = NULL;
        if (load_model(&o.models[i], (int)o.threads[0], &m, &ds[i]) != EW_OK)
            return cli_fail(VERB, "%s", ew_last_error());
        bool ok = run_model(&o, m, &ds[i], bw, backend, &first);
        ew_model_free(m);
        if (!ok) return 1;
    }
    ew_bench_write_end(stdout, o.fmt, !first);
    if (o.fmt == EW_BENCH_MD) md_footer(&o, ds, o.n_models, bw);
    return 0;
}
