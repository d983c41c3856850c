/*
 * cmd_perplexity.c - `edgewatt perplexity`: llama.cpp's method, so the numbers compare.
 * The text is tokenized once (with BOS); it is cut into non-overlapping chunks of n_ctx
 * tokens; each chunk starts with BOS (replacing its first token) and is evaluated from an
 * empty cache; the negative log-likelihood of the tokens in the second half of each chunk
 * is averaged. Prints the running PPL per chunk and the final PPL +/- its standard error.
 */
#include "cli/cli.h"
#include "core/core.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *k_help =
    "usage: edgewatt perplexity -m FILE -f TEXT [--ctx 512] [--chunks N] [-t N] [--kv-type f16|f32]\n";

typedef struct ppl_opts {
    const char *model, *file;
    long n_ctx, n_chunks, n_threads, n_batch;
    ew_kv_type kv;
} ppl_opts;

static int parse_args(int argc, char **argv, ppl_opts *o) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(k_help, stdout); return 2; }
        if (i + 1 >= argc) { cli_fail("perplexity", "%s needs a value (or is unknown)", a); return 1; }
        const char *v = argv[++i];
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) o->model = v;
        else if (!strcmp(a, "-f") || !strcmp(a, "--file")) o->file = v;
        else if (!strcmp(a, "-c") || !strcmp(a, "--ctx")) { if (!cli_parse_int("perplexity", a, v, 8, 1 << 20, &o->n_ctx)) return 1; }
        else if (!strcmp(a, "--chunks")) { if (!cli_parse_int("perplexity", a, v, -1, 1L << 30, &o->n_chunks)) return 1; }
        else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) { if (!cli_parse_int("perplexity", a, v, 1, 256, &o->n_threads)) return 1; }
        else if (!strcmp(a, "-b") || !strcmp(a, "--batch")) { if (!cli_parse_int("perplexity", a, v, 1, 1 << 20, &o->n_batch)) return 1; }
        else if (!strcmp(a, "--kv-type")) {
            if (!strcmp(v, "f16")) o->kv = EW_KV_F16;
            else if (!strcmp(v, "f32")) o->kv = EW_KV_F32;
            else { cli_fail("perplexity", "--kv-type expects f16 or f32, got '%s'", v); return 1; }
        } else { cli_fail("perplexity", "unknown flag '%s'", a); return 1; }
    }
    if (!o->model || !o->file) { cli_fail("perplexity", "need -m MODEL.gguf and -f TEXT"); return 1; }
    return 0;
}

/* -log p(target) from a row of logits, in double precision. */
static double nll_of(const float *logits, int n_vocab, int target) {
    float mx = logits[0];
    for (int i = 1; i < n_vocab; i++) if (logits[i] > mx) mx = logits[i];
    double sum = 0;
    for (int i = 0; i < n_vocab; i++) sum += exp((double)logits[i] - mx);
    return -((double)logits[target] - mx - log(sum));
}

/* Tokenize the whole text with BOS. */
static int tokenize_text(ew_model *m, const char *text, size_t len, int32_t **ids, size_t *n) {
    size_t cap = len + 16;
    *ids = ew_malloc(cap * sizeof(int32_t));
    if (!*ids) return cli_fail("perplexity", "out of memory");
    if (ew_tokenize(m, text, len, true, false, *ids, cap, n) != EW_OK) return cli_fail("perplexity", "%s", ew_last_error());
    return 0;
}

int cmd_perplexity(int argc, char **argv) {
    ppl_opts o = {0};
    o.n_ctx = 512;
    o.n_chunks = -1;
    o.kv = EW_KV_F16;
    int pa = parse_args(argc, argv, &o);
    if (pa) return pa == 2 ? 0 : 1;
    char *text = NULL;
    size_t tlen = 0, n_tok = 0;
    int32_t *ids = NULL;
    ew_model *m = NULL;
    ew_session *s = NULL;
    int rc = 1;
    ew_model_params mp = ew_model_default_params();
    mp.n_threads = (int)o.n_threads;
    if (ew_read_file(o.file, &text, &tlen) != EW_OK || ew_model_load(o.model, &mp, &m) != EW_OK) {
        cli_fail("perplexity", "%s", ew_last_error());
        goto out;
    }
    double t0 = ew_time_s();
    if (tokenize_text(m, text, tlen, &ids, &n_tok)) goto out;
    fprintf(stderr, "perplexity: tokenized %zu bytes into %zu tokens in %.2f s\n", tlen, n_tok, ew_time_s() - t0);
    const int n_ctx = (int)o.n_ctx;
    if (n_tok < 2 * (size_t)n_ctx) {
        cli_fail("perplexity", "%s has %zu tokens; at least 2 x ctx = %d are needed", o.file, n_tok, 2 * n_ctx);
        goto out;
    }
    long n_chunks = (long)(n_tok / (size_t)n_ctx);
    if (o.n_chunks >= 0 && o.n_chunks < n_chunks) n_chunks = o.n_chunks;
    ew_session_params sp = ew_session_default_params();
    sp.n_ctx = n_ctx;
    sp.all_logits = true;
    sp.kv_type = o.kv;
    if (o.n_batch) sp.n_batch = (int)o.n_batch;
    if (ew_session_new(m, &sp, &s) != EW_OK) { cli_fail("perplexity", "%s", ew_last_error()); goto out; }
    fprintf(stderr, "perplexity: calculating perplexity over %ld chunks, n_ctx=%d\n", n_chunks, n_ctx);
    const int n_vocab = ew_n_vocab(m), first = n_ctx / 2;
    const int32_t bos = ew_token_add_bos(m) ? ew_token_bos(m) : -1; /* as llama.cpp: only if the model adds BOS */
    double nll = 0, nll2 = 0;
    long count = 0;
    t0 = ew_time_s();
    for (long c = 0; c < n_chunks; c++) {
        int32_t *chunk = ids + (size_t)c * n_ctx;
        const int32_t saved = chunk[0];
        if (bos >= 0) chunk[0] = bos;
        ew_session_rewind(s, 0);
        ew_status st = ew_session_eval(s, chunk, n_ctx, true);
        chunk[0] = saved;
        if (st) { cli_fail("perplexity", "%s", ew_last_error()); goto out; }
        for (int j = first; j < n_ctx - 1; j++) {
            double v = nll_of(ew_session_logits(s, j), n_vocab, chunk[j + 1]);
            nll += v;
            nll2 += v * v;
            count++;
        }
        printf("[%ld]%.4f,", c + 1, exp(nll / count));
        fflush(stdout);
    }
    double secs = ew_time_s() - t0;
    double mean = nll / count, var = nll2 / count - mean * mean, ppl = exp(mean);
    double err = var > 0 && count > 1 ? sqrt(var / (count - 1)) * ppl : 0;
    printf("\nFinal estimate: PPL = %.4f +/- %.5f\n", ppl, err);
    fprintf(stderr, "perplexity: %ld chunks x %d tokens in %.2f s (%.1f tok/s)\n", n_chunks, n_ctx, secs,
            secs > 0 ? n_chunks * n_ctx / secs : 0.0);
    rc = 0;
out:
    ew_session_free(s);
    ew_model_free(m);
    ew_free(ids);
    ew_free(text);
    return rc;
}
