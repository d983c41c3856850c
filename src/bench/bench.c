/*
 * bench.c - one llama-bench test (pp or tg) on a fresh session, with CPU time, peak RSS and
 * the decode roofline (see bench.h).
 */
#include "bench/bench.h"
#include "model/ftype.h"
#include "model/model_internal.h"
#include "quant/quant.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

ew_bench_test ew_bench_default_test(void) {
    ew_bench_test t = {0, 0, 1, 512, 5, EW_KV_F16, 0};
    return t;
}

/* ---- describing the model ---------------------------------------------------------------- */

/* Copy a gguf string key into buf (NUL-terminated); false if absent or not a string. */
static bool meta_str(const gguf_file *f, const char *key, char *buf, size_t cap) {
    gguf_str s;
    if (gguf_get_str(f, key, &s) != EW_OK) return false;
    size_t n = EW_MIN(s.len, cap - 1);
    memcpy(buf, s.ptr, n);
    buf[n] = 0;
    return n > 0;
}

/* The file type's name ("Q4_K_M") from general.file_type, else the dominant tensor type. */
static const char *ftype_of(const ew_model *m) {
    uint32_t ft;
    const char *n = NULL;
    if (gguf_get_u32(m->f, "general.file_type", &ft) == EW_OK) n = ew_ftype_name((int)ft);
    return n ? n : m->ftype_name;
}

/* "smollm2-135m": the synth preset, else general.name, else the file's base name. */
static void base_name(const ew_model *m, const char *filename, char *buf, size_t cap) {
    if (meta_str(m->f, "edgewatt.synth.preset", buf, cap) || meta_str(m->f, "general.name", buf, cap)) return;
    const char *slash = filename ? strrchr(filename, '/') : NULL;
    snprintf(buf, cap, "%s", slash ? slash + 1 : filename ? filename : "model");
}

/* Fill d from the model's metadata; see bench.h. */
void ew_bench_describe(const ew_model *m, const char *filename, ew_bench_model_desc *d) {
    memset(d, 0, sizeof *d);
    char base[128], params[32];
    base_name(m, filename, base, sizeof base);
    const char *ft = ftype_of(m);
    snprintf(d->name, sizeof d->name, "%s %s", base, ft);
    if (m->n_params >= 1000000000ull) snprintf(params, sizeof params, "%.1fB", m->n_params / 1e9);
    else snprintf(params, sizeof params, "%.0fM", m->n_params / 1e6);
    snprintf(d->type, sizeof d->type, "%s %s %s", m->arch_name, params, ft);
    snprintf(d->filename, sizeof d->filename, "%s", filename ? filename : "");
    d->size_bytes = m->weight_bytes;
    d->n_params = m->n_params;
}

/* ---- bytes per decoded token ------------------------------------------------------------- */

/* Bytes of the tensor whose data starts at `data` in the model's file, 0 if none does. */
static uint64_t tensor_bytes_at(const ew_model *m, const void *data) {
    for (uint64_t i = 0; i < m->f->n_tensors; i++)
        if (m->f->tensors[i].data == data) return m->f->tensors[i].nbytes;
    return 0;
}

/* See bench.h. All tensors of the file are read once per token except the token embedding
 * (one row, unless the output projection is the embedding itself). */
double ew_bench_decode_bytes(const ew_model *m, ew_kv_type kv_type, double kv_positions) {
    const ew_hparams *hp = &m->hp;
    const bool tied = m->output.data == m->tok_embd.data;
    const uint64_t embd = tensor_bytes_at(m, m->tok_embd.data);
    double bytes = (double)m->weight_bytes - (double)embd;
    bytes += tied ? (double)embd : (double)m->tok_embd.row_bytes;
    const double esz = kv_type == EW_KV_F32 ? 4.0 : 2.0;
    const double kv_per_pos = 2.0 * hp->n_layer * (double)hp->n_head_kv * hp->head_dim * esz;
    return bytes + kv_per_pos * kv_positions;
}

/* ---- peak RSS window --------------------------------------------------------------------- */

/* See bench.h. */
bool ew_bench_rss_reset_peak(void) {
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return false;
    bool ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok;
}

/* See bench.h. */
uint64_t ew_bench_rss_peak(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long long kib = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %llu kB", &kib) == 1) break;
    if (f) fclose(f);
    return kib ? kib * 1024ull : ew_peak_rss_bytes();
}

/* ---- running a test ---------------------------------------------------------------------- */

/* xorshift64*: the random token ids (any valid id will do; the seed is fixed). */
static int32_t rand_token(uint64_t *st, int n_vocab) {
    uint64_t x = *st;
    x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
    *st = x;
    return (int32_t)((x * 0x2545F4914F6CDD1Dull >> 33) % (uint64_t)n_vocab);
}

/* First token of a run: BOS when the model adds it, else a random id (as llama-bench). */
static int32_t first_token(const ew_model *m, uint64_t *rng) {
    int32_t bos = ew_token_bos(m);
    return ew_token_add_bos(m) && bos >= 0 ? bos : rand_token(rng, m->hp.n_vocab);
}

/* pp: clear the cache and evaluate n_prompt tokens (pieces of n_batch) from buf. */
static ew_status run_pp(ew_session *s, int32_t *buf, int n_prompt, uint64_t *rng) {
    buf[0] = first_token(s->m, rng);
    for (int i = 1; i < n_prompt; i++) buf[i] = rand_token(rng, s->m->hp.n_vocab);
    ew_session_rewind(s, 0);
    return ew_session_eval(s, buf, n_prompt, false);
}

/* tg: clear the cache and generate n_gen tokens one at a time; the next id is random (no
 * sampling, as llama-bench), the logits are read so the work cannot be skipped. */
static ew_status run_tg(ew_session *s, int n_gen, uint64_t *rng, volatile float *sink) {
    int32_t tok = first_token(s->m, rng);
    ew_session_rewind(s, 0);
    for (int i = 0; i < n_gen; i++) {
        ew_status st = ew_session_eval(s, &tok, 1, false);
        if (st) return st;
        *sink += ew_session_logits(s, -1)[0];
        tok = rand_token(rng, s->m->hp.n_vocab);
    }
    return EW_OK;
}

/* Mean and sample standard deviation (n - 1; 0 for n < 2) of n values. */
static void mean_stddev(const double *v, int n, double *mean, double *sd) {
    double sum = 0, sq = 0;
    for (int i = 0; i < n; i++) sum += v[i];
    *mean = n ? sum / n : 0;
    for (int i = 0; i < n; i++) sq += (v[i] - *mean) * (v[i] - *mean);
    *sd = n > 1 ? sqrt(sq / (n - 1)) : 0;
}

/* The test's parameters are in range and it is exactly one of pp / tg. */
static ew_status check_test(const ew_bench_test *t) {
    if ((t->n_prompt > 0) == (t->n_gen > 0) || t->n_prompt < 0 || t->n_gen < 0)
        return ew_error(EW_ERR_INVALID_ARG, "bench: a test is either pp (n_prompt > 0) or tg (n_gen > 0)");
    if (t->reps < 1 || t->reps > EW_BENCH_MAX_REPS)
        return ew_error(EW_ERR_INVALID_ARG, "bench: repetitions must be in [1, %d]", EW_BENCH_MAX_REPS);
    if (t->n_threads < 1 || t->n_threads > 256 || t->n_batch < 1)
        return ew_error(EW_ERR_INVALID_ARG, "bench: threads must be in [1, 256] and the batch >= 1");
    return EW_OK;
}

/* One warmup run (not counted) and t->reps timed runs; CPU time over the timed runs. */
static ew_status timed_runs(ew_session *s, const ew_bench_test *t, int32_t *buf, ew_bench_result *r) {
    uint64_t rng = 0x853c49e6748fea9bull;
    volatile float sink = 0;
    ew_status st = t->n_prompt ? run_pp(s, buf, t->n_prompt, &rng) : run_tg(s, 1, &rng, &sink);
    if (st) return st;
    const double cpu0 = ew_cpu_time_s();
    for (int i = 0; i < t->reps && !st; i++) {
        const uint64_t t0 = ew_time_ns();
        st = t->n_prompt ? run_pp(s, buf, t->n_prompt, &rng) : run_tg(s, t->n_gen, &rng, &sink);
        const double ns = (double)(ew_time_ns() - t0);
        r->samples_ns[i] = ns;
        r->samples_ts[i] = ns > 0 ? (t->n_prompt + t->n_gen) * 1e9 / ns : 0;
        r->n_samples = i + 1;
    }
    r->cpu_s_per_token = (ew_cpu_time_s() - cpu0) / ((double)t->reps * (t->n_prompt + t->n_gen));
    return st;
}

/* Statistics and the roofline from the samples. */
static void summarise(const ew_model *m, const ew_bench_test *t, ew_bench_result *r) {
    mean_stddev(r->samples_ns, r->n_samples, &r->avg_ns, &r->stddev_ns);
    mean_stddev(r->samples_ts, r->n_samples, &r->avg_ts, &r->stddev_ts);
    r->roofline_pct = -1;
    if (t->n_gen > 0) {
        /* token i (from 0) attends to i + 1 cached positions: (n_gen + 1) / 2 on average */
        r->bytes_per_token = ew_bench_decode_bytes(m, t->kv_type, (t->n_gen + 1) / 2.0);
        if (t->bandwidth_gbs > 0) r->roofline_pct = 100.0 * r->avg_ts * r->bytes_per_token / (t->bandwidth_gbs * 1e9);
    }
}

/* See bench.h. */
ew_status ew_bench_run(ew_model *m, const ew_bench_test *t, ew_bench_result *r) {
    if (!m || !t || !r) return ew_error(EW_ERR_INVALID_ARG, "ew_bench_run: NULL argument");
    memset(r, 0, sizeof *r);
    ew_status st = check_test(t);
    if (st) return st;
    r->t = *t;
    time_t now = time(NULL);
    struct tm tm;
    strftime(r->test_time, sizeof r->test_time, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    ew_bench_rss_reset_peak();
    ew_session_params sp = ew_session_default_params();
    sp.n_ctx = t->n_prompt + t->n_gen;
    sp.n_batch = t->n_batch;
    sp.kv_type = t->kv_type;
    sp.n_threads = t->n_threads;
    ew_session *s = NULL;
    int32_t *buf = ew_malloc((size_t)EW_MAX(t->n_prompt, 1) * sizeof *buf);
    if (!buf) return ew_error(EW_ERR_NOMEM, "out of memory");
    if ((st = ew_session_new(m, &sp, &s)) == EW_OK && (st = timed_runs(s, t, buf, r)) == EW_OK) summarise(m, t, r);
    r->peak_rss_bytes = ew_bench_rss_peak();
    ew_session_free(s);
    ew_free(buf);
    return st;
}
