/*
 * tokenizer_bpe.c - byte-level BPE (tokenizer.ggml.model = "gpt2"), as llama.cpp's
 * llm_tokenizer_bpe_session: the text is decoded to code points the lenient way llama.cpp
 * does (each invalid byte becomes U+FFFD), split by the pre-tokenizer regexes, each piece's
 * bytes mapped to GPT-2's byte characters, then merged by rank (lowest first, ties to the
 * left) within the piece. Symbols that end up outside the vocabulary fall back to the tokens
 * of their single bytes, if any.
 */
#include "text/tokenizer_internal.h"

#include <string.h>

/* ---- GPT-2 bytes_to_unicode ---- */

/* Code point standing for byte b: printable Latin-1 bytes stand for themselves, the other
 * 68 map to 256.. in byte order. */
static inline uint32_t byte_cp(uint8_t b) {
    if (b <= 0x20) return 256u + b;
    if (b >= 0x7F && b <= 0xA0) return 256u + 33u + (b - 0x7Fu);
    if (b == 0xAD) return 256u + 33u + 34u;
    return b;
}

/* UTF-8 of the character standing for byte b (1 or 2 bytes written to out). */
int ew_bpe_byte_encode(uint8_t b, char out[2]) {
    return ew_utf8_put(byte_cp(b), out);
}

/* Byte a GPT-2 byte character stands for, or -1 if cp is not one. */
int ew_bpe_byte_decode(uint32_t cp) {
    if ((cp >= 0x21 && cp <= 0x7E) || (cp >= 0xA1 && cp <= 0xAC) || (cp >= 0xAE && cp <= 0xFF)) return (int)cp;
    if (cp >= 256 && cp <= 256 + 32) return (int)(cp - 256);
    if (cp >= 256 + 33 && cp <= 256 + 66) return (int)(0x7F + (cp - 256 - 33));
    if (cp == 256 + 67) return 0xAD;
    return -1;
}

/* ---- scratch ---- */

/* Grows *p to hold n elements of esz bytes (at least doubling). */
ew_status ew_tok_reserve(void **p, size_t *cap, size_t n, size_t esz) {
    if (n <= *cap) return EW_OK;
    size_t nc = *cap ? *cap : 64, bytes;
    while (nc < n) {
        if (nc > SIZE_MAX / 2) return ew_error(EW_ERR_NOMEM, "tokenizer: %zu elements is too many", n);
        nc *= 2;
    }
    if (!ew_mul_size(nc, esz, &bytes)) return ew_error(EW_ERR_NOMEM, "tokenizer: %zu elements is too many", n);
    void *q = ew_realloc(*p, bytes);
    if (!q) return ew_error(EW_ERR_NOMEM, "tokenizer: out of memory for %zu bytes of scratch", bytes);
    *p = q;
    *cap = nc;
    return EW_OK;
}

/* Frees the per-call scratch. */
void ew_tok_scratch_free(ew_tok_scratch *s) {
    ew_free(s->buf);
    ew_free(s->buf2);
    ew_free(s->sym);
    ew_free(s->heap);
    ew_pretok_scratch_free(&s->pre);
    memset(s, 0, sizeof *s);
}

/* ---- merging one piece ---- */

/* The merge rank of "l r" (lower merges first), -1 if it is not a merge rule. */
static int64_t merge_rank(const ew_tokenizer *t, const char *w, const ew_sym *sym, int32_t l, int32_t r) {
    return ew_strmap_get2(&t->merges, w + sym[l].off, sym[l].n, ' ', w + sym[r].off, sym[r].n);
}

/* Merges the byte-encoded piece w[0..n) and appends its ids. */
static ew_status bpe_word(const ew_tokenizer *t, ew_tok_scratch *s, const char *w, size_t n, ew_tok_out *o) {
    if (t->pre.ignore_merges) {
        int32_t id = ew_strmap_get(&t->vocab, w, n);
        if (id >= 0) { ew_out_push(o, id); return EW_OK; }
    }
    if (n > INT32_MAX) return ew_error(EW_ERR_RANGE, "tokenizer: a piece of %zu bytes is too long", n);
    ew_status st;
    if ((st = ew_tok_reserve(&s->sym, &s->sym_cap, n, sizeof(ew_sym)))) return st;
    ew_sym *sym = s->sym;
    int32_t ns = 0;
    for (size_t off = 0; off < n;) {
        size_t cl = EW_MIN(ew_utf8_len((unsigned char)w[off]), n - off);
        sym[ns] = (ew_sym){ns - 1, -1, (uint32_t)off, (uint32_t)cl};
        if (ns > 0) sym[ns - 1].next = ns;
        ns++;
        off += cl;
    }
    if (ns > 1) {
        /* each merge pushes at most two bigrams and removes a symbol: 3 * ns bounds the heap */
        if ((st = ew_tok_reserve(&s->heap, &s->heap_cap, (size_t)ns * 3, sizeof(ew_bigram)))) return st;
        ew_tok_merge(t, w, sym, 0, ns, s->heap, merge_rank);
    }
    for (int32_t i = 0; i != -1; i = sym[i].next) {
        const char *p = w + sym[i].off;
        int32_t id = ew_strmap_get(&t->vocab, p, sym[i].n);
        if (id >= 0) {
            ew_out_push(o, id);
            continue;
        }
        for (uint32_t j = 0; j < sym[i].n; j++) {
            int32_t b = t->byte_tok[(unsigned char)p[j]];
            if (b >= 0) ew_out_push(o, b);
        }
    }
    return EW_OK;
}

/* ---- one fragment ---- */

/* Re-encodes text[0..len) the way llama.cpp's unicode_cpts_from_utf8 + unicode_cpt_to_utf8
 * round trip does: every byte that does not start a valid sequence (see ew_utf8_get)
 * becomes U+FFFD, the rest is copied. Surrogates pass through as their three bytes; PCRE2
 * cannot match those, so *n_sur counts them for the caller to mask. Returns the length. */
static size_t sanitize(const char *text, size_t len, char *out, size_t *n_sur) {
    size_t o = 0;
    const unsigned char *s = (const unsigned char *)text;
    *n_sur = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t k = ew_utf8_get(s + i, len - i, &cp);
        if (k == 0) {
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
            continue;
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) (*n_sur)++;
        memcpy(out + o, s + i, k);
        o += k;
        i += k;
    }
    return o;
}

/* A copy of s[0..n) for the regexes with each surrogate replaced by U+E000 (same length; a
 * private-use character is, like a surrogate, neither space, letter, number nor
 * punctuation for the pre-tokenizer). */
static void mask_surrogates(const char *s, size_t n, char *out) {
    memcpy(out, s, n);
    for (size_t i = 0; i + 2 < n; i++) {
        unsigned char a = (unsigned char)out[i], b = (unsigned char)out[i + 1];
        if (a == 0xED && b >= 0xA0 && b <= 0xBF) {
            memcpy(out + i, "\xee\x80\x80", 3);
            i += 2;
        }
    }
}

/* Encodes one raw-text fragment with the byte-level BPE and appends the ids. */
ew_status ew_bpe_encode(const ew_tokenizer *t, ew_tok_scratch *s, const char *text, size_t len, ew_tok_out *o) {
    ew_status st;
    size_t need;
    if (!ew_mul_size(len, 3, &need)) return ew_error(EW_ERR_RANGE, "tokenizer: text too long");
    if ((st = ew_tok_reserve((void **)&s->buf2, &s->buf2_cap, need + 1, 1))) return st;
    size_t n_sur, n = sanitize(text, len, s->buf2, &n_sur);
    const char *re_text = s->buf2;
    if (n_sur) {
        if ((st = ew_tok_reserve((void **)&s->buf, &s->buf_cap, n + 1, 1))) return st;
        mask_surrogates(s->buf2, n, s->buf);
        re_text = s->buf;
    }
    const size_t *pieces;
    size_t np;
    if ((st = ew_pretok_split(t->pretok, &s->pre, re_text, n, &pieces, &np))) return st;
    size_t pos = 0;
    for (size_t k = 0; k < np; k++) {
        size_t pl = pieces[k];
        const unsigned char *p = (const unsigned char *)s->buf2 + pos;
        pos += pl;
        if ((st = ew_tok_reserve((void **)&s->buf, &s->buf_cap, pl * 2 + 1, 1))) return st;
        size_t wl = 0;
        for (size_t i = 0; i < pl; i++) wl += (size_t)ew_bpe_byte_encode(p[i], s->buf + wl);
        if ((st = bpe_word(t, s, s->buf, wl, o))) return st;
    }
    return EW_OK;
}
