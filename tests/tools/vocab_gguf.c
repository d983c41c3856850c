/*
 * vocab_gguf.c - write a vocab-only GGUF that llama.cpp's llama-tokenize accepts (used by
 * tests/data/tokenizer/make-expected.sh to get reference token ids for vocabularies that
 * have no GGUF at hand).
 *
 *   vocab_gguf --import PATH [--pre NAME] -o OUT.gguf
 *   vocab_gguf --generate llama|gpt2 N SEED -o OUT.gguf
 *
 * llama.cpp loads vocab-only files through the architecture loader, so the file also gets
 * general.architecture = llama and the llama.* hyper-parameters a real model has.
 */
#include "core/core.h"
#include "gguf/gguf.h"
#include "text/tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(void) {
    fprintf(stderr, "usage: vocab_gguf --import PATH [--pre NAME] -o OUT.gguf\n"
                    "       vocab_gguf --generate llama|gpt2 N SEED -o OUT.gguf\n");
    return 2;
}

int main(int argc, char **argv) {
    const char *import = NULL, *pre = NULL, *out = NULL, *gen_model = NULL;
    unsigned long gen_n = 0;
    unsigned long long gen_seed = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--import") && i + 1 < argc) import = argv[++i];
        else if (!strcmp(argv[i], "--pre") && i + 1 < argc) pre = argv[++i];
        else if (!strcmp(argv[i], "-o") && i + 1 < argc) out = argv[++i];
        else if (!strcmp(argv[i], "--generate") && i + 3 < argc) {
            gen_model = argv[++i];
            gen_n = strtoul(argv[++i], NULL, 10);
            gen_seed = strtoull(argv[++i], NULL, 10);
        } else return usage();
    }
    if (!out || (!import == !gen_model)) return usage();
    ew_vocab_data *v = NULL;
    ew_status st = import ? ew_vocab_import(import, pre, &v) : ew_vocab_generate(gen_model, (uint32_t)gen_n, gen_seed, &v);
    if (st) {
        fprintf(stderr, "vocab_gguf: %s\n", ew_last_error());
        return 1;
    }
    gguf_writer *w = gguf_writer_new();
    if (!w) return 1;
    struct { const char *key; uint32_t v; } hp[] = {
        {"llama.context_length", 2048},       {"llama.embedding_length", 64},
        {"llama.block_count", 1},             {"llama.feed_forward_length", 128},
        {"llama.attention.head_count", 4},    {"llama.attention.head_count_kv", 4},
        {"llama.rope.dimension_count", 16},   {"llama.vocab_size", v->n_tokens}};
    if ((st = gguf_set_str(w, "general.architecture", "llama")) || (st = gguf_set_str(w, "general.name", "vocab")))
        goto fail;
    for (size_t i = 0; i < sizeof hp / sizeof hp[0]; i++)
        if ((st = gguf_set_u32(w, hp[i].key, hp[i].v))) goto fail;
    if ((st = gguf_set_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f))) goto fail;
    if ((st = ew_vocab_write_gguf(v, w))) goto fail;
    if ((st = gguf_writer_write(w, out))) goto fail;
    gguf_writer_free(w);
    fprintf(stderr, "vocab_gguf: %s: %u tokens, %u merges, pre %s\n", out, v->n_tokens, v->n_merges, v->pre ? v->pre : "-");
    ew_vocab_data_free(v);
    return 0;
fail:
    fprintf(stderr, "vocab_gguf: %s\n", ew_last_error());
    gguf_writer_free(w);
    ew_vocab_data_free(v);
    return 1;
}
