/*
 * ftype.h - file types ("Q4_K_M", ...) and the tensor type each tensor of a model gets in
 * one, as llama.cpp's llama-quantize decides it (src/llama-quant.cpp:
 * llama_tensor_get_type). synth uses it to lay out a synthetic model exactly like a real
 * quantized download; `edgewatt quantize` uses it to quantize.
 *
 * Ported rules: every non-IQ file type (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K,
 * Q3_K_S/M/L, Q4_K_S/M, Q5_K_S/M, Q6_K), incl. the output / tied-embedding rule, the
 * use_more_bits layers, the 70B attn_v rule, the 8-expert rules and the fallback when a
 * row length is not a multiple of the block size. Not ported: the IQ and TQ types, imatrix-only
 * rules, user overrides (--tensor-type, --output-tensor-type, --pure).
 */
#ifndef EW_FTYPE_H
#define EW_FTYPE_H

#include "core/core.h"

/* llama.cpp's LLAMA_FTYPE_* numbers, as stored in general.file_type. */
typedef enum ew_ftype {
    EW_FTYPE_ALL_F32 = 0,
    EW_FTYPE_MOSTLY_F16 = 1,
    EW_FTYPE_MOSTLY_Q4_0 = 2,
    EW_FTYPE_MOSTLY_Q4_1 = 3,
    EW_FTYPE_MOSTLY_Q8_0 = 7,
    EW_FTYPE_MOSTLY_Q5_0 = 8,
    EW_FTYPE_MOSTLY_Q5_1 = 9,
    EW_FTYPE_MOSTLY_Q2_K = 10,
    EW_FTYPE_MOSTLY_Q3_K_S = 11,
    EW_FTYPE_MOSTLY_Q3_K_M = 12,
    EW_FTYPE_MOSTLY_Q3_K_L = 13,
    EW_FTYPE_MOSTLY_Q4_K_S = 14,
    EW_FTYPE_MOSTLY_Q4_K_M = 15,
    EW_FTYPE_MOSTLY_Q5_K_S = 16,
    EW_FTYPE_MOSTLY_Q5_K_M = 17,
    EW_FTYPE_MOSTLY_Q6_K = 18,
    EW_FTYPE_MOSTLY_BF16 = 32
} ew_ftype;

/* What the rules need to know about the model. */
typedef struct ew_ftype_model {
    const char *arch;   /* general.architecture, e.g. "llama" */
    int n_layer;        /* block_count */
    int n_head;         /* attention.head_count */
    int n_head_kv;      /* attention.head_count_kv */
    int n_expert;       /* 0 for dense models */
    bool has_output;    /* the model has an output.weight (false: token_embd is tied) */
} ew_ftype_model;

/* Parse a file type name, case-insensitive ("q4_k_m" -> EW_FTYPE_MOSTLY_Q4_K_M). Returns
 * -1 for a name that is not one of the ported file types. */
int ew_ftype_from_name(const char *name);
/* Name of a ported file type ("Q4_K_M"), or NULL. */
const char *ew_ftype_name(int ftype);
/* All ported file types, in llama-quantize's order of listing; *n receives the count. */
const ew_ftype *ew_ftype_all(size_t *n);
/* The base tensor type of a file type (Q4_K for Q4_K_M, F16 for F16, ...). */
uint32_t ew_ftype_default_type(ew_ftype ft);

/* Whether llama-quantize quantizes this tensor at all: 2-D or more, name ends in "weight",
 * not a norm, not an expert router. Tensors it does not quantize keep their type. */
bool ew_ftype_tensor_quantizable(const char *name, uint32_t n_dims);

/* The type tensor `name` (n_dims dims, shape ne, ne[0] = row length) gets in file type ft.
 * cur_type is its type before quantization (returned for tensors that are not quantized).
 * If fallback is not NULL it is set to true when the row length forced a fallback type. */
uint32_t ew_ftype_tensor_type(ew_ftype ft, const ew_ftype_model *m, const char *name,
                              uint32_t n_dims, const int64_t *ne, uint32_t cur_type,
                              bool *fallback);

#endif
