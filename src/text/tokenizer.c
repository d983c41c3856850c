/*
 * tokenizer.c - building a tokenizer from its metadata (the rules of llama.cpp's
 * llama_vocab::impl::load: defaults per model, special ids, token attributes, the
 * end-of-generation set found by token text, the special-token cache) and the accessors.
 * Encoding is in tokenizer_encode.c, reading GGUF metadata in tokenizer_load.c.
 */
#include "text/tokenizer_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const k_id_keys[EW_TOK_ID_SLOTS] = {
    "tokenizer.ggml.bos_token_id",     "tokenizer.ggml.eos_token_id",
    "tokenizer.ggml.eot_token_id",     "tokenizer.ggml.eom_token_id",
    "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.seperator_token_id",
    "tokenizer.ggml.padding_token_id", "tokenizer.ggml.mask_token_id",
    "tokenizer.ggml.fim_pre_token_id", "tokenizer.ggml.fim_suf_token_id",
    "tokenizer.ggml.fim_mid_token_id", "tokenizer.ggml.fim_pad_token_id",
    "tokenizer.ggml.fim_rep_token_id", "tokenizer.ggml.fim_sep_token_id",
    "tokenizer.ggml.prefix_token_id",  "tokenizer.ggml.suffix_token_id",
    "tokenizer.ggml.middle_token_id",
};

/* Key name of special id slot i. */
const char *ew_tok_id_key(int i) { return i >= 0 && i < EW_TOK_ID_SLOTS ? k_id_keys[i] : "?"; }

/* The ew_tok_ids field slot i sets (deprecated prefix/suffix/middle -> fim_pre/suf/mid). */
static int32_t *id_slot(ew_tok_ids *ids, int i) {
    int32_t *f = &ids->bos;
    return &f[i < 14 ? i : i - 6];
}

/* Token texts that mark end of generation (llama.cpp's list). */
static const char *const k_eog_texts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
    "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
    "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
    "<\xef\xbd\x9c" "end\xe2\x96\x81" "of\xe2\x96\x81" "sentence\xef\xbd\x9c>", "[e~[", NULL};
static const char *const k_eot_texts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
    "<EOT>", "_<EOT>", "[EOT]", "<\xef\xbd\x9c" "end\xe2\x96\x81" "of\xe2\x96\x81" "sentence\xef\xbd\x9c>",
    "<end_of_utterance>", NULL};
static const char *const k_eom_texts[] = {"<|eom_id|>", NULL};
static const char *const k_fim_pre_texts[] = {
    "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<\xef\xbd\x9c" "fim\xe2\x96\x81" "begin\xef\xbd\x9c>",
    "<PRE>", "\xe2\x96\x81<PRE>", "<|code_prefix|>", "<|prefix|>", NULL};
static const char *const k_fim_suf_texts[] = {
    "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<\xef\xbd\x9c" "fim\xe2\x96\x81" "hole\xef\xbd\x9c>",
    "<SUF>", "\xe2\x96\x81<SUF>", "<|code_suffix|>", "<|suffix|>", NULL};
static const char *const k_fim_mid_texts[] = {
    "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<\xef\xbd\x9c" "fim\xe2\x96\x81" "end\xef\xbd\x9c>",
    "<MID>", "\xe2\x96\x81<MID>", "<|code_middle|>", "<|middle|>", NULL};
static const char *const k_fim_pad_texts[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]", NULL};
static const char *const k_fim_rep_texts[] = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>", NULL};
static const char *const k_fim_sep_texts[] = {"<|file_sep|>", NULL};

static inline const char *tok_text(const ew_tokenizer *t, int32_t id) { return t->pool + t->off[id]; }

/* Id of the first token (lowest id) whose text is one of texts, or -1. */
static int32_t find_text(const ew_tokenizer *t, const char *const *texts) {
    int32_t best = -1;
    for (int i = 0; texts[i]; i++) {
        int32_t id = ew_strmap_get(&t->vocab, texts[i], strlen(texts[i]));
        if (id >= 0 && (best < 0 || id < best)) best = id;
    }
    return best;
}

static int32_t lookup(const ew_tokenizer *t, const char *s) { return ew_strmap_get(&t->vocab, s, strlen(s)); }

/* If *id is unset, find it by text (llama.cpp's auto-detection) and mark it control. */
static void detect(ew_tokenizer *t, int32_t *id, const char *const *texts) {
    if (*id >= 0) return;
    *id = find_text(t, texts);
    if (*id >= 0) t->attr[*id] |= EW_ATTR_CONTROL;
}

/* Attribute bits of a GGUF token type (unknown types are 'undefined', as in llama.cpp). */
static uint16_t type_attr(int32_t type) {
    switch (type) {
    case EW_TOKTYPE_UNKNOWN: return EW_ATTR_UNKNOWN;
    case EW_TOKTYPE_UNUSED: return EW_ATTR_UNUSED;
    case EW_TOKTYPE_NORMAL: return EW_ATTR_NORMAL;
    case EW_TOKTYPE_CONTROL: return EW_ATTR_CONTROL;
    case EW_TOKTYPE_USER_DEFINED: return EW_ATTR_USER_DEFINED;
    case EW_TOKTYPE_BYTE: return EW_ATTR_BYTE;
    default: return EW_ATTR_UNDEFINED;
    }
}

/* Copies the token texts into one pool and indexes them; errors on duplicates. */
static ew_status load_tokens(ew_tokenizer *t, const ew_tok_spec *sp) {
    uint32_t n = sp->n_tokens;
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; i++) total += (sp->tokens[i].len ? sp->tokens[i].len : 24) + 1;
    if (total > SIZE_MAX / 2) return ew_error(EW_ERR_NOMEM, "%s: tokenizer.ggml.tokens too large", sp->name);
    t->pool = ew_malloc((size_t)total);
    t->off = ew_calloc(n ? n : 1, sizeof *t->off);
    t->len = ew_calloc(n ? n : 1, sizeof *t->len);
    t->score = ew_calloc(n ? n : 1, sizeof *t->score);
    t->attr = ew_calloc(n ? n : 1, sizeof *t->attr);
    t->eog = ew_calloc(n ? n : 1, 1);
    if (!t->pool || !t->off || !t->len || !t->score || !t->attr || !t->eog)
        return ew_error(EW_ERR_NOMEM, "%s: out of memory for %u tokens", sp->name, n);
    ew_status st = ew_strmap_init(&t->vocab, n);
    if (st) return st;
    uint64_t o = 0;
    for (uint32_t i = 0; i < n; i++) {
        gguf_str s = sp->tokens[i];
        char *dst = t->pool + o;
        if (s.len == 0) {
            ew_log(EW_LOG_WARN, "%s: tokenizer.ggml.tokens: empty token at index %u", sp->name, i);
            s.len = (uint64_t)snprintf(dst, 25, "[EMPTY_%u]", i);
        } else {
            if (s.len > UINT32_MAX) return ew_error(EW_ERR_FORMAT, "%s: tokenizer.ggml.tokens[%u] is too long", sp->name, i);
            memcpy(dst, s.ptr, s.len);
        }
        dst[s.len] = 0;
        t->off[i] = o;
        t->len[i] = (uint32_t)s.len;
        o += s.len + 1;
        int32_t old = ew_strmap_put(&t->vocab, dst, (uint32_t)s.len, (int32_t)i);
        if (old >= 0)
            return ew_error(EW_ERR_FORMAT, "%s: tokenizer.ggml.tokens: duplicate token '%.64s' has ids %d and %u",
                            sp->name, dst, old, i);
        if (old == -2) return ew_error(EW_ERR_INTERNAL, "%s: token map full", sp->name);
        t->score[i] = sp->scores ? sp->scores[i] : 0.0f;
        t->attr[i] = sp->types ? type_attr(sp->types[i]) : EW_ATTR_NORMAL;
    }
    return EW_OK;
}

/* Indexes the merges "a b" -> rank (first occurrence wins; entries without a space after
 * the first byte are ignored, as llama.cpp turns them into a pair of empty strings). */
static ew_status load_merges(ew_tokenizer *t, const ew_tok_spec *sp) {
    uint64_t total = 0, n = sp->n_merges;
    if (n > INT32_MAX) return ew_error(EW_ERR_FORMAT, "%s: tokenizer.ggml.merges has %llu entries", sp->name, (unsigned long long)n);
    for (uint64_t i = 0; i < n; i++) total += sp->merges[i].len + 1;
    if (total > SIZE_MAX / 2) return ew_error(EW_ERR_NOMEM, "%s: tokenizer.ggml.merges too large", sp->name);
    t->merge_pool = ew_malloc((size_t)total + 1);
    if (!t->merge_pool) return ew_error(EW_ERR_NOMEM, "%s: out of memory for merges", sp->name);
    ew_status st = ew_strmap_init(&t->merges, (uint32_t)n);
    if (st) return st;
    uint64_t o = 0, n_bad = 0;
    for (uint64_t i = 0; i < n; i++) {
        gguf_str m = sp->merges[i];
        const char *sp1 = m.len > 1 ? memchr(m.ptr + 1, ' ', m.len - 1) : NULL;
        if (!sp1 || m.len > UINT32_MAX) { n_bad++; continue; }
        char *dst = t->merge_pool + o;
        memcpy(dst, m.ptr, m.len);
        dst[m.len] = 0;
        o += m.len + 1;
        if (ew_strmap_put(&t->merges, dst, (uint32_t)m.len, (int32_t)i) == -2)
            return ew_error(EW_ERR_INTERNAL, "%s: merge map full", sp->name);
    }
    if (n_bad) ew_log(EW_LOG_DEBUG, "%s: tokenizer.ggml.merges: %llu entries without a space ignored", sp->name, (unsigned long long)n_bad);
    return EW_OK;
}

/* Applies the special-id keys over the defaults, as llama.cpp: an out-of-range default is
 * disabled, an out-of-range key value is ignored with a warning. */
static void load_ids(ew_tokenizer *t, const ew_tok_spec *sp) {
    for (int i = 0; i < EW_TOK_ID_SLOTS; i++) {
        int32_t *id = id_slot(&t->id, i);
        if (*id >= 0 && (uint32_t)*id >= t->n_vocab) {
            ew_log(EW_LOG_WARN, "%s: default special token '%s' = %d out of vocab range, disabling", sp->name, k_id_keys[i], *id);
            *id = -1;
        }
        if (!sp->has_id[i]) continue;
        if (sp->ids[i] == -1 || sp->ids[i] == UINT32_MAX) /* "none", as llama2.c's export writes */
            ew_log(EW_LOG_DEBUG, "%s: %s = %lld: no such token, using default id %d", sp->name, k_id_keys[i],
                   (long long)sp->ids[i], *id);
        else if (sp->ids[i] < 0 || sp->ids[i] >= (int64_t)t->n_vocab)
            ew_log(EW_LOG_WARN, "%s: bad special token: '%s' = %lld (vocab has %u tokens), using default id %d",
                   sp->name, k_id_keys[i], (long long)sp->ids[i], t->n_vocab, *id);
        else
            *id = (int32_t)sp->ids[i];
    }
}

/* Builds the end-of-generation set and the attribute fix-ups llama.cpp makes by text. */
static void load_eog(ew_tokenizer *t) {
    ew_tok_ids *d = &t->id;
    detect(t, &d->eot, k_eot_texts);
    detect(t, &d->eom, k_eom_texts);
    detect(t, &d->fim_pre, k_fim_pre_texts);
    detect(t, &d->fim_suf, k_fim_suf_texts);
    detect(t, &d->fim_mid, k_fim_mid_texts);
    detect(t, &d->fim_pad, k_fim_pad_texts);
    detect(t, &d->fim_rep, k_fim_rep_texts);
    detect(t, &d->fim_sep, k_fim_sep_texts);
    if (d->fim_pad >= 0) t->eog[d->fim_pad] = 1;
    if (d->fim_rep >= 0) t->eog[d->fim_rep] = 1;
    if (d->fim_sep >= 0) t->eog[d->fim_sep] = 1;
    for (int i = 0; k_eog_texts[i]; i++) {
        int32_t id = lookup(t, k_eog_texts[i]);
        if (id < 0) continue;
        t->eog[id] = 1;
        t->attr[id] |= EW_ATTR_CONTROL;
    }
    static const char *const always_render[] = {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>", NULL};
    for (int i = 0; always_render[i]; i++) {
        int32_t id = lookup(t, always_render[i]);
        if (id >= 0) t->attr[id] = EW_ATTR_USER_DEFINED;
    }
    if (d->eos >= 0) t->eog[d->eos] = 1;
    if (d->eot >= 0) t->eog[d->eot] = 1;
    if (d->eom >= 0) t->eog[d->eom] = 1;
    /* o200k_harmony / solar-open: <|end|> is not EOG when <|return|> + <|call|> (or <|calls|>
     * + <|flush|>) are */
    int32_t ret = lookup(t, "<|return|>"), call = lookup(t, "<|call|>"), calls = lookup(t, "<|calls|>");
    int32_t flush = lookup(t, "<|flush|>"), end = lookup(t, "<|end|>");
    bool has_call = (call >= 0 && t->eog[call]) || (calls >= 0 && t->eog[calls]);
    bool has_ret = ret >= 0 && t->eog[ret], has_flush = flush >= 0 && t->eog[flush];
    if (end >= 0 && t->eog[end] && ((has_ret && has_call) || (has_call && has_flush))) {
        t->eog[end] = 0;
        t->attr[end] = EW_ATTR_USER_DEFINED;
    }
    /* gemma4 / paddleocr: </s> is not EOG when <|tool_response> is */
    int32_t tr = lookup(t, "<|tool_response>"), s_end = lookup(t, "</s>");
    if (tr >= 0 && t->eog[tr] && s_end >= 0 && t->eog[s_end]) {
        t->eog[s_end] = 0;
        t->attr[s_end] = EW_ATTR_NORMAL;
    }
}

static int u64_cmp(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Lists the tokens matched in raw text before anything else: longest text first, equal
 * lengths by id (llama.cpp's order there is unspecified). */
static ew_status load_special_cache(ew_tokenizer *t, const ew_tok_spec *sp) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->n_vocab; i++)
        if (t->attr[i] & (EW_ATTR_CONTROL | EW_ATTR_USER_DEFINED | EW_ATTR_UNKNOWN)) n++;
    uint64_t *keys = ew_malloc((n ? n : 1) * sizeof *keys);
    t->special = ew_malloc((n ? n : 1) * sizeof *t->special);
    if (!keys || !t->special) {
        ew_free(keys);
        return ew_error(EW_ERR_NOMEM, "%s: out of memory", sp->name);
    }
    uint32_t k = 0;
    for (uint32_t i = 0; i < t->n_vocab; i++)
        if (t->attr[i] & (EW_ATTR_CONTROL | EW_ATTR_USER_DEFINED | EW_ATTR_UNKNOWN))
            keys[k++] = ((uint64_t)(UINT32_MAX - t->len[i]) << 32) | i;
    qsort(keys, n, sizeof *keys, u64_cmp);
    for (uint32_t i = 0; i < n; i++) t->special[i] = (int32_t)(uint32_t)keys[i];
    t->n_special = n;
    ew_free(keys);
    return EW_OK;
}

/* llama.cpp's per-model attribute tweak: Phi-3 strips spaces right of special tokens. */
static void load_name_attrs(ew_tokenizer *t, const ew_tok_spec *sp) {
    char name[256];
    size_t n = EW_MIN(sp->general_name.len, sizeof name - 1);
    for (size_t i = 0; i < n; i++) name[i] = (char)tolower((unsigned char)sp->general_name.ptr[i]);
    name[n] = 0;
    if (!strstr(name, "phi-3") && !strstr(name, "phi3")) return;
    for (uint32_t i = 0; i < t->n_special; i++) t->attr[t->special[i]] |= EW_ATTR_RSTRIP;
    int32_t id = lookup(t, "</s>");
    if (id >= 0) t->attr[id] |= EW_ATTR_RSTRIP;
    static const char *const keep[] = {"<unk>", "<s>", "<|endoftext|>"};
    for (int i = 0; i < 3; i++)
        if ((id = lookup(t, keep[i])) >= 0) t->attr[id] &= (uint16_t)~EW_ATTR_RSTRIP;
}

/* Token for byte b: SPM <0xNN> (or the byte itself), BPE the one-byte string. */
static void load_byte_tokens(ew_tokenizer *t) {
    static const char hex[] = "0123456789ABCDEF";
    for (int b = 0; b < 256; b++) {
        char one = (char)b;
        int32_t id = -1;
        if (t->type == EW_VOCAB_SPM) {
            char buf[6] = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>'};
            id = ew_strmap_get(&t->vocab, buf, 6);
        }
        if (id < 0) id = ew_strmap_get(&t->vocab, &one, 1);
        t->byte_tok[b] = id;
    }
}

/* SPM merges never cross a position where a character other than U+2581 is followed by
 * U+2581 if no token holds that pattern: a merge there would make such a token. (Tokens are
 * valid UTF-8, so the symbols a token is merged from are its characters.) */
static bool spm_words_independent(const ew_tokenizer *t) {
    for (uint32_t i = 0; i < t->n_vocab; i++) {
        const char *s = tok_text(t, i);
        uint32_t n = t->len[i];
        if (!gguf_utf8_valid(s, n)) return false;
        for (uint32_t k = 1; k + 3 <= n; k++)
            if (!memcmp(s + k, "\xe2\x96\x81", 3) && (k < 3 || memcmp(s + k - 3, "\xe2\x96\x81", 3))) return false;
    }
    return true;
}

/* Builds a tokenizer from a spec (see tokenizer_internal.h). */
ew_status ew_tokenizer_build(const ew_tok_spec *sp, ew_tokenizer **out) {
    *out = NULL;
    ew_tokenizer *t = ew_calloc(1, sizeof *t);
    if (!t) return ew_error(EW_ERR_NOMEM, "%s: out of memory for the tokenizer", sp->name);
    ew_status st = EW_OK;
    ew_tok_ids none = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
    t->id = none;
    if (gguf_str_eq(sp->model, "llama")) {
        t->type = EW_VOCAB_SPM;
        t->id.bos = 1;
        t->id.eos = 2;
        t->id.unk = 0;
        t->add_space_prefix = true;
        t->add_bos = true;
    } else if (gguf_str_eq(sp->model, "gpt2")) {
        t->type = EW_VOCAB_BPE;
        t->id.bos = 11;
        t->id.eos = 11;
        t->clean_spaces = true;
        if (!sp->has_pre || sp->pre.len == 0) {
            ew_log(EW_LOG_WARN, "%s: missing tokenizer.ggml.pre, using 'default' (generation quality will be degraded)", sp->name);
            ew_pre_lookup("default", 7, &t->pre);
        } else if (!ew_pre_lookup(sp->pre.ptr, sp->pre.len, &t->pre)) {
            st = ew_error(EW_ERR_UNSUPPORTED, "%s: tokenizer.ggml.pre '%.*s' is not a supported pre-tokenizer", sp->name,
                          (int)EW_MIN(sp->pre.len, 64), sp->pre.ptr);
            goto fail;
        }
        if (gguf_str_eq(sp->pre, "glm4") || gguf_str_eq(sp->pre, "chatglm-bpe")) t->id.bos = -1;
        t->add_bos = t->pre.add_bos;
        t->clean_spaces = t->pre.clean_spaces;
    } else {
        st = ew_error(EW_ERR_UNSUPPORTED, "%s: tokenizer.ggml.model '%.*s' is not supported (only 'llama' and 'gpt2')",
                      sp->name, (int)EW_MIN(sp->model.len, 64), sp->model.ptr);
        goto fail;
    }
    if (sp->add_space_prefix >= 0) t->add_space_prefix = sp->add_space_prefix;
    t->n_vocab = sp->n_tokens;
    if ((st = load_tokens(t, sp))) goto fail;
    if (t->type == EW_VOCAB_BPE) {
        if (!sp->has_merges) {
            st = ew_error(EW_ERR_FORMAT, "%s: tokenizer.ggml.merges is missing (needed by a gpt2 tokenizer)", sp->name);
            goto fail;
        }
        if ((st = load_merges(t, sp))) goto fail;
        if ((st = ew_pretok_new(t->pre.id, &t->pretok))) goto fail;
    }
    load_byte_tokens(t);
    if (t->type == EW_VOCAB_SPM) t->spm_split = spm_words_independent(t);
    load_ids(t, sp);
    if (sp->add_bos >= 0) t->add_bos = sp->add_bos;
    if (sp->add_eos >= 0) t->add_eos = sp->add_eos;
    if (t->add_bos && t->id.bos < 0) {
        st = ew_error(EW_ERR_FORMAT, "%s: tokenizer.ggml.add_bos_token is true, but tokenizer.ggml.bos_token_id is not set", sp->name);
        goto fail;
    }
    if (t->add_eos && t->id.eos < 0) {
        st = ew_error(EW_ERR_FORMAT, "%s: tokenizer.ggml.add_eos_token is true, but tokenizer.ggml.eos_token_id is not set", sp->name);
        goto fail;
    }
    load_eog(t);
    if ((st = load_special_cache(t, sp))) goto fail;
    load_name_attrs(t, sp);
    if ((st = ew_tokenizer_make_pieces(t))) goto fail;
    *out = t;
    return EW_OK;
fail:
    ew_tokenizer_free(t);
    return st;
}

/* Frees everything the tokenizer owns (NULL is fine). */
void ew_tokenizer_free(ew_tokenizer *t) {
    if (!t) return;
    ew_free(t->pool);
    ew_free(t->off);
    ew_free(t->len);
    ew_free(t->score);
    ew_free(t->attr);
    ew_strmap_free(&t->vocab);
    ew_free(t->merge_pool);
    ew_strmap_free(&t->merges);
    ew_free(t->piece_pool);
    ew_free(t->piece_off);
    ew_free(t->piece_len);
    ew_free(t->special);
    ew_free(t->eog);
    ew_pretok_free(t->pretok);
    ew_free(t);
}

/* ---- decoding ---- */

/* Byte value of a <0xNN> byte token, parsed like llama.cpp (strtol of text[3..5), base 16). */
static int byte_token_value(const char *s, uint32_t len) {
    int v = 0, k = 0;
    for (uint32_t i = 3; i < len && i < 5; i++, k++) {
        int c = (unsigned char)s[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else break;
        v = v * 16 + d;
    }
    return v & 0xFF;
}

/* Writes the decoded bytes of token id into out (NULL: just measure); returns the count.
 * The rules of llama.cpp's token_to_piece with special = true. */
static size_t piece_of(const ew_tokenizer *t, int32_t id, char *out) {
    const char *s = tok_text(t, id);
    uint32_t len = t->len[id];
    uint16_t a = t->attr[id];
    size_t o = 0;
    if (a & (EW_ATTR_UNKNOWN | EW_ATTR_CONTROL | EW_ATTR_USER_DEFINED)) {
        if (out) memcpy(out, s, len);
        return len;
    }
    if (a & EW_ATTR_NORMAL) {
        if (t->type == EW_VOCAB_SPM) {
            for (uint32_t i = 0; i < len;) {
                if (i + 3 <= len && memcmp(s + i, "\xe2\x96\x81", 3) == 0) {
                    if (out) out[o] = ' ';
                    o++;
                    i += 3;
                } else {
                    if (out) out[o] = s[i];
                    o++;
                    i++;
                }
            }
            return o;
        }
        /* byte-level: each char back to its byte; strangers as llama.cpp's [UNK_BYTE_...] */
        const unsigned char *u = (const unsigned char *)s;
        for (uint32_t i = 0; i < len;) {
            uint32_t cp;
            size_t k = ew_utf8_get(u + i, len - i, &cp);
            if (!k) { cp = 0xFFFD; k = 1; }
            int b = ew_bpe_byte_decode(cp);
            i += (uint32_t)k;
            if (b >= 0) {
                if (out) out[o] = (char)b;
                o++;
                continue;
            }
            char utf[4], tmp[16];
            int ul = ew_utf8_put(cp > 0x10FFFF ? 0xFFFD : cp, utf);
            const char *pre = "[UNK_BYTE_0x";
            if (out) memcpy(out + o, pre, 12);
            o += 12;
            for (int j = 0; j < ul; j++) {
                snprintf(tmp, sizeof tmp, "%02x", (unsigned char)utf[j]);
                if (out) memcpy(out + o, tmp, 2);
                o += 2;
            }
            if (out) { memcpy(out + o, s, len); out[o + len] = ']'; }
            o += len + 1;
        }
        return o;
    }
    if (a & EW_ATTR_BYTE) {
        if (len <= 3) return 0; /* llama.cpp would throw; nothing to print */
        if (out) out[0] = (char)byte_token_value(s, len);
        return 1;
    }
    return 0; /* undefined / unused tokens print nothing */
}

/* Precomputes every token's decoded bytes into one pool. */
ew_status ew_tokenizer_make_pieces(ew_tokenizer *t) {
    uint64_t total = 0;
    uint32_t n = t->n_vocab;
    t->piece_off = ew_calloc(n ? n : 1, sizeof *t->piece_off);
    t->piece_len = ew_calloc(n ? n : 1, sizeof *t->piece_len);
    if (!t->piece_off || !t->piece_len) return ew_error(EW_ERR_NOMEM, "tokenizer: out of memory for pieces");
    for (uint32_t i = 0; i < n; i++) {
        size_t l = piece_of(t, (int32_t)i, NULL);
        if (l > UINT32_MAX) return ew_error(EW_ERR_FORMAT, "tokenizer: token %u decodes to too many bytes", i);
        t->piece_off[i] = total;
        t->piece_len[i] = (uint32_t)l;
        total += l;
    }
    if (total > SIZE_MAX / 2) return ew_error(EW_ERR_NOMEM, "tokenizer: pieces too large");
    t->piece_pool = ew_malloc((size_t)total + 1);
    if (!t->piece_pool) return ew_error(EW_ERR_NOMEM, "tokenizer: out of memory for pieces");
    for (uint32_t i = 0; i < n; i++) piece_of(t, (int32_t)i, t->piece_pool + t->piece_off[i]);
    return EW_OK;
}

/* Same contract as ew_token_to_bytes(): the token's bytes (control/unknown tokens only when
 * render_special), at most cap written, the full count returned; -1 for a bad id. */
int ew_tokenizer_decode_token(const ew_tokenizer *t, int32_t id, bool render_special, char *buf, size_t cap) {
    if (!t || id < 0 || (uint32_t)id >= t->n_vocab) return -1;
    if (!render_special && (t->attr[id] & (EW_ATTR_UNKNOWN | EW_ATTR_CONTROL))) return 0;
    uint32_t len = t->piece_len[id];
    if (buf && cap) memcpy(buf, t->piece_pool + t->piece_off[id], EW_MIN((size_t)len, cap));
    return len > INT32_MAX ? INT32_MAX : (int)len;
}

/* ---- accessors ---- */

/* Vocabulary size (0 for NULL). */
int ew_tokenizer_n_vocab(const ew_tokenizer *t) { return t ? (int)t->n_vocab : 0; }

/* BOS / EOS ids after defaults and metadata, -1 if none. */
int32_t ew_tokenizer_bos(const ew_tokenizer *t) { return t ? t->id.bos : -1; }
int32_t ew_tokenizer_eos(const ew_tokenizer *t) { return t ? t->id.eos : -1; }

/* True when encoding puts a space in front of the text (SPM). */
/* Whether encoding with add_special puts BOS first. */
bool ew_tokenizer_add_bos(const ew_tokenizer *t) { return t->add_bos; }

bool ew_tokenizer_add_space_prefix(const ew_tokenizer *t) { return t && t->add_space_prefix; }

/* True for ids in the end-of-generation set; false for anything out of range. */
bool ew_tokenizer_is_eog(const ew_tokenizer *t, int32_t id) {
    return t && id >= 0 && (uint32_t)id < t->n_vocab && t->eog[id];
}

/* The stored text of a token (NUL-terminated), NULL for a bad id. */
const char *ew_tokenizer_piece(const ew_tokenizer *t, int32_t id) {
    if (!t || id < 0 || (uint32_t)id >= t->n_vocab) return NULL;
    return tok_text(t, id);
}

/* Queues the merge of symbols l and r when prio says they merge. */
static void push_pair(const ew_tokenizer *t, const char *w, ew_sym *sym, ew_bigram *heap, size_t *nh,
                      ew_merge_prio_fn prio, int32_t l, int32_t r) {
    if (l < 0 || r < 0) return;
    int64_t p = prio(t, w, sym, l, r);
    if (p < 0) return;
    ew_bigram b = {((uint64_t)p << 32) | (uint32_t)l, l, r, sym[l].n + sym[r].n};
    ew_heap_push(heap, nh, b);
}

void ew_tok_merge(const ew_tokenizer *t, const char *w, ew_sym *sym, int32_t first, int32_t n, ew_bigram *heap,
                  ew_merge_prio_fn prio) {
    size_t nh = 0;
    for (int32_t i = first + 1; i < first + n; i++) push_pair(t, w, sym, heap, &nh, prio, i - 1, i);
    while (nh) {
        ew_bigram b = ew_heap_pop(heap, &nh);
        ew_sym *l = &sym[b.left], *r = &sym[b.right];
        if (l->n == 0 || r->n == 0 || l->n + r->n != b.size) continue; /* stale */
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) sym[r->next].prev = b.left;
        push_pair(t, w, sym, heap, &nh, prio, l->prev, b.left);
        push_pair(t, w, sym, heap, &nh, prio, b.left, l->next);
    }
}
