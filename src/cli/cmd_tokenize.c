/*
 * cmd_tokenize.c - `edgewatt tokenize`: print the token ids (or id + piece per line) of a
 * text, like llama-tokenize.
 */
#include "cli/cli.h"
#include "core/core.h"
#include <stdio.h>
#include <string.h>

static const char *k_help =
    "usage: edgewatt tokenize -m FILE (-p TEXT | -f FILE) [--ids] [--no-bos] [--special]\n"
    "  --ids       print only the ids, as [1, 2, 3]\n"
    "  --no-bos    do not add BOS/EOS\n"
    "  --special   parse special-token text (e.g. <|im_start|>)\n";

int cmd_tokenize(int argc, char **argv) {
    const char *model = NULL, *prompt = NULL, *file = NULL;
    bool ids_only = false, add_special = true, special = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(k_help, stdout); return 0; }
        if (!strcmp(a, "--ids")) { ids_only = true; continue; }
        if (!strcmp(a, "--no-bos")) { add_special = false; continue; }
        if (!strcmp(a, "--special")) { special = true; continue; }
        if (i + 1 >= argc) return cli_fail("tokenize", "%s needs a value (or is unknown)", a);
        const char *v = argv[++i];
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) model = v;
        else if (!strcmp(a, "-p") || !strcmp(a, "--prompt")) prompt = v;
        else if (!strcmp(a, "-f") || !strcmp(a, "--file")) file = v;
        else return cli_fail("tokenize", "unknown flag '%s'", a);
    }
    if (!model || (!prompt == !file)) return cli_fail("tokenize", "need -m MODEL and one of -p TEXT / -f FILE");
    char *text = NULL;
    size_t len = 0, n = 0;
    ew_model *m = NULL;
    int32_t *ids = NULL;
    int rc = 1;
    if (file && ew_read_file(file, &text, &len) != EW_OK) { cli_fail("tokenize", "%s", ew_last_error()); goto out; }
    if (prompt) len = strlen(prompt);
    const char *t = prompt ? prompt : text;
    ew_model_params mp = ew_model_default_params();
    mp.n_threads = 1;
    if (ew_model_load(model, &mp, &m) != EW_OK) { cli_fail("tokenize", "%s", ew_last_error()); goto out; }
    ids = ew_malloc((len + 16) * sizeof *ids);
    if (!ids) { cli_fail("tokenize", "out of memory"); goto out; }
    if (ew_tokenize(m, t, len, add_special, special, ids, len + 16, &n) != EW_OK) { cli_fail("tokenize", "%s", ew_last_error()); goto out; }
    if (ids_only) {
        putchar('[');
        for (size_t i = 0; i < n; i++) printf(i ? ", %d" : "%d", ids[i]);
        puts("]");
    } else {
        char piece[256];
        for (size_t i = 0; i < n; i++) {
            int k = ew_token_to_bytes(m, ids[i], true, piece, sizeof piece - 1);
            if (k < 0) k = 0;
            if (k > (int)sizeof piece - 1) k = (int)sizeof piece - 1;
            piece[k] = 0;
            printf("%6d -> '%s'\n", ids[i], piece);
        }
    }
    rc = 0;
out:
    ew_free(ids);
    ew_free(text);
    ew_model_free(m);
    return rc;
}
