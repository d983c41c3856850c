/*
 * synth_preset.c - finding data/presets.json and the shared data root, and parsing preset
 * entries (see synth.h for the lookup order and data/presets.json for the format).
 * Every error names the file, the preset and the field.
 */
#include "model/synth_internal.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PRESETS_FILE "presets.json"

/* True if path names a readable file. */
static bool readable(const char *path) { return access(path, R_OK) == 0; }

/* The directory of the running executable into buf ("" if unknown). */
static void exe_dir(char *buf, size_t cap) {
    buf[0] = 0;
    char tmp[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", tmp, sizeof tmp - 1);
    if (n <= 0) return;
    tmp[n] = 0;
    char *slash = strrchr(tmp, '/');
    if (!slash) return;
    *slash = 0;
    snprintf(buf, cap, "%s", tmp);
}

/* presets.json: env EW_DATA_DIR, else the compile-time EW_DATA_DIR, else next to the
 * executable (../share/edgewatt). EW_ERR_NOT_FOUND lists the places tried. */
ew_status ew_synth_presets_path(char *buf, size_t cap) {
    const char *env = getenv("EW_DATA_DIR");
    if (env && *env) {
        snprintf(buf, cap, "%s/%s", env, PRESETS_FILE);
        if (readable(buf)) return EW_OK;
        return ew_error(EW_ERR_NOT_FOUND, "%s: not found (EW_DATA_DIR=%s)", buf, env);
    }
    char tried[2 * PATH_MAX + 64] = "";
#ifdef EW_DATA_DIR
    snprintf(buf, cap, "%s/%s", EW_DATA_DIR, PRESETS_FILE);
    if (readable(buf)) return EW_OK;
    snprintf(tried, sizeof tried, "%s", buf);
#endif
    char dir[PATH_MAX];
    exe_dir(dir, sizeof dir);
    if (dir[0]) {
        snprintf(buf, cap, "%s/../share/edgewatt/%s", dir, PRESETS_FILE);
        if (readable(buf)) return EW_OK;
        size_t l = strlen(tried);
        snprintf(tried + l, sizeof tried - l, "%s%s", l ? ", " : "", buf);
    }
    return ew_error(EW_ERR_NOT_FOUND, "%s not found (tried %s; set EW_DATA_DIR to the folder holding it)",
                    PRESETS_FILE, tried[0] ? tried : "nothing");
}

/* The shared data root: env EW_SHARED + "/data", else <source>/../shared/data. */
void ew_synth_shared_data_dir(char *buf, size_t cap) {
    const char *env = getenv("EW_SHARED");
    if (env && *env) {
        snprintf(buf, cap, "%s/data", env);
        return;
    }
#ifdef EW_DATA_DIR
    snprintf(buf, cap, "%s/../../shared/data", EW_DATA_DIR);
#else
    snprintf(buf, cap, "../shared/data");
#endif
}

/* Read and parse the presets file; *path_out receives its path (for messages). */
static ew_status load_root(json_t **root, char *path, size_t cap) {
    *root = NULL;
    ew_status st = ew_synth_presets_path(path, cap);
    if (st) return st;
    char *text;
    size_t n;
    if ((st = ew_read_file(path, &text, &n))) return st;
    json_error_t err;
    *root = json_loadb(text, n, 0, &err);
    ew_free(text);
    if (!*root)
        return ew_error(EW_ERR_FORMAT, "%s: line %d column %d: %s", path, err.line, err.column, err.text);
    if (!json_is_array(json_object_get(*root, "presets"))) {
        json_decref(*root);
        *root = NULL;
        return ew_error(EW_ERR_FORMAT, "%s: no \"presets\" array", path);
    }
    return EW_OK;
}

/* A string field of obj ("" when absent or not a string). */
static const char *str_field(json_t *obj, const char *key) {
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

/* The comma-separated preset names of root, into buf. */
static void names_of(json_t *root, char *buf, size_t cap) {
    json_t *arr = json_object_get(root, "presets"), *p;
    size_t i, len = 0;
    buf[0] = 0;
    json_array_foreach(arr, i, p) {
        int w = snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", str_field(p, "name"));
        if (w < 0 || (size_t)w >= cap - len) break;
        len += (size_t)w;
    }
}

/* Parsing context: file path and preset name for messages. */
typedef struct pctx { const char *path, *name; } pctx;

/* Copy a required string field into *out. */
static ew_status req_str(const pctx *c, json_t *obj, const char *sect, const char *key, char **out) {
    const char *s = json_string_value(json_object_get(obj, key));
    if (!s || !*s)
        return ew_error(EW_ERR_FORMAT, "%s: preset '%s': %s%s\"%s\" must be a non-empty string",
                        c->path, c->name, sect, *sect ? "." : "", key);
    return (*out = ew_strdup(s)) ? EW_OK : ew_error(EW_ERR_NOMEM, "out of memory");
}

/* Copy an optional string field (NULL when absent/null). */
static ew_status opt_str(const pctx *c, json_t *obj, const char *sect, const char *key, char **out) {
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v)) return EW_OK;
    return req_str(c, obj, sect, key, out);
}

/* Each section must say where its figures come from. */
static ew_status need_source(const pctx *c, json_t *obj, const char *sect) {
    const char *s = json_string_value(json_object_get(obj, "source"));
    if (!s || !*s)
        return ew_error(EW_ERR_FORMAT, "%s: preset '%s': %s has no \"source\"", c->path, c->name, sect);
    return EW_OK;
}

/* The GGUF hyper-parameter keys synth knows, with their GGUF types. */
static const struct { const char *key; bool is_float; } HP_KEYS[] = {
    { "context_length", false }, { "embedding_length", false }, { "block_count", false },
    { "feed_forward_length", false }, { "attention.head_count", false },
    { "attention.head_count_kv", false }, { "attention.key_length", false },
    { "attention.value_length", false }, { "rope.dimension_count", false },
    { "vocab_size", false }, { "attention.sliding_window", false },
    { "expert_count", false }, { "expert_used_count", false },
    { "rope.freq_base", true }, { "attention.layer_norm_rms_epsilon", true },
    { "attention.layer_norm_epsilon", true },
};

/* Parse one hparams entry into kv. */
static ew_status parse_kv(const pctx *c, const char *key, json_t *v, synth_kv *kv) {
    size_t k;
    for (k = 0; k < EW_ARRAY_LEN(HP_KEYS); k++)
        if (strcmp(HP_KEYS[k].key, key) == 0) break;
    if (k == EW_ARRAY_LEN(HP_KEYS))
        return ew_error(EW_ERR_FORMAT, "%s: preset '%s': hparams.\"%s\" is not a GGUF key synth knows",
                        c->path, c->name, key);
    kv->is_float = HP_KEYS[k].is_float;
    if (kv->is_float) {
        if (!json_is_number(v))
            return ew_error(EW_ERR_FORMAT, "%s: preset '%s': hparams.\"%s\" must be a number", c->path, c->name, key);
        kv->f = (float)json_number_value(v);
    } else {
        json_int_t i = json_integer_value(v);
        if (!json_is_integer(v) || i <= 0 || i > (json_int_t)UINT32_MAX)
            return ew_error(EW_ERR_FORMAT, "%s: preset '%s': hparams.\"%s\" must be an integer in [1, 2^32)",
                            c->path, c->name, key);
        kv->u = (uint32_t)i;
    }
    return (kv->key = ew_strdup(key)) ? EW_OK : ew_error(EW_ERR_NOMEM, "out of memory");
}

/* The hparams object (keys in file order). */
static ew_status parse_hparams(const pctx *c, json_t *h, synth_preset *p) {
    if (!json_is_object(h)) return ew_error(EW_ERR_FORMAT, "%s: preset '%s': no \"hparams\" object", c->path, c->name);
    ew_status st = need_source(c, h, "hparams");
    if (st) return st;
    p->kv = ew_calloc(json_object_size(h), sizeof *p->kv);
    if (!p->kv) return ew_error(EW_ERR_NOMEM, "out of memory");
    const char *key;
    json_t *v;
    json_object_foreach(h, key, v) {
        if (strcmp(key, "source") == 0) continue;
        if ((st = parse_kv(c, key, v, &p->kv[p->n_kv]))) return st;
        p->n_kv++;
    }
    return EW_OK;
}

/* A positive number field of obj. */
static ew_status num_field(const pctx *c, json_t *obj, const char *sect, const char *key, double *out) {
    json_t *v = json_object_get(obj, key);
    if (!json_is_number(v) || !(json_number_value(v) > 0))
        return ew_error(EW_ERR_FORMAT, "%s: preset '%s': %s.\"%s\" must be a positive number", c->path, c->name, sect, key);
    *out = json_number_value(v);
    return EW_OK;
}

/* rope_scaling: null or {type: "llama3", factor, low_freq_factor, high_freq_factor,
 * original_max_position_embeddings}. */
static ew_status parse_rope(const pctx *c, json_t *r, synth_preset *p) {
    if (!r || json_is_null(r)) return EW_OK;
    ew_status st = need_source(c, r, "rope_scaling");
    if (st) return st;
    const char *type = str_field(r, "type");
    if (strcmp(type, "llama3") != 0)
        return ew_error(EW_ERR_UNSUPPORTED, "%s: preset '%s': rope_scaling.type '%s' is not supported (llama3 only)",
                        c->path, c->name, type);
    p->rope_llama3 = true;
    if ((st = num_field(c, r, "rope_scaling", "factor", &p->rope_factor)) ||
        (st = num_field(c, r, "rope_scaling", "low_freq_factor", &p->rope_low)) ||
        (st = num_field(c, r, "rope_scaling", "high_freq_factor", &p->rope_high)) ||
        (st = num_field(c, r, "rope_scaling", "original_max_position_embeddings", &p->rope_orig_ctx)))
        return st;
    if (p->rope_high == p->rope_low)
        return ew_error(EW_ERR_FORMAT, "%s: preset '%s': rope_scaling high_freq_factor equals low_freq_factor",
                        c->path, c->name);
    return EW_OK;
}

/* weights: {tie_word_embeddings, n_params, source}. */
static ew_status parse_weights(const pctx *c, json_t *w, synth_preset *p) {
    if (!json_is_object(w)) return ew_error(EW_ERR_FORMAT, "%s: preset '%s': no \"weights\" object", c->path, c->name);
    ew_status st = need_source(c, w, "weights");
    if (st) return st;
    json_t *tie = json_object_get(w, "tie_word_embeddings");
    if (!json_is_boolean(tie))
        return ew_error(EW_ERR_FORMAT, "%s: preset '%s': weights.tie_word_embeddings must be true or false", c->path, c->name);
    p->tied = json_is_true(tie);
    json_t *n = json_object_get(w, "n_params");
    if (n && (!json_is_integer(n) || json_integer_value(n) <= 0))
        return ew_error(EW_ERR_FORMAT, "%s: preset '%s': weights.n_params must be a positive integer", c->path, c->name);
    p->n_params = n ? (uint64_t)json_integer_value(n) : 0;
    return EW_OK;
}

/* An optional token id (-1 when absent). */
static ew_status tok_id(const pctx *c, json_t *t, const char *key, int32_t *out) {
    json_t *v = json_object_get(t, key);
    *out = -1;
    if (!v || json_is_null(v)) return EW_OK;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > INT32_MAX)
        return ew_error(EW_ERR_FORMAT, "%s: preset '%s': tokenizer.%s must be a token id", c->path, c->name, key);
    *out = (int32_t)json_integer_value(v);
    return EW_OK;
}

/* An optional boolean (-1 when absent). */
static ew_status tok_bool(const pctx *c, json_t *t, const char *key, int *out) {
    json_t *v = json_object_get(t, key);
    *out = -1;
    if (!v || json_is_null(v)) return EW_OK;
    if (!json_is_boolean(v))
        return ew_error(EW_ERR_FORMAT, "%s: preset '%s': tokenizer.%s must be true or false", c->path, c->name, key);
    *out = json_is_true(v);
    return EW_OK;
}

/* tokenizer: {file?, pre?, generate, bos?, eos?, pad?, add_bos?, add_eos?,
 * chat_template? | chat_template_file?, source}. */
static ew_status parse_tokenizer(const pctx *c, json_t *t, synth_preset *p) {
    if (!json_is_object(t)) return ew_error(EW_ERR_FORMAT, "%s: preset '%s': no \"tokenizer\" object", c->path, c->name);
    ew_status st;
    if ((st = need_source(c, t, "tokenizer")) || (st = opt_str(c, t, "tokenizer", "file", &p->tok_file)) ||
        (st = opt_str(c, t, "tokenizer", "pre", &p->tok_pre)) ||
        (st = req_str(c, t, "tokenizer", "generate", &p->tok_generate)) ||
        (st = tok_id(c, t, "bos", &p->bos)) || (st = tok_id(c, t, "eos", &p->eos)) ||
        (st = tok_id(c, t, "pad", &p->pad)) || (st = tok_bool(c, t, "add_bos", &p->add_bos)) ||
        (st = tok_bool(c, t, "add_eos", &p->add_eos)) ||
        (st = opt_str(c, t, "tokenizer", "chat_template", &p->chat_template)) ||
        (st = opt_str(c, t, "tokenizer", "chat_template_file", &p->chat_template_file)))
        return st;
    if (strcmp(p->tok_generate, "gpt2") != 0 && strcmp(p->tok_generate, "llama") != 0)
        return ew_error(EW_ERR_FORMAT, "%s: preset '%s': tokenizer.generate must be \"gpt2\" or \"llama\", not '%s'",
                        c->path, c->name, p->tok_generate);
    return EW_OK;
}

/* Parse one preset object into p. */
static ew_status parse_preset(const pctx *c, json_t *o, synth_preset *p) {
    ew_status st;
    if ((st = req_str(c, o, "", "name", &p->name)) || (st = req_str(c, o, "", "display_name", &p->display_name)) ||
        (st = req_str(c, o, "", "arch", &p->arch)) || (st = opt_str(c, o, "", "hf_repo", &p->hf_repo)) ||
        (st = opt_str(c, o, "", "license", &p->license)) ||
        (st = parse_hparams(c, json_object_get(o, "hparams"), p)) ||
        (st = parse_rope(c, json_object_get(o, "rope_scaling"), p)) ||
        (st = parse_weights(c, json_object_get(o, "weights"), p)) ||
        (st = parse_tokenizer(c, json_object_get(o, "tokenizer"), p)))
        return st;
    return EW_OK;
}

/* Find the preset called name and parse it. */
ew_status synth_preset_load(const char *name, synth_preset *out) {
    memset(out, 0, sizeof *out);
    char path[PATH_MAX + 32];
    json_t *root;
    ew_status st = load_root(&root, path, sizeof path);
    if (st) return st;
    json_t *arr = json_object_get(root, "presets"), *o, *found = NULL;
    size_t i;
    json_array_foreach(arr, i, o) {
        if (strcmp(str_field(o, "name"), name ? name : "") == 0) { found = o; break; }
    }
    if (!found) {
        char names[1024];
        names_of(root, names, sizeof names);
        json_decref(root);
        return ew_error(EW_ERR_NOT_FOUND, "unknown preset '%s' (valid: %s)", name ? name : "", names);
    }
    pctx c = { path, name };
    st = parse_preset(&c, found, out);
    json_decref(root);
    if (st) synth_preset_clear(out);
    return st;
}

/* Free everything parse_preset allocated. */
void synth_preset_clear(synth_preset *p) {
    ew_free(p->name); ew_free(p->display_name); ew_free(p->hf_repo); ew_free(p->license);
    ew_free(p->arch);
    for (size_t i = 0; i < p->n_kv; i++) ew_free(p->kv[i].key);
    ew_free(p->kv);
    ew_free(p->tok_file); ew_free(p->tok_pre); ew_free(p->tok_generate);
    ew_free(p->chat_template); ew_free(p->chat_template_file);
    memset(p, 0, sizeof *p);
}

/* Lookup of an integer hparam. */
bool synth_preset_u32(const synth_preset *p, const char *key, uint32_t *out) {
    for (size_t i = 0; i < p->n_kv; i++)
        if (!p->kv[i].is_float && strcmp(p->kv[i].key, key) == 0) { *out = p->kv[i].u; return true; }
    return false;
}

/* Lookup of a float hparam. */
bool synth_preset_f32(const synth_preset *p, const char *key, float *out) {
    for (size_t i = 0; i < p->n_kv; i++)
        if (p->kv[i].is_float && strcmp(p->kv[i].key, key) == 0) { *out = p->kv[i].f; return true; }
    return false;
}

/* The presets of the file, in order. */
ew_status ew_synth_list(ew_synth_preset_info **out, size_t *n) {
    *out = NULL;
    *n = 0;
    char path[PATH_MAX + 32];
    json_t *root;
    ew_status st = load_root(&root, path, sizeof path);
    if (st) return st;
    json_t *arr = json_object_get(root, "presets"), *o;
    size_t cnt = json_array_size(arr), i;
    ew_synth_preset_info *list = ew_calloc(cnt ? cnt : 1, sizeof *list);
    if (!list) { json_decref(root); return ew_error(EW_ERR_NOMEM, "out of memory"); }
    json_array_foreach(arr, i, o) {
        json_t *np = json_object_get(json_object_get(o, "weights"), "n_params");
        list[i].name = ew_strdup(str_field(o, "name"));
        list[i].display_name = ew_strdup(str_field(o, "display_name"));
        list[i].arch = ew_strdup(str_field(o, "arch"));
        list[i].hf_repo = ew_strdup(str_field(o, "hf_repo"));
        list[i].n_params = json_is_integer(np) ? (uint64_t)json_integer_value(np) : 0;
        if (!list[i].name || !list[i].display_name || !list[i].arch || !list[i].hf_repo) {
            ew_synth_list_free(list, i + 1);
            json_decref(root);
            return ew_error(EW_ERR_NOMEM, "out of memory");
        }
    }
    json_decref(root);
    *out = list;
    *n = cnt;
    return EW_OK;
}

/* Free a list from ew_synth_list. */
void ew_synth_list_free(ew_synth_preset_info *list, size_t n) {
    if (!list) return;
    for (size_t i = 0; i < n; i++) {
        ew_free(list[i].name); ew_free(list[i].display_name);
        ew_free(list[i].arch); ew_free(list[i].hf_repo);
    }
    ew_free(list);
}
