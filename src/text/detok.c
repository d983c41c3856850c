/*
 * detok.c - the streaming detokenizer: token ids in, printable UTF-8 out. Bytes of decoded
 * tokens (byte-fallback and byte-level tokens can end in the middle of a character) are held
 * back until they complete a UTF-8 sequence; an invalid sequence comes out as U+FFFD (one per
 * maximal invalid subpart, as the Unicode standard recommends). Control tokens print nothing.
 * After creation nothing is allocated per token unless a single token decodes to more bytes
 * than the buffer holds.
 */
#include "model/model.h"
#include "text/tokenizer_internal.h"

#include <string.h>

#define DETOK_INIT_CAP 256

struct ew_detok {
    const ew_tokenizer *t;
    unsigned char pend[4];   /* an incomplete sequence carried over (at most 3 bytes) */
    size_t npend;
    char *out;               /* the string returned by push/flush */
    size_t cap;
};

/* The streaming detokenizer of ew_detok_new() over a tokenizer directly. */
ew_status ew_detok_new_from_tokenizer(const ew_tokenizer *t, ew_detok **out) {
    if (!out) return ew_error(EW_ERR_INVALID_ARG, "ew_detok_new: NULL out");
    *out = NULL;
    if (!t) return ew_error(EW_ERR_INVALID_ARG, "ew_detok_new: NULL tokenizer");
    ew_detok *d = ew_calloc(1, sizeof *d);
    if (!d || !(d->out = ew_malloc(DETOK_INIT_CAP))) {
        ew_free(d);
        return ew_error(EW_ERR_NOMEM, "ew_detok_new: out of memory");
    }
    d->t = t;
    d->cap = DETOK_INIT_CAP;
    d->out[0] = 0;
    *out = d;
    return EW_OK;
}

/* Creates a detokenizer for the model's tokenizer. */
ew_status ew_detok_new(const ew_model *m, ew_detok **out) {
    if (!out) return ew_error(EW_ERR_INVALID_ARG, "ew_detok_new: NULL out");
    *out = NULL;
    if (!m) return ew_error(EW_ERR_INVALID_ARG, "ew_detok_new: NULL model");
    return ew_detok_new_from_tokenizer(ew_model_tokenizer(m), out);
}

/* Frees the detokenizer (NULL is fine). */
void ew_detok_free(ew_detok *d) {
    if (!d) return;
    ew_free(d->out);
    ew_free(d);
}

/* Length of the sequence lead byte c starts (0: c cannot start one), and the range its
 * second byte must lie in (excludes overlongs, surrogates, > U+10FFFF). */
static int seq_len(unsigned char c, unsigned char *lo, unsigned char *hi) {
    *lo = 0x80;
    *hi = 0xBF;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return 2;
    if (c >= 0xE0 && c <= 0xEF) {
        if (c == 0xE0) *lo = 0xA0;
        if (c == 0xED) *hi = 0x9F;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (c == 0xF0) *lo = 0x90;
        if (c == 0xF4) *hi = 0x8F;
        return 4;
    }
    return 0;
}

/* Appends the complete, valid part of src[0..n) to d->out at *o (which has room for 3n
 * bytes), replacing invalid subparts with U+FFFD; an incomplete sequence at the very end
 * is kept in d->pend (unless final, when it too becomes U+FFFD). */
static void emit(ew_detok *d, const unsigned char *src, size_t n, size_t *o, bool final) {
    size_t i = 0;
    while (i < n) {
        unsigned char lo, hi;
        int len = seq_len(src[i], &lo, &hi);
        if (len == 1) { d->out[(*o)++] = (char)src[i++]; continue; }
        if (len == 0) { memcpy(d->out + *o, "\xef\xbf\xbd", 3); *o += 3; i++; continue; }
        size_t k = 1; /* bytes of the sequence seen valid so far */
        bool bad = false;
        while ((int)k < len && i + k < n) {
            unsigned char c = src[i + k];
            unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
            if (c < l || c > h) { bad = true; break; }
            k++;
        }
        if ((int)k == len) {
            memcpy(d->out + *o, src + i, k);
            *o += k;
        } else if (!bad && !final) { /* ran out of input: wait for the next token */
            memcpy(d->pend, src + i, k);
            d->npend = k;
        } else {
            memcpy(d->out + *o, "\xef\xbf\xbd", 3);
            *o += 3;
        }
        i += k;
    }
}

/* Feeds one token; returns the text it completes (possibly ""), valid until the next call. */
const char *ew_detok_push(ew_detok *d, int32_t id) {
    if (!d) return "";
    const ew_tokenizer *t = d->t;
    const unsigned char *p = NULL;
    size_t n = 0;
    if (id >= 0 && (uint32_t)id < t->n_vocab && !(t->attr[id] & (EW_ATTR_UNKNOWN | EW_ATTR_CONTROL))) {
        p = (const unsigned char *)t->piece_pool + t->piece_off[id];
        n = t->piece_len[id];
    }
    size_t need = (d->npend + n) * 3 + 1;
    if (need > d->cap) {
        char *q = ew_realloc(d->out, need);
        if (!q) { /* out of memory: drop this token's text rather than fail the stream */
            d->out[0] = 0;
            return d->out;
        }
        d->out = q;
        d->cap = need;
    }
    size_t o = 0;
    if (d->npend && n) {
        /* complete the carried sequence with the first bytes of this token */
        unsigned char tmp[8];
        size_t np = d->npend, take = EW_MIN(n, (size_t)4);
        memcpy(tmp, d->pend, np);
        memcpy(tmp + np, p, take);
        d->npend = 0;
        /* decode only the carried sequence (and the bytes that continue it) */
        unsigned char lo, hi;
        int len = seq_len(tmp[0], &lo, &hi);
        size_t k = np;
        bool bad = false;
        while ((int)k < len && k < np + take) {
            unsigned char c = tmp[k], l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
            if (c < l || c > h) { bad = true; break; }
            k++;
        }
        size_t used = k - np; /* bytes of this token that continue the carried sequence */
        emit(d, tmp, k, &o, bad);
        p += used;
        n -= used;
    }
    if (n) emit(d, p, n, &o, false);
    d->out[o] = 0;
    return d->out;
}

/* Emits what is left: an incomplete sequence becomes U+FFFD. */
const char *ew_detok_flush(ew_detok *d) {
    if (!d) return "";
    size_t o = 0;
    if (d->npend) {
        size_t np = d->npend;
        d->npend = 0;
        emit(d, d->pend, np, &o, true);
    }
    d->out[o] = 0;
    return d->out;
}
