/*
 * quant.h - tensor types: ggml's type ids and exact block layouts (see blocks.h), and the
 * scalar reference of quantize / dequantize / dot for each. The SIMD kernels (kernels/,
 * one file per ISA) have the same signatures and are tested against these; the per-type
 * functions behind the three dispatchers are declared in quant_ref.h.
 *
 * Supported (quantize, dequantize, dot): F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0,
 * Q4_K, Q5_K, Q6_K, and the activation types Q8_0, Q8_1, Q8_K. Quantized bytes equal those
 * of ggml's reference quantizers (llama-quantize without an importance matrix).
 */
#ifndef EW_QUANT_H
#define EW_QUANT_H

#include "core/core.h"

/* ggml type ids, as stored in GGUF tensor infos. */
typedef enum ew_type {
    EW_TYPE_F32 = 0, EW_TYPE_F16 = 1, EW_TYPE_Q4_0 = 2, EW_TYPE_Q4_1 = 3,
    EW_TYPE_Q5_0 = 6, EW_TYPE_Q5_1 = 7, EW_TYPE_Q8_0 = 8, EW_TYPE_Q8_1 = 9,
    EW_TYPE_Q2_K = 10, EW_TYPE_Q3_K = 11, EW_TYPE_Q4_K = 12, EW_TYPE_Q5_K = 13,
    EW_TYPE_Q6_K = 14, EW_TYPE_Q8_K = 15, EW_TYPE_IQ2_XXS = 16, EW_TYPE_IQ2_XS = 17,
    EW_TYPE_IQ3_XXS = 18, EW_TYPE_IQ1_S = 19, EW_TYPE_IQ4_NL = 20, EW_TYPE_IQ3_S = 21,
    EW_TYPE_IQ2_S = 22, EW_TYPE_IQ4_XS = 23, EW_TYPE_I8 = 24, EW_TYPE_I16 = 25,
    EW_TYPE_I32 = 26, EW_TYPE_I64 = 27, EW_TYPE_F64 = 28, EW_TYPE_IQ1_M = 29,
    EW_TYPE_BF16 = 30, EW_TYPE_TQ1_0 = 34, EW_TYPE_TQ2_0 = 35, EW_TYPE_MXFP4 = 39,
    EW_TYPE_COUNT = 40
} ew_type;

typedef struct ew_type_traits {
    const char *name;     /* "Q4_K"; NULL for ids that are not types */
    uint32_t blck_size;   /* elements per block */
    uint32_t type_size;   /* bytes per block */
    bool known;           /* a ggml type whose size we know (can be skipped over) */
    bool supported;       /* we can dequantize and dot it */
    uint32_t vec_dot_type;/* the type activations are converted to for the dot */
} ew_type_traits;

/* Traits of a type id; NULL for ids that are not ggml types (4, 5, 31-33, 36-38, >= 40).
 * Every non-NULL entry is `known` (its block size and bytes are right, so a reader can skip
 * it); `supported` ones have references below. vec_dot_type is ggml's CPU-backend choice
 * (F32/F16/BF16 -> themselves, Q4_0/Q5_0/Q8_0 -> Q8_0, Q4_1/Q5_1 -> Q8_1, K-quants -> Q8_K). */
const ew_type_traits *ew_type_get(uint32_t type);
const char *ew_type_name(uint32_t type); /* "unknown" for unknown ids */
/* Parse "Q4_K" (case-insensitive) -> id; -1 if unknown. */
int ew_type_from_name(const char *name);
/* Bytes of a row of n elements; 0 if n is not a multiple of the block size or the type is
 * unknown. */
size_t ew_row_size(uint32_t type, int64_t n);

/* Half-precision conversions (IEEE binary16 and bfloat16; round-to-nearest-even). */
float ew_fp16_to_fp32(uint16_t h);
uint16_t ew_fp32_to_fp16(float f);
float ew_bf16_to_fp32(uint16_t h);
uint16_t ew_fp32_to_bf16(float f);

/* Scalar references. n must be a multiple of the type's block size (callers check).
 * quantize: float -> blocks; dequantize: blocks -> float. For a type that is not
 * `supported`, quantize writes nothing and dequantize fills y with NaN (so a missed check
 * cannot pass for data). */
void ew_quantize_row_ref(uint32_t type, const float *x, void *y, int64_t n);
void ew_dequantize_row_ref(uint32_t type, const void *x, float *y, int64_t n);
/* Dot product of a weight row (type) with an activation row already converted to
 * ew_type_get(type)->vec_dot_type, computed as ggml does (integer products per block,
 * block scales applied in float). NaN for a type that is not `supported`. */
float ew_vec_dot_ref(uint32_t type, int64_t n, const void *w, const void *a);

#endif
