/*
 * cmd_synth.c - `edgewatt synth`: write a GGUF with random weights and the exact shapes,
 * vocabulary and metadata of a real model (presets in data/presets.json), to measure speed
 * and memory on a device before downloading anything.
 */
#include "cli/cli.h"
#include "model/synth.h"
#include "quant/quant.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define VERB "synth"

typedef struct synth_args {
    const char *like, *type, *out;
    uint64_t seed;
    int threads;
    bool list, help;
} synth_args;

/* Usage text, with the presets and types of the data file in use. */
static void usage(FILE *f) {
    fprintf(f,
            "usage: edgewatt synth --like PRESET [--type TYPE] -o FILE [--seed N] [--threads N]\n"
            "       edgewatt synth --list\n"
            "Writes a GGUF with random weights and the exact shapes, vocabulary and metadata of a\n"
            "real model, quantized as llama-quantize would (default type Q8_0, seed 1).\n"
            "types: %s\n",
            ew_synth_type_names());
    ew_synth_preset_info *list;
    size_t n;
    if (ew_synth_list(&list, &n) == EW_OK) {
        fprintf(f, "presets:");
        for (size_t i = 0; i < n; i++) fprintf(f, "%s %s", i ? "," : "", list[i].name);
        fprintf(f, "\n");
        ew_synth_list_free(list, n);
    }
}

/* Parse argv into a; returns false after printing an error. */
static bool parse_args(int argc, char **argv, synth_args *a) {
    *a = (synth_args){ .type = "Q8_0", .seed = 1 };
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i];
        bool has_val = i + 1 < argc;
        long v;
        if (!strcmp(f, "--list")) a->list = true;
        else if (!strcmp(f, "-h") || !strcmp(f, "--help")) a->help = true;
        else if (!has_val && (!strcmp(f, "--like") || !strcmp(f, "--type") || !strcmp(f, "-o") ||
                              !strcmp(f, "--seed") || !strcmp(f, "--threads"))) {
            cli_fail(VERB, "%s needs a value", f);
            return false;
        } else if (!strcmp(f, "--like")) a->like = argv[++i];
        else if (!strcmp(f, "--type")) a->type = argv[++i];
        else if (!strcmp(f, "-o") || !strcmp(f, "--output")) a->out = argv[++i];
        else if (!strcmp(f, "--seed")) {
            if (!cli_parse_int(VERB, f, argv[++i], 0, 0x7fffffffffffffffL, &v)) return false;
            a->seed = (uint64_t)v;
        } else if (!strcmp(f, "--threads")) {
            if (!cli_parse_int(VERB, f, argv[++i], 1, 1024, &v)) return false;
            a->threads = (int)v;
        } else {
            cli_fail(VERB, "unknown argument '%s' (see edgewatt synth --help)", f);
            return false;
        }
    }
    return true;
}

/* --list: one line per preset. */
static int print_list(void) {
    ew_synth_preset_info *list;
    size_t n;
    if (ew_synth_list(&list, &n) != EW_OK) return cli_fail(VERB, "%s", ew_last_error());
    printf("%-16s %-26s %-6s %14s  %s\n", "preset", "model", "arch", "params", "source");
    for (size_t i = 0; i < n; i++)
        printf("%-16s %-26s %-6s %14llu  %s\n", list[i].name, list[i].display_name, list[i].arch,
               (unsigned long long)list[i].n_params, list[i].hf_repo);
    printf("types: %s\n", ew_synth_type_names());
    ew_synth_list_free(list, n);
    return 0;
}

/* "Q8_0 x 211, F32 x 61" - tensor count per type, in order of first appearance. */
static void type_counts(const ew_synth_plan *pl, char *buf, size_t cap) {
    uint32_t seen[64], count[64];
    size_t ns = 0, len = 0;
    for (uint32_t i = 0; i < pl->n_tensors; i++) {
        size_t k = 0;
        while (k < ns && seen[k] != pl->tensors[i].type) k++;
        if (k == ns && ns < 64) { seen[ns] = pl->tensors[i].type; count[ns++] = 0; }
        if (k < ns) count[k]++;
    }
    buf[0] = 0;
    for (size_t k = 0; k < ns; k++) {
        int w = snprintf(buf + len, cap - len, "%s%s x %u", k ? ", " : "", ew_type_name(seen[k]), count[k]);
        if (w < 0 || (size_t)w >= cap - len) break;
        len += (size_t)w;
    }
}

/* What was written: path, size, shape, params, types, vocabulary, time. */
static void report(const ew_synth_plan *pl, const char *path, double secs) {
    struct stat st;
    unsigned long long size = stat(path, &st) == 0 ? (unsigned long long)st.st_size : 0;
    char types[512];
    type_counts(pl, types, sizeof types);
    printf("wrote %s: %.1f MiB (%llu bytes) in %.1f s\n", path, size / 1048576.0, size, secs);
    printf("  model   %s (synthetic weights), arch %s, preset %s, type %s, seed %llu\n", pl->display_name,
           pl->arch, pl->preset, pl->ftype_name, (unsigned long long)pl->seed);
    printf("  shape   %d layers, n_embd %d, n_ff %d, heads %d/%d (kv), head_dim %d, vocab %d, ctx %d%s%s\n",
           pl->n_layer, pl->n_embd, pl->n_ff, pl->n_head, pl->n_head_kv, pl->head_dim, pl->n_vocab,
           pl->n_ctx_train, pl->tied_embeddings ? ", tied embeddings" : "", pl->rope_freqs ? ", llama3 rope" : "");
    printf("  params  %llu (%.1f M)%s\n", (unsigned long long)pl->n_params, pl->n_params / 1e6,
           pl->n_params_preset && pl->n_params_preset != pl->n_params ? " - differs from the preset's figure!" : "");
    printf("  tensors %u: %s%s\n", pl->n_tensors, types,
           pl->n_fallback ? " (some fell back: row length vs block size, as llama-quantize does)" : "");
    printf("  vocab   %s\n", pl->vocab_file ? pl->vocab_file : pl->vocab_kind);
}

/* Entry point of `edgewatt synth`. */
int cmd_synth(int argc, char **argv) {
    synth_args a;
    if (!parse_args(argc, argv, &a)) return 1;
    if (a.help) { usage(stdout); return 0; }
    if (a.list) return print_list();
    if (!a.like) {
        usage(stderr);
        return cli_fail(VERB, "missing --like PRESET");
    }
    ew_synth *s;
    if (ew_synth_new(a.like, a.type, a.seed, &s) != EW_OK) return cli_fail(VERB, "%s", ew_last_error());
    if (!a.out) {
        ew_synth_free(s);
        return cli_fail(VERB, "missing -o FILE");
    }
    struct stat sb;
    if (stat(a.out, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        /* the writer replaces the target atomically (temp file + rename): that must not
         * turn /dev/null or a fifo into a regular file */
        ew_synth_free(s);
        return cli_fail(VERB, "%s: not a regular file; refusing to replace it", a.out);
    }
    if (a.threads) ew_synth_set_threads(s, a.threads);
    double t0 = ew_time_s();
    ew_status st = ew_synth_write_file(s, a.out);
    if (st != EW_OK) {
        int rc = cli_fail(VERB, "%s", ew_last_error());
        ew_synth_free(s);
        return rc;
    }
    report(ew_synth_get_plan(s), a.out, ew_time_s() - t0);
    ew_synth_free(s);
    return 0;
}
