/*
 * tokenizer_encode.c - text -> token ids: special tokens are cut out of the raw text first
 * (llama.cpp's tokenizer_st_partition), then each raw fragment goes through the SPM or BPE
 * encoder, with BOS/EOS around as the metadata asks.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include "text/tokenizer_internal.h"

#include <string.h>

/* A piece of the partitioned text: a special token, or raw text [off, off+len). */
typedef struct frag {
    int32_t tok;   /* -1: raw text */
    size_t off, len;
} frag;

typedef struct frag_list {
    frag *v;
    size_t n, cap;
} frag_list;

static ew_status frag_push(frag_list *l, frag f) {
    if (l->n == l->cap) {
        void *p = l->v;
        ew_status st = ew_tok_reserve(&p, &l->cap, l->n + 1, sizeof(frag));
        if (st) return st;
        l->v = p;
    }
    l->v[l->n++] = f;
    return EW_OK;
}

static inline bool c_isspace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* Splits the raw fragments of *cur at every occurrence of special token id (leftmost first,
 * non-overlapping), writing the new list to *next. Honors the token's lstrip/rstrip
 * attributes the way llama.cpp does. */
static ew_status split_on(const ew_tokenizer *t, const char *text, int32_t id, const frag_list *cur,
                          frag_list *next) {
    const char *tt = t->pool + t->off[id];
    size_t tl = t->len[id];
    uint16_t a = t->attr[id];
    ew_status st;
    next->n = 0;
    for (size_t k = 0; k < cur->n; k++) {
        frag f = cur->v[k];
        if (f.tok >= 0) {
            if ((st = frag_push(next, f))) return st;
            continue;
        }
        size_t base = f.off, blen = f.len;
        for (;;) {
            const char *m = blen >= tl ? memmem(text + base, blen, tt, tl) : NULL;
            if (!m) {
                if (blen > 0 && (st = frag_push(next, (frag){-1, base, blen}))) return st;
                break;
            }
            size_t mpos = (size_t)(m - text);
            if (mpos > base) {
                size_t ll = mpos - base;
                if (a & EW_ATTR_LSTRIP)
                    while (ll > 0 && c_isspace(text[base + ll - 1])) ll--;
                if (ll > 0 && (st = frag_push(next, (frag){-1, base, ll}))) return st;
            }
            if ((st = frag_push(next, (frag){id, 0, 0}))) return st;
            size_t rpos = mpos + tl, rlen = base + blen - rpos;
            if (rlen == 0) break;
            if (a & EW_ATTR_RSTRIP)
                while (rlen > 0 && c_isspace(text[rpos])) { rpos++; rlen--; }
            base = rpos;
            blen = rlen;
        }
    }
    return EW_OK;
}

/* Partitions text into special tokens and raw fragments. Control and unknown tokens count
 * only when parse_special; user-defined tokens always do (as in HF tokenizers). */
static ew_status partition(const ew_tokenizer *t, const char *text, size_t len, bool parse_special,
                           frag_list *out, frag_list *tmp) {
    ew_status st;
    out->n = 0;
    if (len == 0) return EW_OK;
    if ((st = frag_push(out, (frag){-1, 0, len}))) return st;
    for (uint32_t i = 0; i < t->n_special; i++) {
        int32_t id = t->special[i];
        if (!parse_special && (t->attr[id] & (EW_ATTR_CONTROL | EW_ATTR_UNKNOWN))) continue;
        size_t tl = t->len[id];
        if (tl > len || !memmem(text, len, t->pool + t->off[id], tl)) continue; /* cheap pre-check */
        if ((st = split_on(t, text, id, out, tmp))) return st;
        frag_list x = *out;
        *out = *tmp;
        *tmp = x;
    }
    return EW_OK;
}

/* Same contract as the public ew_tokenize(). */
ew_status ew_tokenizer_encode(const ew_tokenizer *t, const char *text, size_t len, bool add_special,
                              bool parse_special, int32_t *ids, size_t cap, size_t *n_out) {
    if (n_out) *n_out = 0;
    if (!t || !n_out || (!text && len) || (!ids && cap))
        return ew_error(EW_ERR_INVALID_ARG, "ew_tokenize: NULL argument");
    ew_tok_out o = {ids, cap, 0};
    ew_tok_scratch s = {0};
    frag_list fl = {0}, tmp = {0};
    ew_status st = partition(t, text, len, parse_special, &fl, &tmp);
    if (st) goto done;
    if (add_special && t->add_bos && t->id.bos >= 0) ew_out_push(&o, t->id.bos);
    bool prev_special = true; /* SPM: a space prefix at the start and after special tokens */
    for (size_t i = 0; i < fl.n; i++) {
        frag f = fl.v[i];
        if (f.tok >= 0) {
            ew_out_push(&o, f.tok);
            prev_special = true;
            continue;
        }
        if (t->type == EW_VOCAB_SPM) {
            st = ew_spm_encode(t, &s, text + f.off, f.len, t->add_space_prefix && prev_special, &o);
            prev_special = false;
        } else {
            st = ew_bpe_encode(t, &s, text + f.off, f.len, &o);
        }
        if (st) goto done;
    }
    if (add_special && t->add_eos && t->id.eos >= 0) ew_out_push(&o, t->id.eos);
    *n_out = o.n;
    if (o.n > cap) st = ew_error(EW_ERR_RANGE, "ew_tokenize: %zu tokens do not fit in %zu", o.n, cap);
done:
    ew_tok_scratch_free(&s);
    ew_free(fl.v);
    ew_free(tmp.v);
    return st;
}
