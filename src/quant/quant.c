/*
 * quant.c - the type table (ggml's ids, block sizes, names), row sizes, IEEE half and
 * bfloat16 conversions, the float types' reference kernels, and the dispatch of
 * ew_quantize_row_ref / ew_dequantize_row_ref / ew_vec_dot_ref to the per-type references
 * in quant_legacy.c and quant_k.c.
 */
#include "quant/quant_ref.h"

#include <math.h>
#include <string.h>
#include <strings.h>

/* ---- type table ------------------------------------------------------------------------ */

#define T_KNOWN(nm, bs, ts, vdt) { nm, bs, ts, true, false, vdt }
#define T_SUPPORTED(nm, bs, ts, vdt) { nm, bs, ts, true, true, vdt }

/* Every ggml type id (ggml.h) with its block size and bytes per block. Ids that ggml never
 * assigned or has retired from GGUF (4, 5, 31-33, 36-38) have no entry (name NULL). */
static const ew_type_traits g_traits[EW_TYPE_COUNT] = {
    [EW_TYPE_F32] = T_SUPPORTED("F32", 1, 4, EW_TYPE_F32),
    [EW_TYPE_F16] = T_SUPPORTED("F16", 1, 2, EW_TYPE_F16),
    [EW_TYPE_Q4_0] = T_SUPPORTED("Q4_0", EW_QK4_0, sizeof(ew_block_q4_0), EW_TYPE_Q8_0),
    [EW_TYPE_Q4_1] = T_SUPPORTED("Q4_1", EW_QK4_1, sizeof(ew_block_q4_1), EW_TYPE_Q8_1),
    [EW_TYPE_Q5_0] = T_SUPPORTED("Q5_0", EW_QK5_0, sizeof(ew_block_q5_0), EW_TYPE_Q8_0),
    [EW_TYPE_Q5_1] = T_SUPPORTED("Q5_1", EW_QK5_1, sizeof(ew_block_q5_1), EW_TYPE_Q8_1),
    [EW_TYPE_Q8_0] = T_SUPPORTED("Q8_0", EW_QK8_0, sizeof(ew_block_q8_0), EW_TYPE_Q8_0),
    [EW_TYPE_Q8_1] = T_SUPPORTED("Q8_1", EW_QK8_1, sizeof(ew_block_q8_1), EW_TYPE_Q8_1),
    [EW_TYPE_Q2_K] = T_KNOWN("Q2_K", EW_QK_K, EW_SIZE_Q2_K, EW_TYPE_Q8_K),
    [EW_TYPE_Q3_K] = T_KNOWN("Q3_K", EW_QK_K, EW_SIZE_Q3_K, EW_TYPE_Q8_K),
    [EW_TYPE_Q4_K] = T_SUPPORTED("Q4_K", EW_QK_K, sizeof(ew_block_q4_K), EW_TYPE_Q8_K),
    [EW_TYPE_Q5_K] = T_SUPPORTED("Q5_K", EW_QK_K, sizeof(ew_block_q5_K), EW_TYPE_Q8_K),
    [EW_TYPE_Q6_K] = T_SUPPORTED("Q6_K", EW_QK_K, sizeof(ew_block_q6_K), EW_TYPE_Q8_K),
    [EW_TYPE_Q8_K] = T_SUPPORTED("Q8_K", EW_QK_K, sizeof(ew_block_q8_K), EW_TYPE_Q8_K),
    [EW_TYPE_IQ2_XXS] = T_KNOWN("IQ2_XXS", EW_QK_K, EW_SIZE_IQ2_XXS, EW_TYPE_Q8_K),
    [EW_TYPE_IQ2_XS] = T_KNOWN("IQ2_XS", EW_QK_K, EW_SIZE_IQ2_XS, EW_TYPE_Q8_K),
    [EW_TYPE_IQ3_XXS] = T_KNOWN("IQ3_XXS", EW_QK_K, EW_SIZE_IQ3_XXS, EW_TYPE_Q8_K),
    [EW_TYPE_IQ1_S] = T_KNOWN("IQ1_S", EW_QK_K, EW_SIZE_IQ1_S, EW_TYPE_Q8_K),
    [EW_TYPE_IQ4_NL] = T_KNOWN("IQ4_NL", 32, EW_SIZE_IQ4_NL, EW_TYPE_Q8_0),
    [EW_TYPE_IQ3_S] = T_KNOWN("IQ3_S", EW_QK_K, EW_SIZE_IQ3_S, EW_TYPE_Q8_K),
    [EW_TYPE_IQ2_S] = T_KNOWN("IQ2_S", EW_QK_K, EW_SIZE_IQ2_S, EW_TYPE_Q8_K),
    [EW_TYPE_IQ4_XS] = T_KNOWN("IQ4_XS", EW_QK_K, EW_SIZE_IQ4_XS, EW_TYPE_Q8_K),
    [EW_TYPE_I8] = T_KNOWN("I8", 1, 1, EW_TYPE_I8),
    [EW_TYPE_I16] = T_KNOWN("I16", 1, 2, EW_TYPE_I16),
    [EW_TYPE_I32] = T_KNOWN("I32", 1, 4, EW_TYPE_I32),
    [EW_TYPE_I64] = T_KNOWN("I64", 1, 8, EW_TYPE_I64),
    [EW_TYPE_F64] = T_KNOWN("F64", 1, 8, EW_TYPE_F64),
    [EW_TYPE_IQ1_M] = T_KNOWN("IQ1_M", EW_QK_K, EW_SIZE_IQ1_M, EW_TYPE_Q8_K),
    [EW_TYPE_BF16] = T_SUPPORTED("BF16", 1, 2, EW_TYPE_BF16),
    [EW_TYPE_TQ1_0] = T_KNOWN("TQ1_0", EW_QK_K, EW_SIZE_TQ1_0, EW_TYPE_Q8_K),
    [EW_TYPE_TQ2_0] = T_KNOWN("TQ2_0", EW_QK_K, EW_SIZE_TQ2_0, EW_TYPE_Q8_K),
    [EW_TYPE_MXFP4] = T_KNOWN("MXFP4", 32, EW_SIZE_MXFP4, EW_TYPE_Q8_0),
};

typedef struct ew_type_ops {
    ew_quantize_fn quantize;
    ew_dequantize_fn dequantize;
    ew_vec_dot_fn vec_dot;
} ew_type_ops;

/* The references of each supported type; the dot's second operand has the type's
 * vec_dot_type. */
static const ew_type_ops g_ops[EW_TYPE_COUNT] = {
    [EW_TYPE_F32] = { ew_quantize_f32_ref, ew_dequantize_f32_ref, ew_vec_dot_f32_ref },
    [EW_TYPE_F16] = { ew_quantize_f16_ref, ew_dequantize_f16_ref, ew_vec_dot_f16_ref },
    [EW_TYPE_BF16] = { ew_quantize_bf16_ref, ew_dequantize_bf16_ref, ew_vec_dot_bf16_ref },
    [EW_TYPE_Q4_0] = { ew_quantize_q4_0_ref, ew_dequantize_q4_0_ref, ew_vec_dot_q4_0_q8_0_ref },
    [EW_TYPE_Q4_1] = { ew_quantize_q4_1_ref, ew_dequantize_q4_1_ref, ew_vec_dot_q4_1_q8_1_ref },
    [EW_TYPE_Q5_0] = { ew_quantize_q5_0_ref, ew_dequantize_q5_0_ref, ew_vec_dot_q5_0_q8_0_ref },
    [EW_TYPE_Q5_1] = { ew_quantize_q5_1_ref, ew_dequantize_q5_1_ref, ew_vec_dot_q5_1_q8_1_ref },
    [EW_TYPE_Q8_0] = { ew_quantize_q8_0_ref, ew_dequantize_q8_0_ref, ew_vec_dot_q8_0_q8_0_ref },
    [EW_TYPE_Q8_1] = { ew_quantize_q8_1_ref, ew_dequantize_q8_1_ref, ew_vec_dot_q8_1_q8_1_ref },
    [EW_TYPE_Q4_K] = { ew_quantize_q4_K_ref, ew_dequantize_q4_K_ref, ew_vec_dot_q4_K_q8_K_ref },
    [EW_TYPE_Q5_K] = { ew_quantize_q5_K_ref, ew_dequantize_q5_K_ref, ew_vec_dot_q5_K_q8_K_ref },
    [EW_TYPE_Q6_K] = { ew_quantize_q6_K_ref, ew_dequantize_q6_K_ref, ew_vec_dot_q6_K_q8_K_ref },
    [EW_TYPE_Q8_K] = { ew_quantize_q8_K_ref, ew_dequantize_q8_K_ref, ew_vec_dot_q8_K_q8_K_ref },
};

/* Traits of a type id, or NULL for an id that is not a ggml type. */
const ew_type_traits *ew_type_get(uint32_t type) {
    if (type >= EW_TYPE_COUNT || !g_traits[type].name) return NULL;
    return &g_traits[type];
}

/* Name of a type id ("Q4_K"); "unknown" for ids that are not types. Never NULL. */
const char *ew_type_name(uint32_t type) {
    const ew_type_traits *t = ew_type_get(type);
    return t ? t->name : "unknown";
}

/* Id of a type name, case-insensitive ("q4_k" -> 12); -1 if no type has that name. */
int ew_type_from_name(const char *name) {
    if (!name) return -1;
    for (uint32_t i = 0; i < EW_TYPE_COUNT; i++) {
        if (g_traits[i].name && strcasecmp(g_traits[i].name, name) == 0) return (int)i;
    }
    return -1;
}

/* Bytes of a row of n elements: n / blck_size * type_size. 0 when the type is unknown, n is
 * negative or not a multiple of the block size, or the size does not fit in size_t. */
size_t ew_row_size(uint32_t type, int64_t n) {
    const ew_type_traits *t = ew_type_get(type);
    if (!t || n < 0 || n % t->blck_size != 0) return 0;
    uint64_t bytes;
    if (!ew_mul_u64((uint64_t)n / t->blck_size, t->type_size, &bytes)) return 0;
    if (bytes > SIZE_MAX) return 0;
    return (size_t)bytes;
}

/* ---- half precision ---------------------------------------------------------------------- */

static inline uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float f32_from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Exact value of an IEEE binary16: normals, subnormals, signed zeros, infinities; a NaN
 * stays a NaN with its payload in the top mantissa bits. */
float ew_fp16_to_fp32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1F;
    uint32_t mant = h & 0x3FF;
    if (exp == 0x1F) return f32_from_bits(sign | 0x7F800000u | (mant << 13));
    if (exp != 0) return f32_from_bits(sign | ((exp + 112) << 23) | (mant << 13));
    /* zero or subnormal: mant * 2^-24, exact in a float */
    float v = (float)mant * 0x1p-24f;
    return sign ? -v : v;
}

/* Shift m right by s (1..31) rounding to nearest, ties to even. */
static inline uint32_t shift_round_even(uint32_t m, uint32_t s) {
    uint32_t q = m >> s;
    uint32_t rem = m & ((1u << s) - 1);
    uint32_t half = 1u << (s - 1);
    if (rem > half || (rem == half && (q & 1))) q++;
    return q;
}

/* Nearest binary16 to f, ties to even; overflow gives infinity, underflow gives
 * subnormals or signed zero; a NaN gives a quiet NaN of the same sign. */
uint16_t ew_fp32_to_fp16(float f) {
    uint32_t u = f32_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    u &= 0x7FFFFFFFu;
    if (u > 0x7F800000u) return (uint16_t)(sign | 0x7E00 | ((u >> 13) & 0x3FF));
    int exp = (int)(u >> 23) - 127;
    uint32_t mant = u & 0x7FFFFF;
    if (exp > 15) return (uint16_t)(sign | 0x7C00); /* includes infinity */
    if (exp >= -14) {
        /* normal: 10 of 23 mantissa bits survive; a carry may bump the exponent (to inf) */
        uint32_t h = ((uint32_t)(exp + 15) << 10) | (mant >> 13);
        uint32_t rem = mant & 0x1FFF;
        if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++;
        return (uint16_t)(sign | h);
    }
    if (exp < -25) return sign; /* below half the smallest subnormal */
    /* subnormal: value = (mant | 2^23) * 2^(exp-23), in units of 2^-24 */
    return (uint16_t)(sign | shift_round_even(mant | 0x800000u, (uint32_t)(-(exp + 1))));
}

/* Exact value of a bfloat16 (the top half of a float). */
float ew_bf16_to_fp32(uint16_t h) {
    return f32_from_bits((uint32_t)h << 16);
}

/* Nearest bfloat16 to f, ties to even, as ggml: a NaN keeps its sign and top payload and is
 * made quiet; subnormals are kept (not flushed). */
uint16_t ew_fp32_to_bf16(float f) {
    uint32_t u = f32_bits(f);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 0x40);
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1)) >> 16);
}

/* ---- float types ------------------------------------------------------------------------- */

/* F32 "quantize": a copy. */
void ew_quantize_f32_ref(const float *x, void *y, int64_t n) {
    memcpy(y, x, (size_t)n * sizeof(float));
}

/* F32 "dequantize": a copy. */
void ew_dequantize_f32_ref(const void *x, float *y, int64_t n) {
    memcpy(y, x, (size_t)n * sizeof(float));
}

/* F32 dot: float products summed in double. */
float ew_vec_dot_f32_ref(int64_t n, const void *w, const void *a) {
    const float *x = w, *y = a;
    double sum = 0;
    for (int64_t i = 0; i < n; i++) sum += (double)(x[i] * y[i]);
    return (float)sum;
}

/* F32 -> F16, each element rounded to nearest even. */
void ew_quantize_f16_ref(const float *x, void *y, int64_t n) {
    uint16_t *h = y;
    for (int64_t i = 0; i < n; i++) h[i] = ew_fp32_to_fp16(x[i]);
}

/* F16 -> F32, exact. */
void ew_dequantize_f16_ref(const void *x, float *y, int64_t n) {
    const uint16_t *h = x;
    for (int64_t i = 0; i < n; i++) y[i] = ew_fp16_to_fp32(h[i]);
}

/* F16 x F16 dot: float products (exact) summed in double. */
float ew_vec_dot_f16_ref(int64_t n, const void *w, const void *a) {
    const uint16_t *x = w, *y = a;
    double sum = 0;
    for (int64_t i = 0; i < n; i++) sum += (double)(ew_fp16_to_fp32(x[i]) * ew_fp16_to_fp32(y[i]));
    return (float)sum;
}

/* F32 -> BF16, each element rounded to nearest even. */
void ew_quantize_bf16_ref(const float *x, void *y, int64_t n) {
    uint16_t *h = y;
    for (int64_t i = 0; i < n; i++) h[i] = ew_fp32_to_bf16(x[i]);
}

/* BF16 -> F32, exact. */
void ew_dequantize_bf16_ref(const void *x, float *y, int64_t n) {
    const uint16_t *h = x;
    for (int64_t i = 0; i < n; i++) y[i] = ew_bf16_to_fp32(h[i]);
}

/* BF16 x BF16 dot: float products summed in double. */
float ew_vec_dot_bf16_ref(int64_t n, const void *w, const void *a) {
    const uint16_t *x = w, *y = a;
    double sum = 0;
    for (int64_t i = 0; i < n; i++) sum += (double)(ew_bf16_to_fp32(x[i]) * ew_bf16_to_fp32(y[i]));
    return (float)sum;
}

/* ---- dispatch ------------------------------------------------------------------------------ */

static const ew_type_ops *ops_of(uint32_t type) {
    return type < EW_TYPE_COUNT ? &g_ops[type] : NULL;
}

/* Quantize n floats into blocks of `type`. Does nothing for a type without a reference
 * (callers check ew_type_get(type)->supported). */
void ew_quantize_row_ref(uint32_t type, const float *x, void *y, int64_t n) {
    const ew_type_ops *o = ops_of(type);
    if (o && o->quantize) o->quantize(x, y, n);
}

/* Dequantize n elements of `type` into floats. For a type without a reference the output
 * is filled with NaN, so a missed `supported` check cannot pass for data. */
void ew_dequantize_row_ref(uint32_t type, const void *x, float *y, int64_t n) {
    const ew_type_ops *o = ops_of(type);
    if (o && o->dequantize) {
        o->dequantize(x, y, n);
        return;
    }
    for (int64_t i = 0; i < n; i++) y[i] = NAN;
}

/* Dot of a weight row of `type` with an activation row of its vec_dot_type; NaN for a type
 * without a reference. */
float ew_vec_dot_ref(uint32_t type, int64_t n, const void *w, const void *a) {
    const ew_type_ops *o = ops_of(type);
    return o && o->vec_dot ? o->vec_dot(n, w, a) : NAN;
}
