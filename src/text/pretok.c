/*
 * pretok.c - the BPE pre-tokenizer: tokenizer.ggml.pre -> a list of regexes (the ones
 * llama.cpp's llm_tokenizer_bpe uses), compiled once with PCRE2 (UTF + UCP, JIT when
 * available) and applied in sequence the way llama.cpp's unicode_regex_split does: each
 * regex splits every piece produced so far into its matches and the text between them.
 *
 * llama.cpp classifies code points with its own Unicode tables (unicode-data.cpp); \p{L},
 * \p{N}, \p{P} mean the same general categories in PCRE2. Its \s is the Unicode White_Space
 * property (25 code points), which PCRE2's UCP \s is not quite (it adds U+180E), so \s and
 * \S are rewritten to that explicit set before compiling.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "text/tokenizer_internal.h"

#include <pcre2.h>
#include <string.h>

/* ---- regex lists (as in llama.cpp's llm_tokenizer_bpe) ---- */

#define RE_GPT2 "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"
#define RE_LLAMA3                                                                                  \
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"      \
    "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RE_QWEN2                                                                                   \
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"      \
    "\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RE_BLOOM " ?[^(\\s|.,!?\u2026\u3002\uff0c\u3001\u0964\u06d4\u060c)]+"
#define RE_TEKKEN                                                                                  \
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+|[^\\r\\n\\p{L}\\p{N}]?"   \
    "((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|"        \
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

enum {
    PRE_DEFAULT, PRE_GPT2, PRE_LLAMA3, PRE_QWEN2, PRE_SMOLLM, PRE_FALCON, PRE_BLOOM, PRE_VIKING,
    PRE_DEEPSEEK_CODER, PRE_TEKKEN, PRE_COUNT
};

#define MAX_RE 5
static const char *const k_regexes[PRE_COUNT][MAX_RE] = {
    [PRE_DEFAULT] = {"[\\p{P}\\$\\+<=>\\^~\\|]+", RE_GPT2, "\\p{N}+", "[0-9][0-9][0-9]"},
    [PRE_GPT2] = {RE_GPT2},
    [PRE_LLAMA3] = {RE_LLAMA3},
    [PRE_QWEN2] = {RE_QWEN2},
    [PRE_SMOLLM] = {"\\p{N}", RE_GPT2},
    [PRE_FALCON] = {"[\\p{P}\\$\\+<=>\\^~\\|`]+", RE_GPT2, "[0-9][0-9][0-9]"},
    [PRE_BLOOM] = {RE_BLOOM},
    [PRE_VIKING] = {RE_BLOOM, "\\p{N}"},
    [PRE_DEEPSEEK_CODER] = {"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+",
                            "[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+", "\\p{N}"},
    [PRE_TEKKEN] = {RE_TEKKEN},
};

/* tokenizer.ggml.pre names -> regex list and flags (llama.cpp's llama_vocab::impl::load). */
typedef struct pre_name {
    const char *name;
    int id;
    bool ignore_merges, add_bos, clean_spaces;
} pre_name;

static const pre_name k_pre_names[] = {
    {"default", PRE_DEFAULT, false, false, true},
    {"llama3", PRE_LLAMA3, true, true, true},
    {"llama-v3", PRE_LLAMA3, true, true, true},
    {"llama-bpe", PRE_LLAMA3, true, true, true},
    {"falcon3", PRE_LLAMA3, true, true, true},
    {"falcon-h1", PRE_LLAMA3, true, true, true},
    {"pixtral", PRE_LLAMA3, true, true, true},
    {"midm-2.0", PRE_LLAMA3, true, true, true},
    {"lfm2", PRE_LLAMA3, true, true, true},
    {"jina-v5-nano", PRE_LLAMA3, true, true, true},
    {"dbrx", PRE_LLAMA3, false, false, true},
    {"smaug-bpe", PRE_LLAMA3, false, false, true},
    {"glm4", PRE_LLAMA3, false, false, true},
    {"chatglm-bpe", PRE_LLAMA3, false, false, true},
    {"deepseek-coder", PRE_DEEPSEEK_CODER, false, false, false},
    {"falcon", PRE_FALCON, false, false, true},
    {"mpt", PRE_GPT2, false, false, true},
    {"starcoder", PRE_SMOLLM, false, false, true},
    {"gpt-2", PRE_GPT2, false, false, true},
    {"gpt2", PRE_GPT2, false, false, true},
    {"phi-2", PRE_GPT2, false, false, true},
    {"jina-es", PRE_GPT2, false, false, true},
    {"jina-de", PRE_GPT2, false, false, true},
    {"gigachat", PRE_GPT2, false, false, true},
    {"jina-v2-es", PRE_GPT2, false, false, true},
    {"jina-v2-de", PRE_GPT2, false, false, true},
    {"a.x-4.0", PRE_GPT2, false, false, true},
    {"mellum", PRE_GPT2, false, false, true},
    {"refact", PRE_SMOLLM, false, false, true},
    {"command-r", PRE_SMOLLM, false, false, false},
    {"qwen2", PRE_QWEN2, false, false, false},
    {"deepseek-r1-qwen", PRE_QWEN2, false, false, false},
    {"kormo", PRE_QWEN2, false, false, false},
    {"f2llmv2", PRE_QWEN2, false, false, false},
    {"stablelm2", PRE_QWEN2, false, false, true},
    {"megrez", PRE_QWEN2, false, false, true},
    {"olmo", PRE_GPT2, false, false, true},
    {"poro-chat", PRE_BLOOM, false, false, false},
    {"bloom", PRE_BLOOM, false, false, true},
    {"gpt3-finnish", PRE_BLOOM, false, false, true},
    {"viking", PRE_VIKING, false, false, false},
    {"jais", PRE_GPT2, false, false, true},
    {"tekken", PRE_TEKKEN, true, true, false},
    {"smollm", PRE_SMOLLM, false, false, false},
    {"codeshell", PRE_SMOLLM, false, false, true},
    {"exaone", PRE_SMOLLM, false, false, true},
    {"exaone4", PRE_GPT2, false, false, true},
    {"minerva-7b", PRE_SMOLLM, false, false, true},
    {"trillion", PRE_GPT2, false, false, false},
    {"granite-docling", PRE_GPT2, false, false, false},
};

/* Finds name in the table above; true and *info filled if known. */
bool ew_pre_lookup(const char *name, size_t len, ew_pre_info *info) {
    for (size_t i = 0; i < EW_ARRAY_LEN(k_pre_names); i++) {
        const pre_name *p = &k_pre_names[i];
        if (strlen(p->name) == len && memcmp(p->name, name, len) == 0) {
            info->id = p->id;
            info->ignore_merges = p->ignore_merges;
            info->add_bos = p->add_bos;
            info->clean_spaces = p->clean_spaces;
            return true;
        }
    }
    return false;
}

/* ---- compiling ---- */

struct ew_pretok {
    int n;
    pcre2_code *re[MAX_RE];
    pcre2_general_context *gctx;
};

/* PCRE2's allocations go through the library allocator (so OOM injection reaches them). */
static void *pc_malloc(size_t n, void *user) { (void)user; return ew_malloc(n); }
static void pc_free(void *p, void *user) { (void)user; ew_free(p); }

/* The White_Space set llama.cpp uses for \s, as items of a character class. */
#define WS_ITEMS "\\t-\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}"

/* Rewrites \s and \S of pattern src into explicit classes (see the file comment). Returns a
 * fresh string or NULL (OOM, or \S inside a class, which no pattern here uses). */
static char *translate(const char *src) {
    size_t n = strlen(src), cap = n * 8 + 64, o = 0;
    char *dst = ew_malloc(cap);
    if (!dst) return NULL;
    bool in_class = false;
    for (size_t i = 0; i < n; i++) {
        char c = src[i];
        if (c == '\\' && i + 1 < n) {
            char e = src[i + 1];
            const char *rep = NULL;
            if (e == 's') rep = in_class ? WS_ITEMS : "[" WS_ITEMS "]";
            else if (e == 'S') {
                if (in_class) { ew_free(dst); return NULL; }
                rep = "[^" WS_ITEMS "]";
            }
            if (rep) {
                size_t rl = strlen(rep);
                memcpy(dst + o, rep, rl);
                o += rl;
            } else {
                dst[o++] = c;
                dst[o++] = e;
            }
            i++;
            continue;
        }
        if (c == '[' && !in_class) in_class = true;
        else if (c == ']' && in_class) in_class = false;
        dst[o++] = c;
    }
    dst[o] = 0;
    return dst;
}

/* Compiles the regex list of pre-tokenizer id; errors say which pattern and where. */
ew_status ew_pretok_new(int id, ew_pretok **out) {
    *out = NULL;
    if (id < 0 || id >= PRE_COUNT) return ew_error(EW_ERR_INTERNAL, "pre-tokenizer id %d out of range", id);
    ew_pretok *p = ew_calloc(1, sizeof *p);
    if (!p) return ew_error(EW_ERR_NOMEM, "pre-tokenizer: out of memory");
    p->gctx = pcre2_general_context_create(pc_malloc, pc_free, NULL);
    if (!p->gctx) { ew_free(p); return ew_error(EW_ERR_NOMEM, "pre-tokenizer: out of memory"); }
    pcre2_compile_context *cctx = pcre2_compile_context_create(p->gctx);
    if (!cctx) { ew_pretok_free(p); return ew_error(EW_ERR_NOMEM, "pre-tokenizer: out of memory"); }
    uint32_t jit = 0;
    pcre2_config(PCRE2_CONFIG_JIT, &jit);
    for (int i = 0; i < MAX_RE && k_regexes[id][i]; i++) {
        char *pat = translate(k_regexes[id][i]);
        if (!pat) {
            pcre2_compile_context_free(cctx);
            ew_pretok_free(p);
            return ew_error(EW_ERR_NOMEM, "pre-tokenizer: out of memory");
        }
        int err = 0;
        PCRE2_SIZE erroff = 0;
        p->re[i] = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &err,
                                 &erroff, cctx);
        ew_free(pat);
        if (!p->re[i]) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(err, msg, sizeof msg);
            pcre2_compile_context_free(cctx);
            ew_pretok_free(p);
            return ew_error(err == PCRE2_ERROR_HEAP_FAILED ? EW_ERR_NOMEM : EW_ERR_INTERNAL,
                            "pre-tokenizer regex %d of list %d: %s at offset %zu", i, id, (const char *)msg,
                            (size_t)erroff);
        }
        p->n = i + 1;
        if (jit) pcre2_jit_compile(p->re[i], PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
    }
    pcre2_compile_context_free(cctx);
    *out = p;
    return EW_OK;
}

/* Frees the compiled regexes (NULL is fine). */
void ew_pretok_free(ew_pretok *p) {
    if (!p) return;
    for (int i = 0; i < p->n; i++) pcre2_code_free(p->re[i]);
    pcre2_general_context_free(p->gctx);
    ew_free(p);
}

/* Frees the scratch of ew_pretok_split. */
void ew_pretok_scratch_free(ew_pretok_scratch *s) {
    if (s->md) pcre2_match_data_free((pcre2_match_data *)s->md);
    ew_free(s->a);
    ew_free(s->b);
    memset(s, 0, sizeof *s);
}

/* Appends one piece length to *arr (grown as needed). */
static ew_status push_len(size_t **arr, size_t *cap, size_t *n, size_t v) {
    if (*n == *cap) {
        void *p = *arr;
        ew_status st = ew_tok_reserve(&p, cap, *n + 1, sizeof(size_t));
        if (st) return st;
        *arr = p;
    }
    (*arr)[(*n)++] = v;
    return EW_OK;
}

/* Splits text (valid UTF-8) into pieces; see tokenizer_internal.h. */
ew_status ew_pretok_split(const ew_pretok *p, ew_pretok_scratch *s, const char *text, size_t len,
                          const size_t **pieces, size_t *n_out) {
    ew_status st;
    if (!s->md) {
        s->md = pcre2_match_data_create(1, p->gctx);
        if (!s->md) return ew_error(EW_ERR_NOMEM, "pre-tokenizer: out of memory");
    }
    pcre2_match_data *md = s->md;
    size_t n_cur = 0;
    if ((st = push_len(&s->a, &s->cap_a, &n_cur, len))) return st;
    for (int r = 0; r < p->n; r++) {
        size_t n_next = 0, pos = 0;
        for (size_t k = 0; k < n_cur; k++) {
            size_t plen = s->a[k];
            const char *sub = text + pos;
            size_t prev_end = 0, from = 0;
            uint32_t opts = 0;
            while (from <= plen) {
                int rc = pcre2_match(p->re[r], (PCRE2_SPTR)sub, plen, from, opts | PCRE2_NO_UTF_CHECK, md, NULL);
                if (rc == PCRE2_ERROR_NOMATCH) {
                    if (!opts) break;
                    /* no non-empty match at an empty match's position: step one char */
                    opts = 0;
                    from += from < plen ? ew_utf8_len((unsigned char)sub[from]) : 1;
                    continue;
                }
                if (rc < 0) {
                    PCRE2_UCHAR msg[256];
                    pcre2_get_error_message(rc, msg, sizeof msg);
                    return ew_error(rc == PCRE2_ERROR_NOMEMORY ? EW_ERR_NOMEM : EW_ERR_INTERNAL,
                                    "pre-tokenizer: regex match failed: %s", (const char *)msg);
                }
                PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
                size_t ms = ov[0], me = ov[1];
                if (ms > prev_end && (st = push_len(&s->b, &s->cap_b, &n_next, ms - prev_end))) return st;
                if (me > ms && (st = push_len(&s->b, &s->cap_b, &n_next, me - ms))) return st;
                prev_end = me;
                from = me;
                opts = me == ms ? PCRE2_NOTEMPTY_ATSTART | PCRE2_ANCHORED : 0;
            }
            if (prev_end < plen && (st = push_len(&s->b, &s->cap_b, &n_next, plen - prev_end))) return st;
            pos += plen;
        }
        size_t *t = s->a; s->a = s->b; s->b = t;
        size_t c = s->cap_a; s->cap_a = s->cap_b; s->cap_b = c;
        n_cur = n_next;
    }
    *pieces = s->a;
    *n_out = n_cur;
    return EW_OK;
}
