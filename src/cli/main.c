/*
 * main.c - `edgewatt <verb> [flags]`: dispatch to the verb, plus the shared flag helpers.
 */
#include "cli/cli.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cli_verb {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} cli_verb;

static const cli_verb k_verbs[] = {
    {"run", cmd_run, "generate text from a prompt (streams tokens)"},
    {"perplexity", cmd_perplexity, "perplexity of a model on a text file (llama.cpp's method)"},
    {"tokenize", cmd_tokenize, "print the token ids of a text (like llama-tokenize)"},
    {"bench", cmd_bench, "speed as llama-bench measures it, plus CPU s/token, peak RSS, % of bandwidth roofline"},
    {"synth", cmd_synth, "write a GGUF with random weights and the exact shapes of a real model"},
};

static void usage(FILE *f) {
    fprintf(f, "edgewatt %s - on-device LLM runtime that counts every joule\n\n"
               "usage: edgewatt <command> [flags]   (edgewatt <command> --help for its flags)\n\ncommands:\n",
            EW_VERSION_STRING);
    for (size_t i = 0; i < sizeof k_verbs / sizeof k_verbs[0]; i++)
        fprintf(f, "  %-12s %s\n", k_verbs[i].name, k_verbs[i].help);
}

int cli_fail(const char *verb, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "edgewatt %s: ", verb);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

bool cli_parse_int(const char *verb, const char *flag, const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || errno || end == s || *end || v < lo || v > hi) {
        cli_fail(verb, "%s expects an integer in [%ld, %ld], got '%s'", flag, lo, hi, s ? s : "");
        return false;
    }
    *out = v;
    return true;
}

bool cli_parse_float(const char *verb, const char *flag, const char *s, double *out) {
    char *end;
    errno = 0;
    double v = s ? strtod(s, &end) : 0;
    if (!s || errno || end == s || *end || v != v) {
        cli_fail(verb, "%s expects a number, got '%s'", flag, s ? s : "");
        return false;
    }
    *out = v;
    return true;
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return argc < 2 ? 1 : 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("edgewatt %s (kernels: %s)\n", EW_VERSION_STRING, ew_cpu_level_name());
        return 0;
    }
    for (size_t i = 0; i < sizeof k_verbs / sizeof k_verbs[0]; i++)
        if (!strcmp(argv[1], k_verbs[i].name)) return k_verbs[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "edgewatt: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 1;
}
