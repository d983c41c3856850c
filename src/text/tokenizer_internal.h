/*
 * tokenizer_internal.h - what the tokenizer files share (not for other modules): the
 * tokenizer struct, token attributes as llama.cpp keeps them, the pre-tokenizer, the
 * output sink, UTF-8 helpers.
 */
#ifndef EW_TOKENIZER_INTERNAL_H
#define EW_TOKENIZER_INTERNAL_H

#include "text/tokenizer.h"
#include "text/strmap.h"

enum { EW_VOCAB_SPM = 1, EW_VOCAB_BPE = 2 };

/* Token attributes (bit flags), as llama.cpp's llama_token_attr. */
enum {
    EW_ATTR_UNDEFINED = 0,
    EW_ATTR_UNKNOWN = 1 << 0,
    EW_ATTR_UNUSED = 1 << 1,
    EW_ATTR_NORMAL = 1 << 2,
    EW_ATTR_CONTROL = 1 << 3,
    EW_ATTR_USER_DEFINED = 1 << 4,
    EW_ATTR_BYTE = 1 << 5,
    EW_ATTR_LSTRIP = 1 << 7,
    EW_ATTR_RSTRIP = 1 << 8,
};

/* GGUF token types (tokenizer.ggml.token_type). */
enum {
    EW_TOKTYPE_UNDEFINED = 0, EW_TOKTYPE_NORMAL = 1, EW_TOKTYPE_UNKNOWN = 2, EW_TOKTYPE_CONTROL = 3,
    EW_TOKTYPE_USER_DEFINED = 4, EW_TOKTYPE_UNUSED = 5, EW_TOKTYPE_BYTE = 6
};

/* ---- pre-tokenizer (pretok.c) ---- */

typedef struct ew_pretok ew_pretok;

/* What a tokenizer.ggml.pre name means: the regex list (by pre-tokenizer id) and flags. */
typedef struct ew_pre_info {
    int id;              /* index into pretok.c's regex table */
    bool ignore_merges;  /* a piece that is itself a token is taken whole */
    bool add_bos;        /* default for tokenizer.ggml.add_bos_token */
    bool clean_spaces;
} ew_pre_info;

/* Look up a tokenizer.ggml.pre name (len bytes). false if unknown. */
bool ew_pre_lookup(const char *name, size_t len, ew_pre_info *info);
/* Compile the regexes of pre-tokenizer id (once per tokenizer). */
ew_status ew_pretok_new(int id, ew_pretok **out);
void ew_pretok_free(ew_pretok *p);

/* Per-call scratch of the splitter (so one tokenizer can encode on several threads). */
typedef struct ew_pretok_scratch {
    void *md;            /* pcre2_match_data_8 * */
    size_t *a, *b;       /* piece lengths, ping-pong between regexes */
    size_t cap_a, cap_b;
} ew_pretok_scratch;

void ew_pretok_scratch_free(ew_pretok_scratch *s);
/* Split valid UTF-8 text into pieces the way llama.cpp's unicode_regex_split does: each
 * regex in turn splits every piece so far into its matches and the text between them.
 * On success *pieces holds *n piece lengths in bytes (in order, summing to len). */
ew_status ew_pretok_split(const ew_pretok *p, ew_pretok_scratch *s, const char *text, size_t len,
                          const size_t **pieces, size_t *n);

/* ---- the tokenizer ---- */

typedef struct ew_tok_ids {
    int32_t bos, eos, eot, eom, unk, sep, pad, mask;
    int32_t fim_pre, fim_suf, fim_mid, fim_pad, fim_rep, fim_sep;
} ew_tok_ids;

struct ew_tokenizer {
    int type;                 /* EW_VOCAB_SPM / EW_VOCAB_BPE */
    ew_pre_info pre;
    uint32_t n_vocab;
    char *pool;               /* token texts, each NUL-terminated */
    uint64_t *off;            /* token i's text = pool + off[i], len[i] bytes */
    uint32_t *len;
    float *score;
    uint16_t *attr;
    ew_strmap vocab;          /* text -> id */
    char *merge_pool;         /* merges "a b", each NUL-terminated */
    ew_strmap merges;         /* "a b" -> rank */
    char *piece_pool;         /* decoded bytes of each token (control tokens rendered) */
    uint64_t *piece_off;
    uint32_t *piece_len;
    ew_tok_ids id;
    bool add_bos, add_eos, add_space_prefix, clean_spaces;
    bool spm_split;           /* no token has U+2581 right after another character: SPM may
                                 merge each "word" (a U+2581 after a non-U+2581) on its own */
    int32_t *special;         /* control/user-defined/unknown ids, longest text first */
    uint32_t n_special;
    uint8_t *eog;             /* n_vocab flags */
    int32_t byte_tok[256];    /* spm: <0xNN> (or the raw byte) token; bpe: the 1-byte token */
    ew_pretok *pretok;        /* bpe only */
};

#define EW_TOK_ID_SLOTS 17

/* The tokenizer's view of a vocabulary before it is built: filled from GGUF metadata or
 * from an ew_vocab_data. Arrays are borrowed; the builder copies what it keeps. */
typedef struct ew_tok_spec {
    const char *name;         /* for messages */
    gguf_str model;
    gguf_str pre;
    bool has_pre;
    gguf_str general_name;
    uint32_t n_tokens;
    const gguf_str *tokens;
    const float *scores;      /* NULL: all 0 */
    const int32_t *types;     /* NULL: all normal */
    bool has_merges;
    uint64_t n_merges;
    const gguf_str *merges;
    /* special ids as found (has_id false when the key is absent), slot i read from key
     * ew_tok_id_key(i): the 14 ew_tok_ids fields in order, then the deprecated
     * prefix/suffix/middle keys (which set fim_pre/fim_suf/fim_mid) */
    int64_t ids[EW_TOK_ID_SLOTS];
    bool has_id[EW_TOK_ID_SLOTS];
    int add_bos, add_eos, add_space_prefix;  /* -1 absent, else 0/1 */
} ew_tok_spec;

/* The metadata key of special id slot i (< EW_TOK_ID_SLOTS), e.g.
 * "tokenizer.ggml.bos_token_id". */
const char *ew_tok_id_key(int i);
/* Build a tokenizer from a spec (tokenizer.c). */
ew_status ew_tokenizer_build(const ew_tok_spec *spec, ew_tokenizer **out);
/* Build from an imported/generated vocabulary (no GGUF round trip). */
ew_status ew_tokenizer_from_vocab(const ew_vocab_data *v, ew_tokenizer **out);

/* ---- encoding ---- */

/* Output sink: writes ids while they fit, counts all of them. */
typedef struct ew_tok_out {
    int32_t *ids;
    size_t cap;
    size_t n;
} ew_tok_out;

/* Appends id (stored only while it fits). */
static inline void ew_out_push(ew_tok_out *o, int32_t id) {
    if (o->n < o->cap) o->ids[o->n] = id;
    o->n++;
}

/* Per-call scratch shared by the SPM and BPE encoders (grown as needed, freed at the end). */
typedef struct ew_tok_scratch {
    char *buf;                /* escaped / sanitized / byte-encoded text */
    size_t buf_cap;
    char *buf2;
    size_t buf2_cap;
    void *sym;                /* symbols */
    size_t sym_cap;
    void *heap;               /* bigram heap */
    size_t heap_cap;
    ew_pretok_scratch pre;
} ew_tok_scratch;

void ew_tok_scratch_free(ew_tok_scratch *s);
/* Make sure *p holds at least n elements of size esz (grows geometrically). */
ew_status ew_tok_reserve(void **p, size_t *cap, size_t n, size_t esz);

/* Encode one raw-text fragment (no special tokens inside) and append its ids. */
ew_status ew_spm_encode(const ew_tokenizer *t, ew_tok_scratch *s, const char *text, size_t len,
                        bool space_prefix, ew_tok_out *o);
ew_status ew_bpe_encode(const ew_tokenizer *t, ew_tok_scratch *s, const char *text, size_t len,
                        ew_tok_out *o);

/* GPT-2 byte <-> unicode char mapping (tokenizer_bpe.c). enc gives the UTF-8 of the char
 * standing for byte b (1 or 2 bytes). dec maps a code point back to the byte, -1 if none. */
int ew_bpe_byte_encode(uint8_t b, char out[2]);
int ew_bpe_byte_decode(uint32_t cp);

/* Decoded bytes of token id (render special), computed once at build time. */
ew_status ew_tokenizer_make_pieces(ew_tokenizer *t);

/* ---- symbols and the bigram heap shared by the SPM and BPE merge loops ---- */

typedef struct ew_sym {
    int32_t prev, next;  /* neighbours in the chain, -1 at the ends */
    uint32_t off, n;     /* bytes [off, off+n) of the text; n == 0 once merged away */
} ew_sym;

/* A candidate merge of symbols left and right; the heap pops the smallest key first. */
typedef struct ew_bigram {
    uint64_t key;        /* (priority << 32) | left */
    int32_t left, right;
    uint32_t size;       /* byte length of the merged text when it was queued */
} ew_bigram;

/* Adds b to the min-heap h of *n entries (room for one more is the caller's job). */
static inline void ew_heap_push(ew_bigram *h, size_t *n, ew_bigram b) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (h[p].key <= b.key) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = b;
}

/* Removes and returns the smallest-key entry of the non-empty heap h. */
static inline ew_bigram ew_heap_pop(ew_bigram *h, size_t *n) {
    ew_bigram top = h[0], last = h[--(*n)];
    size_t i = 0, m = *n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= m) break;
        if (c + 1 < m && h[c + 1].key < h[c].key) c++;
        if (last.key <= h[c].key) break;
        h[i] = h[c];
        i = c;
    }
    if (m) h[i] = last;
    return top;
}

/* ---- UTF-8 ---- */

/* Length of a UTF-8 sequence from its lead byte, as llama.cpp's unicode_len_utf8
 * (continuation bytes count 1). */
static inline size_t ew_utf8_len(unsigned char c) {
    static const unsigned char lookup[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return lookup[c >> 4];
}

/* Encode code point cp (<= 0x10FFFF) as UTF-8 into out; returns the byte count. */
static inline int ew_utf8_put(uint32_t cp, char *out) {
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decode one code point at s[0..n) the way the reference llama.cpp does (its
 * unicode_cpt_from_utf8, as measured with llama-tokenize): overlong forms and code points
 * above U+10FFFF are invalid, surrogates (U+D800..DFFF) pass. Returns the byte count, or 0
 * for an invalid sequence. */
static inline size_t ew_utf8_get(const unsigned char *s, size_t n, uint32_t *cp) {
    unsigned char c = s[0];
    if (!(c & 0x80)) { *cp = c; return 1; }
    if (!(c & 0x40)) return 0;
    if (!(c & 0x20)) {
        if (n < 2 || (s[1] & 0xC0) != 0x80) return 0;
        *cp = ((uint32_t)(c & 0x1F) << 6) | (s[1] & 0x3F);
        return *cp >= 0x80 ? 2 : 0;
    }
    if (!(c & 0x10)) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
        *cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
        return *cp >= 0x800 ? 3 : 0;
    }
    if (!(c & 0x08)) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) return 0;
        *cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
              ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
        return *cp >= 0x10000 && *cp <= 0x10FFFF ? 4 : 0;
    }
    return 0;
}


/* Priority of merging symbols l and r of w (smaller merges first), or -1 when the pair
 * does not merge. */
typedef int64_t (*ew_merge_prio_fn)(const ew_tokenizer *t, const char *w, const ew_sym *sym, int32_t l, int32_t r);

/* Merges the chain of n symbols starting at sym[first] (linked by prev/next) pair by pair,
 * lowest priority value first and leftmost on ties, until no adjacent pair merges; merged
 * symbols are left with n == 0. heap has room for 3 * n entries. Shared by SPM (score
 * order) and BPE (merge rank order). */
void ew_tok_merge(const ew_tokenizer *t, const char *w, ew_sym *sym, int32_t first, int32_t n, ew_bigram *heap,
                  ew_merge_prio_fn prio);

#endif
