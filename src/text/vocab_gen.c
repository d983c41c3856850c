/*
 * vocab_gen.c - generated vocabularies (deterministic fakes for synthetic models when no
 * real tokenizer is at hand) and writing a vocabulary's tokenizer.ggml.* keys to GGUF, named
 * as llama.cpp's converter names them.
 */
#include "text/tokenizer_internal.h"

#include <stdio.h>
#include <string.h>

/* splitmix64: a small deterministic generator. */
static uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint32_t rng_below(uint64_t *s, uint32_t n) { return (uint32_t)(rng_next(s) % n); }

/* A fresh empty vocabulary with room for n tokens. */
static ew_vocab_data *gen_new(const char *model, uint32_t n) {
    ew_vocab_data *v = ew_calloc(1, sizeof *v);
    if (!v) return NULL;
    v->bos = v->eos = v->eot = v->unk = v->pad = -1;
    v->model = ew_strdup(model);
    v->tokens = ew_calloc(n, sizeof *v->tokens);
    v->token_type = ew_calloc(n, sizeof *v->token_type);
    if (!v->model || !v->tokens || !v->token_type) {
        ew_vocab_data_free(v);
        return NULL;
    }
    return v;
}

/* Appends token text s (copied) of type ty unless present; returns 1 if added, 0 if a
 * duplicate, -1 on OOM. */
static int gen_add(ew_vocab_data *v, ew_strmap *seen, const char *s, size_t len, int32_t ty) {
    if (ew_strmap_get(seen, s, len) >= 0) return 0;
    char *c = ew_strndup(s, len);
    if (!c) return -1;
    v->tokens[v->n_tokens] = c;
    v->token_type[v->n_tokens] = ty;
    ew_strmap_put(seen, c, (uint32_t)len, (int32_t)v->n_tokens);
    v->n_tokens++;
    return 1;
}

/* SPM: <unk> <s> </s>, the 256 <0xNN> byte tokens, an alphabet, then pieces made by joining
 * two existing pieces (so every piece is reachable by merges), scored by creation order. */
static ew_status gen_spm(uint32_t n, uint64_t seed, ew_vocab_data **out) {
    static const char *const alphabet[] = {
        "\xe2\x96\x81", "e", "t", "a", "o", "i", "n", "s", "h", "r", "d", "l", "u", "c", "m", "w", "f", "g", "y", "p",
        "b", "v", "k", "j", "x", "q", "z", "E", "T", "A", "O", "I", "N", "S", "H", "R", "D", "L", "U", "C", "M", "W",
        "F", "G", "Y", "P", "B", "V", "K", "J", "X", "Q", "Z", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", ".",
        ",", "!", "?", "'", "\"", "-", ":", ";", "(", ")"};
    const uint32_t n_alpha = EW_ARRAY_LEN(alphabet);
    if (n < 3 + 256 + 1 || n > (1u << 22))
        return ew_error(EW_ERR_INVALID_ARG, "ew_vocab_generate: an SPM vocabulary needs 260..%u tokens, not %u", 1u << 22, n);
    ew_vocab_data *v = gen_new("llama", n);
    ew_strmap seen = {0};
    ew_status st = EW_OK;
    if (!v || (v->scores = ew_calloc(n, sizeof *v->scores)) == NULL || ew_strmap_init(&seen, n)) {
        st = ew_error(EW_ERR_NOMEM, "ew_vocab_generate: out of memory");
        goto out;
    }
    const char *fixed[3] = {"<unk>", "<s>", "</s>"};
    const int32_t fixed_ty[3] = {EW_TOKTYPE_UNKNOWN, EW_TOKTYPE_CONTROL, EW_TOKTYPE_CONTROL};
    for (int i = 0; i < 3; i++)
        if (gen_add(v, &seen, fixed[i], strlen(fixed[i]), fixed_ty[i]) < 0) goto oom;
    for (int b = 0; b < 256; b++) {
        char buf[8];
        snprintf(buf, sizeof buf, "<0x%02X>", b);
        if (gen_add(v, &seen, buf, 6, EW_TOKTYPE_BYTE) < 0) goto oom;
    }
    uint32_t first = v->n_tokens;
    for (uint32_t i = 0; i < n_alpha && v->n_tokens < n; i++)
        if (gen_add(v, &seen, alphabet[i], strlen(alphabet[i]), EW_TOKTYPE_NORMAL) < 0) goto oom;
    uint64_t rs = seed;
    uint32_t tries = 0;
    while (v->n_tokens < n) {
        uint32_t have = v->n_tokens - first;
        /* left: any piece (recent ones often, so words grow); right: mostly short pieces */
        uint32_t l = first + rng_below(&rs, have);
        uint32_t r = first + rng_below(&rs, EW_MIN(have, n_alpha * 4));
        if (rng_below(&rs, 4) == 0) l = first; /* word start: U+2581 + piece */
        char buf[64];
        size_t ll = strlen(v->tokens[l]), rl = strlen(v->tokens[r]);
        if (ll + rl > 24 || !strcmp(v->tokens[r], "\xe2\x96\x81")) {
            if (++tries > n * 64u) break;
            continue;
        }
        memcpy(buf, v->tokens[l], ll);
        memcpy(buf + ll, v->tokens[r], rl);
        int added = gen_add(v, &seen, buf, ll + rl, EW_TOKTYPE_NORMAL);
        if (added < 0) goto oom;
        if (!added && ++tries > n * 64u) break;
    }
    if (v->n_tokens < n) {
        st = ew_error(EW_ERR_INTERNAL, "ew_vocab_generate: could only make %u of %u pieces", v->n_tokens, n);
        goto out;
    }
    for (uint32_t i = first; i < n; i++) v->scores[i] = -(float)(i - first);
    v->unk = 0;
    v->bos = 1;
    v->eos = 2;
    v->add_bos = true;
    goto out;
oom:
    st = ew_error(EW_ERR_NOMEM, "ew_vocab_generate: out of memory");
out:
    ew_strmap_free(&seen);
    if (st) ew_vocab_data_free(v);
    else *out = v;
    return st;
}

/* Byte-level BPE: the 256 byte characters in GPT-2's order, tokens made by merging two
 * existing tokens (each merge recorded), and <|endoftext|> last as BOS/EOS. */
static ew_status gen_bpe(uint32_t n, uint64_t seed, ew_vocab_data **out) {
    if (n < 257 || n > (1u << 22))
        return ew_error(EW_ERR_INVALID_ARG, "ew_vocab_generate: a gpt2 vocabulary needs 257..%u tokens, not %u", 1u << 22, n);
    ew_vocab_data *v = gen_new("gpt2", n);
    ew_strmap seen = {0};
    ew_status st = EW_OK;
    if (!v || !(v->merges = ew_calloc(n, sizeof *v->merges)) || ew_strmap_init(&seen, n) ||
        !(v->pre = ew_strdup("gpt-2"))) {
        st = ew_error(EW_ERR_NOMEM, "ew_vocab_generate: out of memory");
        goto out;
    }
    /* GPT-2's byte order: the printable Latin-1 bytes first, then the rest */
    int order[256], k = 0;
    for (int b = 0; b < 256; b++)
        if (ew_bpe_byte_decode((uint32_t)b) == b) order[k++] = b;
    for (int b = 0; b < 256; b++)
        if (ew_bpe_byte_decode((uint32_t)b) != b) order[k++] = b;
    for (int i = 0; i < 256; i++) {
        char buf[2];
        int l = ew_bpe_byte_encode((uint8_t)order[i], buf);
        if (gen_add(v, &seen, buf, (size_t)l, EW_TOKTYPE_NORMAL) < 0) goto oom;
    }
    /* favour letters and the space character, so merges look like words */
    static const char common[] = "etaoinshrdlucmwfgypbvk";
    uint64_t rs = seed;
    uint32_t tries = 0;
    while (v->n_tokens < n - 1) {
        uint32_t have = v->n_tokens, l, r;
        int32_t sp = ew_strmap_get(&seen, "\xc4\xa0", 2); /* the space character */
        uint32_t pick = rng_below(&rs, 8);
        l = pick < 2 ? (uint32_t)sp : pick < 5 ? (uint32_t)ew_strmap_get(&seen, &common[rng_below(&rs, 22)], 1)
                                                : rng_below(&rs, have);
        r = rng_below(&rs, 3) ? (uint32_t)ew_strmap_get(&seen, &common[rng_below(&rs, 22)], 1) : rng_below(&rs, have);
        size_t ll = strlen(v->tokens[l]), rl = strlen(v->tokens[r]);
        char buf[64];
        if (ll + rl > 32) {
            if (++tries > n * 64u) break;
            continue;
        }
        memcpy(buf, v->tokens[l], ll);
        memcpy(buf + ll, v->tokens[r], rl);
        int added = gen_add(v, &seen, buf, ll + rl, EW_TOKTYPE_NORMAL);
        if (added < 0) goto oom;
        if (!added) {
            if (++tries > n * 64u) break;
            continue;
        }
        char *m = ew_malloc(ll + rl + 2);
        if (!m) goto oom;
        memcpy(m, v->tokens[l], ll);
        m[ll] = ' ';
        memcpy(m + ll + 1, v->tokens[r], rl);
        m[ll + rl + 1] = 0;
        v->merges[v->n_merges++] = m;
    }
    if (v->n_tokens < n - 1) {
        st = ew_error(EW_ERR_INTERNAL, "ew_vocab_generate: could only make %u of %u tokens", v->n_tokens, n);
        goto out;
    }
    if (gen_add(v, &seen, "<|endoftext|>", 13, EW_TOKTYPE_CONTROL) < 0) goto oom;
    v->bos = v->eos = (int32_t)n - 1;
    goto out;
oom:
    st = ew_error(EW_ERR_NOMEM, "ew_vocab_generate: out of memory");
out:
    ew_strmap_free(&seen);
    if (st) ew_vocab_data_free(v);
    else *out = v;
    return st;
}

/* A generated vocabulary (see tokenizer.h); deterministic for a given seed. */
ew_status ew_vocab_generate(const char *model, uint32_t n, uint64_t seed, ew_vocab_data **out) {
    if (!out) return ew_error(EW_ERR_INVALID_ARG, "ew_vocab_generate: NULL out");
    *out = NULL;
    if (model && !strcmp(model, "llama")) return gen_spm(n, seed, out);
    if (model && !strcmp(model, "gpt2")) return gen_bpe(n, seed, out);
    return ew_error(EW_ERR_INVALID_ARG, "ew_vocab_generate: model '%s' is not 'llama' or 'gpt2'", model ? model : "(null)");
}

/* Writes the tokenizer.ggml.* keys of v, in the converter's order and names. */
ew_status ew_vocab_write_gguf(const ew_vocab_data *v, gguf_writer *w) {
    if (!v || !w || !v->model || (v->n_tokens && !v->tokens) || (v->n_merges && !v->merges))
        return ew_error(EW_ERR_INVALID_ARG, "ew_vocab_write_gguf: NULL or incomplete argument");
    for (uint32_t i = 0; i < v->n_tokens; i++)
        if (!v->tokens[i]) return ew_error(EW_ERR_INVALID_ARG, "ew_vocab_write_gguf: token %u is NULL", i);
    ew_status st;
    if ((st = gguf_set_str(w, "tokenizer.ggml.model", v->model))) return st;
    if (v->pre && (st = gguf_set_str(w, "tokenizer.ggml.pre", v->pre))) return st;
    if ((st = gguf_set_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)v->tokens, v->n_tokens))) return st;
    if (v->scores && (st = gguf_set_arr(w, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, v->scores, v->n_tokens))) return st;
    if (v->token_type && (st = gguf_set_arr(w, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, v->token_type, v->n_tokens)))
        return st;
    if (v->n_merges && (st = gguf_set_arr_str(w, "tokenizer.ggml.merges", (const char *const *)v->merges, v->n_merges)))
        return st;
    struct { const char *key; int32_t id; } ids[] = {
        {"tokenizer.ggml.bos_token_id", v->bos}, {"tokenizer.ggml.eos_token_id", v->eos},
        {"tokenizer.ggml.eot_token_id", v->eot}, {"tokenizer.ggml.unknown_token_id", v->unk},
        {"tokenizer.ggml.padding_token_id", v->pad}};
    for (size_t i = 0; i < EW_ARRAY_LEN(ids); i++)
        if (ids[i].id >= 0 && (st = gguf_set_u32(w, ids[i].key, (uint32_t)ids[i].id))) return st;
    if ((st = gguf_set_bool(w, "tokenizer.ggml.add_bos_token", v->add_bos))) return st;
    if ((st = gguf_set_bool(w, "tokenizer.ggml.add_eos_token", v->add_eos))) return st;
    if (v->chat_template && (st = gguf_set_str(w, "tokenizer.chat_template", v->chat_template))) return st;
    return EW_OK;
}
