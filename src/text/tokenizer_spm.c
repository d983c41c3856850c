/*
 * tokenizer_spm.c - SentencePiece-style BPE (tokenizer.ggml.model = "llama"), as llama.cpp's
 * llm_tokenizer_spm_session: spaces become U+2581 (with one more in front when the fragment
 * gets a space prefix), the text is cut into UTF-8 characters (by lead byte, unvalidated),
 * and adjacent symbols are merged while the merged text is a token, the highest-scoring
 * merge first (ties to the left). Symbols left outside the vocabulary are emitted as their
 * bytes' <0xNN> tokens.
 */
#include "text/tokenizer_internal.h"

#include <string.h>

/* Maps a float score to a key whose ascending order is the descending order of scores
 * (-0 and +0 compare equal, as in C). */
static inline uint32_t score_key(float f) {
    if (f == 0.0f) f = 0.0f;
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    u = (u & 0x80000000u) ? ~u : (u | 0x80000000u); /* ascending float -> ascending u */
    return ~u;
}

/* Priority of joining symbols l and r: their joined text's score (higher merges first),
 * -1 if the joined text is not a token. */
static int64_t merge_score(const ew_tokenizer *t, const char *w, const ew_sym *sym, int32_t l, int32_t r) {
    int32_t id = ew_strmap_get(&t->vocab, w + sym[l].off, sym[l].n + sym[r].n);
    return id < 0 ? -1 : (int64_t)score_key(t->score[id]);
}

/* True if symbol y is exactly one U+2581. */
static inline bool is_escaped_space(const char *w, const ew_sym *y) {
    return y->n == 3 && !memcmp(w + y->off, "\xe2\x96\x81", 3);
}

/* Encodes one raw-text fragment (no special tokens inside) and appends the ids. */
ew_status ew_spm_encode(const ew_tokenizer *t, ew_tok_scratch *s, const char *text, size_t len,
                        bool space_prefix, ew_tok_out *o) {
    ew_status st;
    size_t need;
    if (!ew_mul_size(len + 1, 3, &need)) return ew_error(EW_ERR_RANGE, "tokenizer: text too long");
    if (need > INT32_MAX) return ew_error(EW_ERR_RANGE, "tokenizer: a text fragment of %zu bytes is too long", len);
    if ((st = ew_tok_reserve((void **)&s->buf, &s->buf_cap, need, 1))) return st;
    char *w = s->buf;
    size_t n = 0;
    if (space_prefix) { memcpy(w, "\xe2\x96\x81", 3); n = 3; }
    for (size_t i = 0; i < len; i++) {
        if (text[i] == ' ') { memcpy(w + n, "\xe2\x96\x81", 3); n += 3; }
        else w[n++] = text[i];
    }
    if (n == 0) return EW_OK;

    if ((st = ew_tok_reserve(&s->sym, &s->sym_cap, n, sizeof(ew_sym)))) return st;
    ew_sym *sym = s->sym;
    int32_t ns = 0;
    for (size_t off = 0; off < n;) {
        size_t cl = EW_MIN(ew_utf8_len((unsigned char)w[off]), n - off);
        sym[ns] = (ew_sym){ns - 1, ns + 1, (uint32_t)off, (uint32_t)cl};
        ns++;
        off += cl;
    }
    /* Merge word by word when no token can span a word start (see ew_tokenizer.spm_split):
     * the same result as merging the whole text at once, with small heaps. */
    for (int32_t a = 0; a < ns;) {
        int32_t b = a + 1;
        if (t->spm_split)
            while (b < ns && !(is_escaped_space(w, &sym[b]) && !is_escaped_space(w, &sym[b - 1]))) b++;
        else b = ns;
        sym[a].prev = -1;
        sym[b - 1].next = -1;
        if (b - a > 1) {
            if ((st = ew_tok_reserve(&s->heap, &s->heap_cap, (size_t)(b - a) * 3, sizeof(ew_bigram)))) return st;
            ew_tok_merge(t, w, sym, a, b - a, s->heap, merge_score);
        }
        for (int32_t i = a; i != -1; i = sym[i].next) {
            const char *p = w + sym[i].off;
            int32_t id = ew_strmap_get(&t->vocab, p, sym[i].n);
            if (id >= 0) {
                ew_out_push(o, id);
                continue;
            }
            /* byte fallback; llama.cpp throws when a byte has no token: use <unk> then */
            for (uint32_t j = 0; j < sym[i].n; j++) {
                int32_t bt = t->byte_tok[(unsigned char)p[j]];
                if (bt < 0) bt = t->id.unk;
                if (bt >= 0) ew_out_push(o, bt);
            }
        }
        a = b;
    }
    return EW_OK;
}
