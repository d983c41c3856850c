/*
 * vocab_import.c - vocabularies from tokenizer files, laid out the way llama.cpp's
 * convert_hf_to_gguf.py would write them to GGUF:
 *   - HF tokenizer.json (BPE model; added tokens included),
 *   - a directory with vocab.json + merges.txt (or vocab.derived.json + merges.derived.txt)
 *     and optionally tokenizer_config.json (added_tokens_decoder, special tokens, template),
 *   - a tiktoken ranks file (Llama 3 tokenizer.model: "base64 rank" lines), with merges
 *     derived from the ranks as transformers' TikTokenConverter does and Llama 3's 256
 *     special tokens added.
 * Token types follow the converter: added tokens are control if marked special or if they
 * look special (<|...|>), else user-defined; ids missing from the vocabulary become
 * "[PAD<i>]" unused tokens.
 */
#include "text/tokenizer_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- small helpers ---- */

/* Frees a vocabulary and everything in it (NULL is fine). */
void ew_vocab_data_free(ew_vocab_data *v) {
    if (!v) return;
    if (v->tokens)
        for (uint32_t i = 0; i < v->n_tokens; i++) ew_free(v->tokens[i]);
    if (v->merges)
        for (uint32_t i = 0; i < v->n_merges; i++) ew_free(v->merges[i]);
    ew_free(v->tokens);
    ew_free(v->merges);
    ew_free(v->scores);
    ew_free(v->token_type);
    ew_free(v->model);
    ew_free(v->pre);
    ew_free(v->chat_template);
    ew_free(v);
}

/* A fresh vocabulary of n tokens (all NULL/normal), model "gpt2", no special ids. */
static ew_vocab_data *vocab_new(uint32_t n, const char *model) {
    ew_vocab_data *v = ew_calloc(1, sizeof *v);
    if (!v) return NULL;
    v->bos = v->eos = v->eot = v->unk = v->pad = -1;
    v->n_tokens = n;
    v->model = ew_strdup(model);
    v->tokens = ew_calloc(n ? n : 1, sizeof *v->tokens);
    v->token_type = ew_calloc(n ? n : 1, sizeof *v->token_type);
    if (!v->model || !v->tokens || !v->token_type) {
        ew_vocab_data_free(v);
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++) v->token_type[i] = EW_TOKTYPE_NORMAL;
    return v;
}

/* Appends a merge "a b" (a, b of given lengths) to v; *cap tracks the array size. */
static ew_status add_merge(ew_vocab_data *v, uint32_t *cap, const char *a, size_t al, const char *b, size_t bl) {
    if (v->n_merges == *cap) {
        uint32_t nc = *cap ? *cap * 2 : 1024;
        char **m = ew_realloc(v->merges, (size_t)nc * sizeof *m);
        if (!m) return ew_error(EW_ERR_NOMEM, "vocab import: out of memory for merges");
        v->merges = m;
        *cap = nc;
    }
    char *s = ew_malloc(al + bl + 2);
    if (!s) return ew_error(EW_ERR_NOMEM, "vocab import: out of memory for merges");
    memcpy(s, a, al);
    s[al] = ' ';
    memcpy(s + al + 1, b, bl);
    s[al + 1 + bl] = 0;
    v->merges[v->n_merges++] = s;
    return EW_OK;
}

static bool is_dir(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static bool is_file(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* dir + "/" + name into buf; true if that file exists. */
static bool join(char *buf, size_t cap, const char *dir, const char *name) {
    int n = snprintf(buf, cap, "%s/%s", dir, name);
    return n > 0 && (size_t)n < cap && is_file(buf);
}

/* The directory part of path (for sibling config files). */
static void dir_of(const char *path, char *buf, size_t cap) {
    int n = snprintf(buf, cap, "%s", path);
    if (n < 0 || (size_t)n >= cap) buf[0] = 0;
    char *s = strrchr(buf, '/');
    if (s) *s = 0;
    else snprintf(buf, cap, ".");
}

/* Loads a JSON file; errors name the path, line and column. */
static ew_status load_json(const char *path, json_t **out) {
    json_error_t e;
    *out = json_load_file(path, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (!*out) return ew_error(EW_ERR_FORMAT, "%s:%d:%d: %s", path, e.line, e.column, e.text);
    return EW_OK;
}

/* Does a token text look special the way the converter judges it (<|...|>, <｜...｜>,
 * <pad>, <mask>, <unused...>)? */
static bool looks_special(const char *s) {
    size_t n = strlen(s);
    if (!strcmp(s, "<pad>") || !strcmp(s, "<mask>") || !strcmp(s, "<2mass>") || !strcmp(s, "[@BOS@]")) return true;
    if (n >= 4 && !strncmp(s, "<|", 2) && !strcmp(s + n - 2, "|>")) return true;
    if (n >= 8 && !strncmp(s, "<\xef\xbd\x9c", 4) && !strcmp(s + n - 4, "\xef\xbd\x9c>")) return true;
    if (n >= 8 && !strncmp(s, "<unused", 7) && s[n - 1] == '>') return true;
    return false;
}

/* Replaces every U+2581 of s by a space (user-defined tokens are stored pre-normalized). */
static void unescape_spaces(char *s) {
    char *o = s;
    for (char *p = s; *p;) {
        if (!strncmp(p, "\xe2\x96\x81", 3)) { *o++ = ' '; p += 3; }
        else *o++ = *p++;
    }
    *o = 0;
}

/* Id of the token whose text is s, or -1 (linear; used a handful of times). */
static int32_t find_token(const ew_vocab_data *v, const char *s) {
    if (!s) return -1;
    for (uint32_t i = 0; i < v->n_tokens; i++)
        if (v->tokens[i] && !strcmp(v->tokens[i], s)) return (int32_t)i;
    return -1;
}

/* The text of a special-token entry of tokenizer_config.json (a string or {"content":..}). */
static const char *special_text(json_t *j) {
    if (json_is_string(j)) return json_string_value(j);
    if (json_is_object(j)) return json_string_value(json_object_get(j, "content"));
    return NULL;
}

/* ---- the parts shared by tokenizer.json and vocab.json imports ---- */

/* Sets a token (takes a copy). */
static ew_status set_token(ew_vocab_data *v, uint32_t id, const char *text, size_t len, int32_t type) {
    char *s = ew_strndup(text, len);
    if (!s) return ew_error(EW_ERR_NOMEM, "vocab import: out of memory");
    ew_free(v->tokens[id]);
    v->tokens[id] = s;
    v->token_type[id] = type;
    return EW_OK;
}

/* Marks added token (id, text, special) the way the converter types it. */
static ew_status add_added(ew_vocab_data *v, uint32_t id, const char *text, bool special) {
    ew_status st = set_token(v, id, text, strlen(text), EW_TOKTYPE_CONTROL);
    if (st) return st;
    if (!special && !looks_special(text)) {
        unescape_spaces(v->tokens[id]);
        v->token_type[id] = EW_TOKTYPE_USER_DEFINED;
    }
    return EW_OK;
}

/* Fills ids missing from the vocabulary with "[PAD<i>]" unused tokens. */
static ew_status fill_holes(ew_vocab_data *v) {
    for (uint32_t i = 0; i < v->n_tokens; i++) {
        if (v->tokens[i]) continue;
        char buf[32];
        int n = snprintf(buf, sizeof buf, "[PAD%u]", i);
        ew_status st = set_token(v, i, buf, (size_t)n, EW_TOKTYPE_UNUSED);
        if (st) return st;
    }
    return EW_OK;
}

/* Reads special ids, add_bos/eos and the chat template from tokenizer_config.json and
 * config.json in dir (either may be absent), as gguf-py's SpecialVocab does. */
static ew_status read_configs(ew_vocab_data *v, const char *dir) {
    char path[4096];
    json_t *tc = NULL, *cfg = NULL;
    ew_status st;
    if (join(path, sizeof path, dir, "tokenizer_config.json") && (st = load_json(path, &tc))) return st;
    if (join(path, sizeof path, dir, "config.json") && (st = load_json(path, &cfg))) {
        json_decref(tc);
        return st;
    }
    if (tc) {
        v->bos = find_token(v, special_text(json_object_get(tc, "bos_token")));
        v->eos = find_token(v, special_text(json_object_get(tc, "eos_token")));
        v->unk = find_token(v, special_text(json_object_get(tc, "unk_token")));
        v->pad = find_token(v, special_text(json_object_get(tc, "pad_token")));
        json_t *b = json_object_get(tc, "add_bos_token"), *e = json_object_get(tc, "add_eos_token");
        if (json_is_boolean(b)) v->add_bos = json_is_true(b);
        if (json_is_boolean(e)) v->add_eos = json_is_true(e);
        const char *tmpl = json_string_value(json_object_get(tc, "chat_template"));
        if (tmpl && !(v->chat_template = ew_strdup(tmpl))) {
            json_decref(tc);
            json_decref(cfg);
            return ew_error(EW_ERR_NOMEM, "vocab import: out of memory");
        }
    }
    if (cfg) {
        struct { const char *key; int32_t *dst; } k[] = {
            {"bos_token_id", &v->bos}, {"eos_token_id", &v->eos}, {"pad_token_id", &v->pad}};
        for (int i = 0; i < 3; i++) {
            json_t *j = json_object_get(cfg, k[i].key);
            if (json_is_array(j)) j = json_array_get(j, 0);
            if (*k[i].dst < 0 && json_is_integer(j) && json_integer_value(j) >= 0 &&
                json_integer_value(j) < (json_int_t)v->n_tokens)
                *k[i].dst = (int32_t)json_integer_value(j);
        }
    }
    json_decref(tc);
    json_decref(cfg);
    /* GPT-2 and Qwen name <|endoftext|> their BOS/EOS */
    int32_t eot = find_token(v, "<|endoftext|>");
    if (v->bos < 0) v->bos = eot;
    if (v->eos < 0) v->eos = eot;
    return EW_OK;
}

/* Copies a vocab object {token: id} into v (ids must be < v->n_tokens). */
static ew_status take_vocab(ew_vocab_data *v, json_t *vocab, const char *path) {
    const char *key;
    json_t *val;
    json_object_foreach(vocab, key, val) {
        json_int_t id = json_integer_value(val);
        if (!json_is_integer(val) || id < 0 || id >= (json_int_t)v->n_tokens)
            return ew_error(EW_ERR_FORMAT, "%s: vocab entry '%.64s' has a bad id", path, key);
        if (v->tokens[id]) return ew_error(EW_ERR_FORMAT, "%s: vocab id %lld is used twice", path, (long long)id);
        ew_status st = set_token(v, (uint32_t)id, key, strlen(key), EW_TOKTYPE_NORMAL);
        if (st) return st;
    }
    return EW_OK;
}

/* Largest id in a vocab object, -1 if empty. */
static json_int_t max_id(json_t *vocab) {
    json_int_t m = -1;
    const char *key;
    json_t *val;
    json_object_foreach(vocab, key, val) if (json_is_integer(val) && json_integer_value(val) > m) m = json_integer_value(val);
    return m;
}

static ew_status set_pre(ew_vocab_data *v, const char *pre) {
    if (!(v->pre = ew_strdup(pre))) return ew_error(EW_ERR_NOMEM, "vocab import: out of memory");
    ew_pre_info info;
    if (ew_pre_lookup(pre, strlen(pre), &info)) v->add_bos = info.add_bos;
    return EW_OK;
}

/* ---- tokenizer.json ---- */

/* Guesses tokenizer.ggml.pre from a tokenizer.json pre_tokenizer. */
static const char *guess_pre_json(json_t *pt) {
    const char *type = json_string_value(json_object_get(pt, "type"));
    if (!type) return "default";
    if (!strcmp(type, "ByteLevel")) return "gpt-2";
    if (strcmp(type, "Sequence")) return "default";
    json_t *list = json_object_get(pt, "pretokenizers");
    size_t i;
    json_t *p;
    bool digits = false, bytelevel = false;
    json_array_foreach(list, i, p) {
        const char *t = json_string_value(json_object_get(p, "type"));
        if (!t) continue;
        if (!strcmp(t, "Digits") && json_is_true(json_object_get(p, "individual_digits"))) digits = true;
        if (!strcmp(t, "ByteLevel")) bytelevel = true;
        if (!strcmp(t, "Split")) {
            const char *re = json_string_value(json_object_get(json_object_get(p, "pattern"), "Regex"));
            if (re && strstr(re, "\\p{N}{1,3}")) return "llama-bpe";
            if (re && strstr(re, "\\p{N}|")) return "qwen2";
        }
    }
    if (digits && bytelevel) return "smollm";
    return bytelevel ? "gpt-2" : "default";
}

static ew_status import_tokenizer_json(const char *path, const char *pre, ew_vocab_data **out) {
    json_t *root;
    ew_status st = load_json(path, &root);
    if (st) return st;
    ew_vocab_data *v = NULL;
    json_t *model = json_object_get(root, "model");
    json_t *vocab = json_object_get(model, "vocab"), *merges = json_object_get(model, "merges");
    json_t *added = json_object_get(root, "added_tokens");
    const char *type = json_string_value(json_object_get(model, "type"));
    if (!type || strcmp(type, "BPE") || !json_is_object(vocab) || !json_is_array(merges)) {
        st = ew_error(EW_ERR_UNSUPPORTED, "%s: only BPE tokenizer.json files are supported (model.type, model.vocab, model.merges)", path);
        goto out;
    }
    if (json_is_true(json_object_get(model, "byte_fallback"))) {
        /* sentencepiece-style BPE (U+2581 spaces, <0xNN> tokens) needs the SPM scores, which
         * tokenizer.json does not carry */
        st = ew_error(EW_ERR_UNSUPPORTED, "%s: a byte_fallback (sentencepiece-style) BPE tokenizer.json is not "
                      "supported; import byte-level BPE, or use the model's GGUF", path);
        goto out;
    }
    json_int_t n = max_id(vocab);
    size_t i;
    json_t *a;
    json_array_foreach(added, i, a) {
        json_t *id = json_object_get(a, "id");
        if (json_is_integer(id) && json_integer_value(id) > n) n = json_integer_value(id);
    }
    char dir[4096], cpath[4096];
    dir_of(path, dir, sizeof dir);
    json_t *cfg = NULL;
    if (join(cpath, sizeof cpath, dir, "config.json") && load_json(cpath, &cfg) == EW_OK) {
        json_t *vs = json_object_get(cfg, "vocab_size");
        if (json_is_integer(vs) && json_integer_value(vs) > n && json_integer_value(vs) < INT32_MAX) n = json_integer_value(vs) - 1;
        json_decref(cfg);
    }
    if (n < 0 || n >= INT32_MAX) {
        st = ew_error(EW_ERR_FORMAT, "%s: model.vocab is empty or too large", path);
        goto out;
    }
    if (!(v = vocab_new((uint32_t)n + 1, "gpt2"))) { st = ew_error(EW_ERR_NOMEM, "%s: out of memory", path); goto out; }
    if ((st = take_vocab(v, vocab, path))) goto out;
    json_array_foreach(added, i, a) {
        json_t *id = json_object_get(a, "id");
        const char *content = json_string_value(json_object_get(a, "content"));
        if (!json_is_integer(id) || !content || json_integer_value(id) < 0) {
            st = ew_error(EW_ERR_FORMAT, "%s: added_tokens[%zu] lacks id or content", path, i);
            goto out;
        }
        if ((st = add_added(v, (uint32_t)json_integer_value(id), content, json_is_true(json_object_get(a, "special"))))) goto out;
    }
    if ((st = fill_holes(v))) goto out;
    uint32_t cap = 0;
    json_array_foreach(merges, i, a) {
        const char *l, *r;
        size_t ll, rl;
        if (json_is_string(a)) {
            const char *s = json_string_value(a), *sp = strchr(s + (s[0] ? 1 : 0), ' ');
            if (!sp) { st = ew_error(EW_ERR_FORMAT, "%s: model.merges[%zu] has no space", path, i); goto out; }
            l = s; ll = (size_t)(sp - s); r = sp + 1; rl = strlen(r);
        } else if (json_is_array(a) && json_array_size(a) == 2 && json_is_string(json_array_get(a, 0)) &&
                   json_is_string(json_array_get(a, 1))) {
            l = json_string_value(json_array_get(a, 0)); ll = strlen(l);
            r = json_string_value(json_array_get(a, 1)); rl = strlen(r);
        } else {
            st = ew_error(EW_ERR_FORMAT, "%s: model.merges[%zu] is neither \"a b\" nor [a, b]", path, i);
            goto out;
        }
        if ((st = add_merge(v, &cap, l, ll, r, rl))) goto out;
    }
    if ((st = set_pre(v, pre ? pre : guess_pre_json(json_object_get(root, "pre_tokenizer"))))) goto out;
    if ((st = read_configs(v, dir))) goto out;
out:
    json_decref(root);
    if (st) ew_vocab_data_free(v);
    else *out = v;
    return st;
}

/* ---- vocab.json + merges.txt ---- */

/* Reads merges.txt: an optional "#version" line, then "a b" per line. */
static ew_status read_merges_txt(ew_vocab_data *v, const char *path) {
    char *data;
    size_t size;
    ew_status st = ew_read_file(path, &data, &size);
    if (st) return st;
    uint32_t cap = 0, line = 0;
    for (char *p = data, *end = data + size; p < end; line++) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *e = nl ? nl : end;
        size_t len = (size_t)(e - p);
        if (len && p[len - 1] == '\r') len--;
        if (len && !(line == 0 && !strncmp(p, "#version", 8))) {
            char *sp = len > 1 ? memchr(p + 1, ' ', len - 1) : NULL;
            if (!sp) {
                st = ew_error(EW_ERR_FORMAT, "%s:%u: merge without a space", path, line + 1);
                break;
            }
            if ((st = add_merge(v, &cap, p, (size_t)(sp - p), sp + 1, len - (size_t)(sp - p) - 1))) break;
        }
        p = e + 1;
    }
    ew_free(data);
    return st;
}

static ew_status import_dir(const char *dir, const char *pre, ew_vocab_data **out) {
    char vpath[4096], mpath[4096], cpath[4096];
    if (!join(vpath, sizeof vpath, dir, "vocab.json") && !join(vpath, sizeof vpath, dir, "vocab.derived.json"))
        return ew_error(EW_ERR_NOT_FOUND, "%s: no vocab.json in the directory", dir);
    if (!join(mpath, sizeof mpath, dir, "merges.txt") && !join(mpath, sizeof mpath, dir, "merges.derived.txt"))
        return ew_error(EW_ERR_NOT_FOUND, "%s: no merges.txt in the directory", dir);
    json_t *vocab, *tc = NULL;
    ew_status st = load_json(vpath, &vocab);
    if (st) return st;
    if (join(cpath, sizeof cpath, dir, "tokenizer_config.json") && (st = load_json(cpath, &tc))) {
        json_decref(vocab);
        return st;
    }
    ew_vocab_data *v = NULL;
    json_t *added = json_object_get(tc, "added_tokens_decoder");
    json_int_t n = json_is_object(vocab) ? max_id(vocab) : -1;
    const char *key;
    json_t *val;
    json_object_foreach(added, key, val) {
        long long id = strtoll(key, NULL, 10);
        if (id > n) n = id;
    }
    if (n < 0 || n >= INT32_MAX) { st = ew_error(EW_ERR_FORMAT, "%s: empty or bad vocabulary", vpath); goto out; }
    if (!(v = vocab_new((uint32_t)n + 1, "gpt2"))) { st = ew_error(EW_ERR_NOMEM, "%s: out of memory", vpath); goto out; }
    if ((st = take_vocab(v, vocab, vpath))) goto out;
    json_object_foreach(added, key, val) {
        char *end;
        long long id = strtoll(key, &end, 10);
        const char *content = json_string_value(json_object_get(val, "content"));
        if (*end || id < 0 || !content) {
            st = ew_error(EW_ERR_FORMAT, "%s: added_tokens_decoder entry '%.32s' is malformed", cpath, key);
            goto out;
        }
        if ((st = add_added(v, (uint32_t)id, content, json_is_true(json_object_get(val, "special"))))) goto out;
    }
    if (!tc) /* no config: GPT-2's vocab.json still holds its <|endoftext|> */
        for (uint32_t i = 0; i < v->n_tokens; i++)
            if (v->tokens[i] && looks_special(v->tokens[i])) v->token_type[i] = EW_TOKTYPE_CONTROL;
    if ((st = fill_holes(v))) goto out;
    if ((st = read_merges_txt(v, mpath))) goto out;
    if (!pre) {
        const char *cls = json_string_value(json_object_get(tc, "tokenizer_class"));
        pre = cls && !strncmp(cls, "Qwen2", 5) ? "qwen2" : "gpt-2";
    }
    if ((st = set_pre(v, pre))) goto out;
    if ((st = read_configs(v, dir))) goto out;
out:
    json_decref(vocab);
    json_decref(tc);
    if (st) ew_vocab_data_free(v);
    else *out = v;
    return st;
}

/* ---- tiktoken (Llama 3) ---- */

/* Value of a base64 digit, -1 if c is not one. */
static int b64_digit(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Decodes standard base64 (no whitespace inside); returns the length or -1. */
static long b64_decode(const char *s, size_t n, unsigned char *out) {
    long o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=') break;
        int d = b64_digit((unsigned char)s[i]);
        if (d < 0) return -1;
        acc = (acc << 6) | (uint32_t)d;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    return o;
}

/* Llama 3.x (HF) names of the 256 special tokens after the 128000 ranks. */
static void llama3_special_name(int i, char *buf, size_t cap) {
    static const char *const named[] = {
        "<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>", "<|reserved_special_token_1|>",
        "<|finetune_right_pad_id|>", "<|reserved_special_token_2|>", "<|start_header_id|>", "<|end_header_id|>",
        "<|eom_id|>", "<|eot_id|>", "<|python_tag|>"};
    if (i < 11) snprintf(buf, cap, "%s", named[i]);
    else snprintf(buf, cap, "<|reserved_special_token_%d|>", i - 11 + 3);
}

static ew_status import_tiktoken(const char *path, const char *pre, ew_vocab_data **out) {
    char *data;
    size_t size;
    ew_status st = ew_read_file(path, &data, &size);
    if (st) return st;
    /* pass 1: count lines, check the ranks are 0..n-1 in order */
    uint32_t n = 0;
    for (size_t i = 0; i < size; i++) n += data[i] == '\n';
    if (size && data[size - 1] != '\n') n++;
    ew_vocab_data *v = NULL;
    unsigned char **raw = ew_calloc(n ? n : 1, sizeof *raw); /* token bytes, [0..3] = length */
    ew_strmap ranks = {0};
    if (!raw) { st = ew_error(EW_ERR_NOMEM, "%s: out of memory", path); goto out; }
    uint32_t count = 0, line = 0;
    for (char *p = data, *end = data + size; p < end; line++) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *e = nl ? nl : end;
        char *sp = memchr(p, ' ', (size_t)(e - p));
        if (e == p) { p = e + 1; continue; }
        char *rend;
        long rank = sp ? strtol(sp + 1, &rend, 10) : -1;
        if (!sp || rank != (long)count || (rend != e && *rend != '\r')) {
            st = ew_error(EW_ERR_FORMAT, "%s:%u: expected \"<base64> %u\"", path, line + 1, count);
            goto out;
        }
        unsigned char *b = ew_malloc((size_t)(sp - p) + 8);
        if (!b) { st = ew_error(EW_ERR_NOMEM, "%s: out of memory", path); goto out; }
        raw[count] = b;
        long bl = b64_decode(p, (size_t)(sp - p), b + 4);
        if (bl <= 0) {
            st = ew_error(EW_ERR_FORMAT, "%s:%u: bad base64", path, line + 1);
            count++;
            goto out;
        }
        uint32_t l32 = (uint32_t)bl;
        memcpy(b, &l32, 4);
        count++;
        p = e + 1;
    }
    if ((st = ew_strmap_init(&ranks, count))) goto out;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t l;
        memcpy(&l, raw[i], 4);
        if (ew_strmap_put(&ranks, (const char *)raw[i] + 4, l, (int32_t)i) != -1) {
            st = ew_error(EW_ERR_FORMAT, "%s: token of rank %u appears twice", path, i);
            goto out;
        }
    }
    if (!(v = vocab_new(count + 256, "gpt2"))) { st = ew_error(EW_ERR_NOMEM, "%s: out of memory", path); goto out; }
    /* tokens: bytes -> GPT-2 byte characters */
    for (uint32_t i = 0; i < count; i++) {
        uint32_t l;
        memcpy(&l, raw[i], 4);
        char *s = ew_malloc((size_t)l * 2 + 1);
        if (!s) { st = ew_error(EW_ERR_NOMEM, "%s: out of memory", path); goto out; }
        size_t o = 0;
        for (uint32_t j = 0; j < l; j++) o += (size_t)ew_bpe_byte_encode(raw[i][4 + j], s + o);
        s[o] = 0;
        v->tokens[i] = s;
    }
    for (int i = 0; i < 256; i++) {
        char buf[64];
        llama3_special_name(i, buf, sizeof buf);
        if ((st = set_token(v, count + (uint32_t)i, buf, strlen(buf), EW_TOKTYPE_CONTROL))) goto out;
    }
    /* merges: every split of a token into two tokens, by the token's rank, then by the
     * ranks of the two parts (transformers' TikTokenConverter.extract_vocab_merges) */
    uint32_t cap = 0;
    typedef struct { int32_t l, r; uint32_t at; } split;
    split loc[256];
    for (uint32_t i = 0; i < count; i++) {
        uint32_t l;
        memcpy(&l, raw[i], 4);
        const char *b = (const char *)raw[i] + 4;
        int nl = 0;
        for (uint32_t k = 1; k < l && nl < 256; k++) {
            int32_t rl = ew_strmap_get(&ranks, b, k), rr = ew_strmap_get(&ranks, b + k, l - k);
            if (rl < 0 || rr < 0) continue;
            split x = {rl, rr, k};
            int j = nl++;
            while (j > 0 && (loc[j - 1].l > x.l || (loc[j - 1].l == x.l && loc[j - 1].r > x.r))) { loc[j] = loc[j - 1]; j--; }
            loc[j] = x;
        }
        for (int j = 0; j < nl; j++)
            if ((st = add_merge(v, &cap, v->tokens[loc[j].l], strlen(v->tokens[loc[j].l]), v->tokens[loc[j].r],
                                strlen(v->tokens[loc[j].r]))))
                goto out;
    }
    if ((st = set_pre(v, pre ? pre : "llama-bpe"))) goto out;
    v->bos = (int32_t)count;      /* <|begin_of_text|> */
    v->eos = (int32_t)count + 9;  /* <|eot_id|>, as Llama 3.x Instruct */
    v->add_bos = true;
out:
    if (raw)
        for (uint32_t i = 0; i < count; i++) ew_free(raw[i]);
    ew_free(raw);
    ew_strmap_free(&ranks);
    ew_free(data);
    if (st) ew_vocab_data_free(v);
    else *out = v;
    return st;
}

/* ---- entry point ---- */

/* Import a tokenizer file or directory (see tokenizer.h). */
ew_status ew_vocab_import(const char *path, const char *pre, ew_vocab_data **out) {
    if (!out) return ew_error(EW_ERR_INVALID_ARG, "ew_vocab_import: NULL out");
    *out = NULL;
    if (!path) return ew_error(EW_ERR_INVALID_ARG, "ew_vocab_import: NULL path");
    char buf[4096];
    if (is_dir(path)) {
        if (join(buf, sizeof buf, path, "vocab.json") || join(buf, sizeof buf, path, "vocab.derived.json"))
            return import_dir(path, pre, out);
        if (join(buf, sizeof buf, path, "tokenizer.json")) return import_tokenizer_json(buf, pre, out);
        if (join(buf, sizeof buf, path, "tokenizer.model")) return import_tiktoken(buf, pre, out);
        return ew_error(EW_ERR_NOT_FOUND, "%s: no tokenizer.json, vocab.json or tokenizer.model in the directory", path);
    }
    if (!is_file(path)) return ew_error(EW_ERR_NOT_FOUND, "%s: no such file or directory", path);
    size_t n = strlen(path);
    if (n >= 5 && !strcmp(path + n - 5, ".json")) return import_tokenizer_json(path, pre, out);
    return import_tiktoken(path, pre, out);
}
