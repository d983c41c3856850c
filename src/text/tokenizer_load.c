/*
 * tokenizer_load.c - reading the tokenizer.ggml.* metadata of a GGUF file (every key's type
 * and length checked, errors naming the key) into a spec for ew_tokenizer_build, and the
 * same from an in-memory ew_vocab_data.
 */
#include "text/tokenizer_internal.h"

#include <string.h>

/* Reads an optional integer key of any integer type into *v (present = true). Values above
 * INT64_MAX saturate; a non-integer type is an error naming the key. */
static ew_status get_int_opt(const gguf_file *f, const char *key, int64_t *v, bool *present) {
    *present = false;
    const gguf_value *val = gguf_get(f, key);
    if (!val) return EW_OK;
    switch (val->type) {
    case GGUF_TYPE_UINT8: case GGUF_TYPE_UINT16: case GGUF_TYPE_UINT32: case GGUF_TYPE_UINT64:
        *v = val->v.u > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)val->v.u;
        break;
    case GGUF_TYPE_INT8: case GGUF_TYPE_INT16: case GGUF_TYPE_INT32: case GGUF_TYPE_INT64:
        *v = val->v.i;
        break;
    default:
        return ew_error(EW_ERR_FORMAT, "%s: %s has type %s, expected an integer", f->path, key, gguf_type_name(val->type));
    }
    *present = true;
    return EW_OK;
}

/* Reads an optional bool key: -1 absent, else 0/1. */
static ew_status get_bool_opt(const gguf_file *f, const char *key, int *v) {
    *v = -1;
    const gguf_value *val = gguf_get(f, key);
    if (!val) return EW_OK;
    if (val->type != GGUF_TYPE_BOOL)
        return ew_error(EW_ERR_FORMAT, "%s: %s has type %s, expected bool", f->path, key, gguf_type_name(val->type));
    *v = val->v.b ? 1 : 0;
    return EW_OK;
}

/* Reads an optional string key (present = false when absent). */
static ew_status get_str_opt(const gguf_file *f, const char *key, gguf_str *s, bool *present) {
    *present = false;
    const gguf_value *val = gguf_get(f, key);
    if (!val) return EW_OK;
    if (val->type != GGUF_TYPE_STRING)
        return ew_error(EW_ERR_FORMAT, "%s: %s has type %s, expected string", f->path, key, gguf_type_name(val->type));
    *s = val->v.str;
    *present = true;
    return EW_OK;
}

/* An optional array key: NULL when absent; wrong kind -> error naming the key. */
static ew_status get_arr_opt(const gguf_file *f, const char *key, const gguf_value **arr) {
    *arr = NULL;
    const gguf_value *val = gguf_get(f, key);
    if (!val) return EW_OK;
    if (val->type != GGUF_TYPE_ARRAY)
        return ew_error(EW_ERR_FORMAT, "%s: %s has type %s, expected an array", f->path, key, gguf_type_name(val->type));
    *arr = val;
    return EW_OK;
}

static bool is_int_type(gguf_type t) {
    return t == GGUF_TYPE_UINT8 || t == GGUF_TYPE_INT8 || t == GGUF_TYPE_UINT16 || t == GGUF_TYPE_INT16 ||
           t == GGUF_TYPE_UINT32 || t == GGUF_TYPE_INT32 || t == GGUF_TYPE_UINT64 || t == GGUF_TYPE_INT64;
}

/* Build from metadata; the tokenizer copies what it keeps. */
ew_status ew_tokenizer_load(const gguf_file *f, ew_tokenizer **out) {
    if (!out) return ew_error(EW_ERR_INVALID_ARG, "ew_tokenizer_load: NULL out");
    *out = NULL;
    if (!f) return ew_error(EW_ERR_INVALID_ARG, "ew_tokenizer_load: NULL file");
    ew_tok_spec sp;
    memset(&sp, 0, sizeof sp);
    sp.name = f->path ? f->path : "<gguf>";
    ew_status st;
    bool present;
    float *scores = NULL;
    int32_t *types = NULL;

    if ((st = get_str_opt(f, "tokenizer.ggml.model", &sp.model, &present))) return st;
    if (!present) return ew_error(EW_ERR_FORMAT, "%s: tokenizer.ggml.model is missing", sp.name);
    if ((st = get_str_opt(f, "tokenizer.ggml.pre", &sp.pre, &sp.has_pre))) return st;
    if ((st = get_str_opt(f, "general.name", &sp.general_name, &present))) return st;

    const gguf_value *tok, *sc, *ty, *mg;
    if ((st = get_arr_opt(f, "tokenizer.ggml.tokens", &tok))) return st;
    if (!tok) return ew_error(EW_ERR_FORMAT, "%s: tokenizer.ggml.tokens is missing", sp.name);
    if (tok->v.arr.type != GGUF_TYPE_STRING)
        return ew_error(EW_ERR_FORMAT, "%s: tokenizer.ggml.tokens is an array of %s, expected string", sp.name,
                        gguf_type_name(tok->v.arr.type));
    if (tok->v.arr.n > INT32_MAX)
        return ew_error(EW_ERR_FORMAT, "%s: tokenizer.ggml.tokens has %llu entries (at most %d)", sp.name,
                        (unsigned long long)tok->v.arr.n, INT32_MAX);
    sp.n_tokens = (uint32_t)tok->v.arr.n;
    sp.tokens = tok->v.arr.strs;

    if ((st = get_arr_opt(f, "tokenizer.ggml.scores", &sc))) return st;
    if (sc) {
        gguf_type et = sc->v.arr.type;
        if (et != GGUF_TYPE_FLOAT32 && et != GGUF_TYPE_FLOAT64 && et != GGUF_TYPE_INT32)
            return ew_error(EW_ERR_FORMAT, "%s: tokenizer.ggml.scores is an array of %s, expected float32", sp.name,
                            gguf_type_name(et));
        if (sc->v.arr.n < sp.n_tokens)
            return ew_error(EW_ERR_FORMAT, "%s: tokenizer.ggml.scores has %llu entries, tokens has %u", sp.name,
                            (unsigned long long)sc->v.arr.n, sp.n_tokens);
    }
    if ((st = get_arr_opt(f, "tokenizer.ggml.token_type", &ty))) return st;
    if (ty) {
        if (!is_int_type(ty->v.arr.type))
            return ew_error(EW_ERR_FORMAT, "%s: tokenizer.ggml.token_type is an array of %s, expected int32", sp.name,
                            gguf_type_name(ty->v.arr.type));
        if (ty->v.arr.n < sp.n_tokens)
            return ew_error(EW_ERR_FORMAT, "%s: tokenizer.ggml.token_type has %llu entries, tokens has %u", sp.name,
                            (unsigned long long)ty->v.arr.n, sp.n_tokens);
    }
    if ((st = get_arr_opt(f, "tokenizer.ggml.merges", &mg))) return st;
    if (mg) {
        if (mg->v.arr.type != GGUF_TYPE_STRING)
            return ew_error(EW_ERR_FORMAT, "%s: tokenizer.ggml.merges is an array of %s, expected string", sp.name,
                            gguf_type_name(mg->v.arr.type));
        sp.has_merges = true;
        sp.n_merges = mg->v.arr.n;
        sp.merges = mg->v.arr.strs;
    }
    for (int i = 0; i < EW_TOK_ID_SLOTS; i++)
        if ((st = get_int_opt(f, ew_tok_id_key(i), &sp.ids[i], &sp.has_id[i]))) return st;
    if ((st = get_bool_opt(f, "tokenizer.ggml.add_bos_token", &sp.add_bos))) return st;
    if ((st = get_bool_opt(f, "tokenizer.ggml.add_eos_token", &sp.add_eos))) return st;
    if ((st = get_bool_opt(f, "tokenizer.ggml.add_space_prefix", &sp.add_space_prefix))) return st;

    size_t n = sp.n_tokens ? sp.n_tokens : 1;
    if (sc) {
        if (!(scores = ew_malloc(n * sizeof *scores))) return ew_error(EW_ERR_NOMEM, "%s: out of memory", sp.name);
        for (uint32_t i = 0; i < sp.n_tokens; i++) scores[i] = gguf_arr_f32(sc, i);
        sp.scores = scores;
    }
    if (ty) {
        if (!(types = ew_malloc(n * sizeof *types))) {
            ew_free(scores);
            return ew_error(EW_ERR_NOMEM, "%s: out of memory", sp.name);
        }
        for (uint32_t i = 0; i < sp.n_tokens; i++) {
            int64_t v = gguf_arr_i64(ty, i);
            types[i] = v < INT32_MIN || v > INT32_MAX ? 0 : (int32_t)v;
        }
        sp.types = types;
    }
    st = ew_tokenizer_build(&sp, out);
    ew_free(scores);
    ew_free(types);
    return st;
}

/* Wraps a C string as a gguf_str (NULL -> empty). */
static gguf_str cstr(const char *s) {
    gguf_str g = {s ? s : "", s ? strlen(s) : 0};
    return g;
}

/* Build from an imported/generated vocabulary (the same rules as from GGUF metadata). */
ew_status ew_tokenizer_from_vocab(const ew_vocab_data *v, ew_tokenizer **out) {
    if (!out) return ew_error(EW_ERR_INVALID_ARG, "ew_tokenizer_from_vocab: NULL out");
    *out = NULL;
    if (!v || !v->model || (v->n_tokens && !v->tokens) || (v->n_merges && !v->merges))
        return ew_error(EW_ERR_INVALID_ARG, "ew_tokenizer_from_vocab: incomplete vocabulary");
    ew_tok_spec sp;
    memset(&sp, 0, sizeof sp);
    sp.name = "<vocab>";
    sp.model = cstr(v->model);
    sp.has_pre = v->pre != NULL;
    sp.pre = cstr(v->pre);
    sp.n_tokens = v->n_tokens;
    sp.scores = v->scores;
    sp.types = v->token_type;
    sp.has_merges = v->n_merges > 0 || strcmp(v->model, "gpt2") == 0;
    sp.n_merges = v->n_merges;
    sp.add_bos = v->add_bos;
    sp.add_eos = v->add_eos;
    sp.add_space_prefix = -1;
    const int32_t ids[5] = {v->bos, v->eos, v->eot, v->unk, v->pad};
    const int slots[5] = {0, 1, 2, 4, 6};
    for (int i = 0; i < 5; i++) {
        sp.has_id[slots[i]] = ids[i] >= 0;
        sp.ids[slots[i]] = ids[i];
    }
    gguf_str *toks = ew_malloc((v->n_tokens ? v->n_tokens : 1) * sizeof *toks);
    gguf_str *merges = ew_malloc((v->n_merges ? v->n_merges : 1) * sizeof *merges);
    if (!toks || !merges) {
        ew_free(toks);
        ew_free(merges);
        return ew_error(EW_ERR_NOMEM, "ew_tokenizer_from_vocab: out of memory");
    }
    for (uint32_t i = 0; i < v->n_tokens; i++) toks[i] = cstr(v->tokens[i]);
    for (uint32_t i = 0; i < v->n_merges; i++) merges[i] = cstr(v->merges[i]);
    sp.tokens = toks;
    sp.merges = merges;
    ew_status st = ew_tokenizer_build(&sp, out);
    ew_free(toks);
    ew_free(merges);
    return st;
}
