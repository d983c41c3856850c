/*
 * cmd_run.c - `edgewatt run`: load a model, stream a completion, print a summary line.
 */
#include "cli/cli.h"
#include "core/core.h"
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *k_help =
    "usage: edgewatt run -m FILE [-p PROMPT | -f FILE] [flags]\n"
    "  -m, --model FILE       GGUF model\n"
    "  -p, --prompt TEXT      prompt (default: empty, generation starts from BOS)\n"
    "  -f, --file FILE        read the prompt from FILE\n"
    "  -n, --n-predict N      tokens to generate (default 128; -1 = until end of text)\n"
    "  -c, --ctx N            context size (default: min(trained, 4096))\n"
    "  -t, --threads N        threads (default: physical cores)\n"
    "  --temp T               temperature (default 0.8; 0 = greedy)\n"
    "  --top-k N              top-k (default 40; 0 = off)\n"
    "  --top-p P              top-p (default 0.95; 1 = off)\n"
    "  --min-p P              min-p (default 0.05; 0 = off)\n"
    "  --repeat-penalty F     repetition penalty (default 1.0 = off)\n"
    "  --repeat-last-n N      window of the penalty (default 64)\n"
    "  -s, --seed N           sampling seed (default: random)\n"
    "  --stop TEXT            stop when TEXT appears (repeatable)\n"
    "  --kv-type f16|f32      KV cache type (default f16)\n"
    "  --special              parse special-token text in the prompt\n"
    "  --ignore-eos           keep generating past end-of-text tokens\n";

typedef struct run_opts {
    const char *model, *prompt, *prompt_file;
    long n_predict, n_ctx, n_threads;
    ew_sampler_params sp;
    const char *stop[16];
    int n_stop;
    ew_kv_type kv;
    bool special, ignore_eos;
} run_opts;

/* Value of the flag at argv[*i] (advances *i); NULL with a message if missing. */
static const char *flag_value(int argc, char **argv, int *i) {
    if (*i + 1 >= argc) { cli_fail("run", "%s needs a value", argv[*i]); return NULL; }
    return argv[++*i];
}

/* 0 = run, 1 = error (reported), 2 = help printed. */
static int parse_args(int argc, char **argv, run_opts *o) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        double d;
        long n;
#define IS(x, y) (!strcmp(a, x) || !strcmp(a, y))
        if (IS("-h", "--help")) { fputs(k_help, stdout); return 2; }
        if (IS("--special", "--special")) { o->special = true; continue; }
        if (IS("--ignore-eos", "--ignore-eos")) { o->ignore_eos = true; continue; }
        if (!(v = flag_value(argc, argv, &i))) return 1;
        if (IS("-m", "--model")) o->model = v;
        else if (IS("-p", "--prompt")) o->prompt = v;
        else if (IS("-f", "--file")) o->prompt_file = v;
        else if (IS("-n", "--n-predict")) { if (!cli_parse_int("run", a, v, -1, 1L << 30, &o->n_predict)) return 1; }
        else if (IS("-c", "--ctx")) { if (!cli_parse_int("run", a, v, 0, 1 << 20, &o->n_ctx)) return 1; }
        else if (IS("-t", "--threads")) { if (!cli_parse_int("run", a, v, 1, 256, &o->n_threads)) return 1; }
        else if (IS("--top-k", "--top-k")) { if (!cli_parse_int("run", a, v, 0, 1L << 30, &n)) return 1; o->sp.top_k = (int)n; }
        else if (IS("--repeat-last-n", "--repeat-last-n")) { if (!cli_parse_int("run", a, v, 0, 1L << 20, &n)) return 1; o->sp.repeat_last_n = (int)n; }
        else if (IS("-s", "--seed")) { if (!cli_parse_int("run", a, v, 0, 0x7fffffffL, &n)) return 1; o->sp.seed = (uint64_t)n; }
        else if (IS("--temp", "--temp")) { if (!cli_parse_float("run", a, v, &d)) return 1; o->sp.temperature = (float)d; }
        else if (IS("--top-p", "--top-p")) { if (!cli_parse_float("run", a, v, &d)) return 1; o->sp.top_p = (float)d; }
        else if (IS("--min-p", "--min-p")) { if (!cli_parse_float("run", a, v, &d)) return 1; o->sp.min_p = (float)d; }
        else if (IS("--repeat-penalty", "--repeat-penalty")) { if (!cli_parse_float("run", a, v, &d)) return 1; o->sp.repeat_penalty = (float)d; }
        else if (IS("--stop", "--stop")) {
            if (o->n_stop == 16) { cli_fail("run", "at most 16 --stop strings"); return 1; }
            o->stop[o->n_stop++] = v;
        } else if (IS("--kv-type", "--kv-type")) {
            if (!strcmp(v, "f16")) o->kv = EW_KV_F16;
            else if (!strcmp(v, "f32")) o->kv = EW_KV_F32;
            else { cli_fail("run", "--kv-type expects f16 or f32, got '%s'", v); return 1; }
        } else { cli_fail("run", "unknown flag '%s' (see edgewatt run --help)", a); return 1; }
#undef IS
    }
    if (!o->model) { cli_fail("run", "no model: pass -m FILE.gguf"); return 1; }
    if (o->prompt && o->prompt_file) { cli_fail("run", "pass either -p or -f, not both"); return 1; }
    return 0;
}

static bool print_text(const char *text, size_t len, void *user) {
    (void)user;
    fwrite(text, 1, len, stdout);
    fflush(stdout);
    return true;
}

int cmd_run(int argc, char **argv) {
    run_opts o = {0};
    o.n_predict = 128;
    o.sp = ew_sampler_default_params();
    o.sp.seed = (uint64_t)time(NULL);
    o.kv = EW_KV_F16;
    int pa = parse_args(argc, argv, &o);
    if (pa) return pa == 2 ? 0 : 1;

    char *file_prompt = NULL;
    size_t fsize;
    if (o.prompt_file) {
        if (ew_read_file(o.prompt_file, &file_prompt, &fsize) != EW_OK) return cli_fail("run", "%s", ew_last_error());
        o.prompt = file_prompt;
    }
    const char *prompt = o.prompt ? o.prompt : "";
    double t0 = ew_time_s();
    ew_model_params mp = ew_model_default_params();
    mp.n_threads = (int)o.n_threads;
    ew_model *m = NULL;
    ew_session *s = NULL;
    ew_sampler *smp = NULL;
    int rc = 1;
    if (ew_model_load(o.model, &mp, &m) != EW_OK) { cli_fail("run", "%s", ew_last_error()); goto out; }
    double load_ms = (ew_time_s() - t0) * 1e3;
    ew_session_params sp = ew_session_default_params();
    sp.n_ctx = (int)o.n_ctx;
    sp.kv_type = o.kv;
    if (ew_session_new(m, &sp, &s) != EW_OK || ew_sampler_new(ew_n_vocab(m), &o.sp, &smp) != EW_OK) {
        cli_fail("run", "%s", ew_last_error());
        goto out;
    }
    ew_gen_params gp = ew_gen_default_params();
    gp.n_predict = (int)o.n_predict;
    gp.stop = o.stop;
    gp.n_stop = o.n_stop;
    gp.parse_special = o.special;
    gp.ignore_eos = o.ignore_eos;
    ew_gen_stats gs;
    fputs(prompt, stdout);
    fflush(stdout);
    if (ew_generate(s, smp, prompt, &gp, print_text, NULL, &gs) != EW_OK) {
        fputc('\n', stdout);
        cli_fail("run", "%s", ew_last_error());
        goto out;
    }
    fputc('\n', stdout);
    fflush(stdout);
    fprintf(stderr, "load %.0f ms | prompt %d tok, %.1f tok/s | gen %d tok, %.1f tok/s | stop: %s | peak RSS %.1f MiB\n",
            load_ms, gs.n_prompt, gs.prefill_s > 0 ? gs.n_prompt / gs.prefill_s : 0.0, gs.n_gen,
            gs.decode_s > 0 ? gs.n_gen / gs.decode_s : 0.0, ew_stop_reason_name(gs.stop),
            (double)ew_peak_rss_bytes() / (1024.0 * 1024.0));
    rc = 0;
out:
    ew_sampler_free(smp);
    ew_session_free(s);
    ew_model_free(m);
    ew_free(file_prompt);
    return rc;
}
