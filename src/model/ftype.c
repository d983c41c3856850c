/*
 * ftype.c - llama-quantize's choice of tensor types per file type (see ftype.h). The rules
 * follow llama.cpp src/llama-quant.cpp (llama_tensor_get_type_impl, tensor_type_fallback,
 * tensor_allows_quantization, llama_ftype_get_default_type); comments name the rule.
 *
 * llama.cpp walks the tensors sorted by layer and counts attn_v / ffn_down tensors as it
 * goes; for the architectures handled here (one attn_v and one ffn_down per layer) that
 * counter equals the layer number parsed from "blk.N.", which is what is used below.
 */
#include "model/ftype.h"
#include "quant/quant.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef struct ftype_entry {
    ew_ftype ft;
    const char *name;
    uint32_t base;
} ftype_entry;

static const ftype_entry FTYPES[] = {
    { EW_FTYPE_MOSTLY_Q4_0, "Q4_0", EW_TYPE_Q4_0 },
    { EW_FTYPE_MOSTLY_Q4_1, "Q4_1", EW_TYPE_Q4_1 },
    { EW_FTYPE_MOSTLY_Q5_0, "Q5_0", EW_TYPE_Q5_0 },
    { EW_FTYPE_MOSTLY_Q5_1, "Q5_1", EW_TYPE_Q5_1 },
    { EW_FTYPE_MOSTLY_Q2_K, "Q2_K", EW_TYPE_Q2_K },
    { EW_FTYPE_MOSTLY_Q3_K_S, "Q3_K_S", EW_TYPE_Q3_K },
    { EW_FTYPE_MOSTLY_Q3_K_M, "Q3_K_M", EW_TYPE_Q3_K },
    { EW_FTYPE_MOSTLY_Q3_K_L, "Q3_K_L", EW_TYPE_Q3_K },
    { EW_FTYPE_MOSTLY_Q4_K_S, "Q4_K_S", EW_TYPE_Q4_K },
    { EW_FTYPE_MOSTLY_Q4_K_M, "Q4_K_M", EW_TYPE_Q4_K },
    { EW_FTYPE_MOSTLY_Q5_K_S, "Q5_K_S", EW_TYPE_Q5_K },
    { EW_FTYPE_MOSTLY_Q5_K_M, "Q5_K_M", EW_TYPE_Q5_K },
    { EW_FTYPE_MOSTLY_Q6_K, "Q6_K", EW_TYPE_Q6_K },
    { EW_FTYPE_MOSTLY_Q8_0, "Q8_0", EW_TYPE_Q8_0 },
    { EW_FTYPE_MOSTLY_F16, "F16", EW_TYPE_F16 },
    { EW_FTYPE_MOSTLY_BF16, "BF16", EW_TYPE_BF16 },
    { EW_FTYPE_ALL_F32, "F32", EW_TYPE_F32 },
};

/* The table entry of a file type, or NULL. */
static const ftype_entry *ftype_find(int ft) {
    for (size_t i = 0; i < EW_ARRAY_LEN(FTYPES); i++)
        if ((int)FTYPES[i].ft == ft) return &FTYPES[i];
    return NULL;
}

/* Case-insensitive lookup by name; -1 when unknown. */
int ew_ftype_from_name(const char *name) {
    if (!name) return -1;
    for (size_t i = 0; i < EW_ARRAY_LEN(FTYPES); i++)
        if (strcasecmp(FTYPES[i].name, name) == 0) return (int)FTYPES[i].ft;
    return -1;
}

/* Name of a ported file type, or NULL. */
const char *ew_ftype_name(int ftype) {
    const ftype_entry *e = ftype_find(ftype);
    return e ? e->name : NULL;
}

/* The ported file types in table order. */
const ew_ftype *ew_ftype_all(size_t *n) {
    static ew_ftype all[EW_ARRAY_LEN(FTYPES)];
    for (size_t i = 0; i < EW_ARRAY_LEN(FTYPES); i++) all[i] = FTYPES[i].ft;
    *n = EW_ARRAY_LEN(FTYPES);
    return all;
}

/* llama_ftype_get_default_type(); F32 for an unknown file type. */
uint32_t ew_ftype_default_type(ew_ftype ft) {
    const ftype_entry *e = ftype_find((int)ft);
    return e ? e->base : EW_TYPE_F32;
}

/* True if s ends with suffix. */
static bool ends_with(const char *s, const char *suffix) {
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

/* tensor_allows_quantization(), restricted to the names of the text architectures. */
bool ew_ftype_tensor_quantizable(const char *name, uint32_t n_dims) {
    if (n_dims < 2 || !ends_with(name, "weight")) return false;
    if (strstr(name, "_norm.weight")) return false;
    if (strstr(name, "ffn_gate_inp.weight")) return false;
    if (strstr(name, "ssm_conv1d") || strstr(name, "shortconv.conv.weight")) return false;
    if (strcmp(name, "position_embd.weight") == 0 || strcmp(name, "token_types.weight") == 0)
        return false;
    return true;
}

/* Broad tensor roles, as llama-quant.cpp's tensor_get_category(). */
typedef enum cat { CAT_TOKEN_EMBD, CAT_Q, CAT_K, CAT_V, CAT_QKV, CAT_OUT_ATTN, CAT_UP,
                   CAT_GATE, CAT_DOWN, CAT_OUTPUT, CAT_OTHER } cat;

/* The category of a tensor name (same matching order as llama.cpp). */
static cat category(const char *name) {
    if (strcmp(name, "output.weight") == 0) return CAT_OUTPUT;
    if (strcmp(name, "token_embd.weight") == 0 || strcmp(name, "per_layer_token_embd.weight") == 0)
        return CAT_TOKEN_EMBD;
    if (strstr(name, "attn_qkv.weight")) return CAT_QKV;
    if (strstr(name, "attn_kv_b.weight")) return CAT_V; /* counts as attn_v in llama.cpp */
    if (strstr(name, "attn_v.weight")) return CAT_V;
    if (strstr(name, "attn_k.weight")) return CAT_K;
    if (strstr(name, "attn_q.weight")) return CAT_Q;
    if (strstr(name, "attn_output.weight")) return CAT_OUT_ATTN;
    if (strstr(name, "ffn_up")) return CAT_UP;
    if (strstr(name, "ffn_gate")) return CAT_GATE;
    if (strstr(name, "ffn_down")) return CAT_DOWN;
    return CAT_OTHER;
}

/* llama.cpp's use_more_bits(): the first and last eighth of the layers and every third
 * layer in between get more bits. */
static bool use_more_bits(int i, int n) {
    return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

/* Layer number from "blk.N."; 0 if the name has none. */
static int layer_of(const char *name) {
    int l = 0;
    if (sscanf(name, "blk.%d.", &l) != 1 || l < 0) l = 0;
    return l;
}

/* Block size of a type (1 for unknown ids, which never happens for the table's types). */
static int64_t blck(uint32_t type) {
    const ew_type_traits *t = ew_type_get(type);
    return t && t->blck_size ? (int64_t)t->blck_size : 1;
}

/* Output tensor, or token_embd when it doubles as the output (tied embeddings): Q8_0 if
 * the base type's block does not divide the row, else Q6_K (Q8_0 stays Q8_0). */
static uint32_t rule_output(const ew_ftype_model *m, const int64_t *ne, uint32_t t) {
    if (strcmp(m->arch, "falcon") == 0 || ne[0] % blck(t) != 0) return EW_TYPE_Q8_0;
    return t != EW_TYPE_Q8_0 ? EW_TYPE_Q6_K : t;
}

/* attn_v (and fused qkv / kv_b) tensors. */
static uint32_t rule_attn_v(ew_ftype ft, const ew_ftype_model *m, int i, uint32_t t) {
    int n = m->n_layer;
    int n_gqa = m->n_head_kv > 0 ? m->n_head / m->n_head_kv : 1;
    if (ft == EW_FTYPE_MOSTLY_Q2_K) t = n_gqa >= 4 ? EW_TYPE_Q4_K : EW_TYPE_Q3_K;
    else if (ft == EW_FTYPE_MOSTLY_Q3_K_M) t = i < 2 ? EW_TYPE_Q5_K : EW_TYPE_Q4_K;
    else if (ft == EW_FTYPE_MOSTLY_Q3_K_L) t = EW_TYPE_Q5_K;
    else if ((ft == EW_FTYPE_MOSTLY_Q4_K_M || ft == EW_FTYPE_MOSTLY_Q5_K_M) && use_more_bits(i, n))
        t = EW_TYPE_Q6_K;
    else if (ft == EW_FTYPE_MOSTLY_Q4_K_S && i < 4) t = EW_TYPE_Q5_K;
    /* LLM_TYPE_70B, as llama.cpp infers it: llama, 80 layers, GQA */
    bool is_70b = strcmp(m->arch, "llama") == 0 && n == 80 && m->n_head != m->n_head_kv;
    if (is_70b && (t == EW_TYPE_Q3_K || t == EW_TYPE_Q4_K)) t = EW_TYPE_Q5_K;
    if (m->n_expert == 8) t = EW_TYPE_Q8_0;
    return t;
}

/* ffn_down tensors. */
static uint32_t rule_ffn_down(ew_ftype ft, const ew_ftype_model *m, int i, uint32_t t) {
    int n = m->n_layer;
    bool falcon = strcmp(m->arch, "falcon") == 0;
    if (ft == EW_FTYPE_MOSTLY_Q2_K) t = EW_TYPE_Q3_K;
    else if (ft == EW_FTYPE_MOSTLY_Q3_K_M)
        t = i < n / 16 ? EW_TYPE_Q5_K : (!falcon || use_more_bits(i, n)) ? EW_TYPE_Q4_K : EW_TYPE_Q3_K;
    else if (ft == EW_FTYPE_MOSTLY_Q3_K_L) t = falcon ? EW_TYPE_Q4_K : EW_TYPE_Q5_K;
    else if (ft == EW_FTYPE_MOSTLY_Q4_K_M) {
        if (falcon)
            t = i < n / 16 ? EW_TYPE_Q6_K : use_more_bits(i, n) ? EW_TYPE_Q5_K : EW_TYPE_Q4_K;
        else if (use_more_bits(i, n))
            t = EW_TYPE_Q6_K;
    } else if (ft == EW_FTYPE_MOSTLY_Q5_K_M && use_more_bits(i, n)) t = EW_TYPE_Q6_K;
    else if (ft == EW_FTYPE_MOSTLY_Q4_K_S && !falcon && i < n / 8) t = EW_TYPE_Q5_K;
    return t;
}

/* attn_output tensors. */
static uint32_t rule_attn_output(ew_ftype ft, const ew_ftype_model *m, uint32_t t) {
    if (strcmp(m->arch, "falcon") == 0) return ft == EW_FTYPE_MOSTLY_Q3_K_L ? EW_TYPE_Q4_K : t;
    if (m->n_expert == 8) {
        if (ft == EW_FTYPE_MOSTLY_Q2_K || ft == EW_FTYPE_MOSTLY_Q3_K_S || ft == EW_FTYPE_MOSTLY_Q3_K_M ||
            ft == EW_FTYPE_MOSTLY_Q4_K_S || ft == EW_FTYPE_MOSTLY_Q4_K_M)
            t = EW_TYPE_Q5_K;
        return t;
    }
    if (ft == EW_FTYPE_MOSTLY_Q2_K) t = EW_TYPE_Q3_K;
    else if (ft == EW_FTYPE_MOSTLY_Q3_K_M) t = EW_TYPE_Q4_K;
    else if (ft == EW_FTYPE_MOSTLY_Q3_K_L) t = EW_TYPE_Q5_K;
    return t;
}

/* llama_tensor_get_type_impl() for the ported file types. */
static uint32_t mixture_type(ew_ftype ft, const ew_ftype_model *m, const char *name,
                             const int64_t *ne, uint32_t t) {
    cat c = category(name);
    int i = layer_of(name);
    if (c == CAT_OUTPUT || (!m->has_output && c == CAT_TOKEN_EMBD)) return rule_output(m, ne, t);
    if (c == CAT_TOKEN_EMBD) return t;
    /* fused qkv counts as attn_v: llama.cpp's attn_v branch comes first, so its own
     * attn_qkv branch (Q4_K_M -> Q5_K ...) is never reached */
    if (c == CAT_V || c == CAT_QKV) return rule_attn_v(ft, m, i, t);
    if (c == CAT_K) return m->n_expert == 8 ? EW_TYPE_Q8_0 : t;
    if (c == CAT_DOWN) return rule_ffn_down(ft, m, i, t);
    if (c == CAT_OUT_ATTN) return rule_attn_output(ft, m, t);
    return t;
}

/* tensor_type_fallback(): a type whose block does not divide the row length is replaced. */
static uint32_t fallback_type(int64_t ncols, uint32_t t, bool *fell) {
    if (ncols % blck(t) == 0) return t;
    uint32_t r;
    switch (t) {
    case EW_TYPE_Q2_K: case EW_TYPE_Q3_K: r = EW_TYPE_Q4_0; break;
    case EW_TYPE_Q4_K: r = EW_TYPE_Q5_0; break;
    case EW_TYPE_Q5_K: r = EW_TYPE_Q5_1; break;
    case EW_TYPE_Q6_K: r = EW_TYPE_Q8_0; break;
    default: r = EW_TYPE_F16; break;
    }
    if (ncols % blck(r) != 0) r = EW_TYPE_F16;
    if (fell) *fell = true;
    return r;
}

/* llama_tensor_get_type(): quantizable tensors get the file type's mixture (quantized
 * file types only), then the fallback; others keep cur_type. */
uint32_t ew_ftype_tensor_type(ew_ftype ft, const ew_ftype_model *m, const char *name,
                              uint32_t n_dims, const int64_t *ne, uint32_t cur_type,
                              bool *fallback) {
    if (fallback) *fallback = false;
    if (!ew_ftype_tensor_quantizable(name, n_dims)) return cur_type;
    uint32_t t = ew_ftype_default_type(ft);
    if (t == EW_TYPE_F32 || t == EW_TYPE_F16 || t == EW_TYPE_BF16) return t;
    t = mixture_type(ft, m, name, ne, t);
    return fallback_type(ne[0], t, fallback);
}
