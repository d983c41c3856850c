/*
 * layer_avx512.c - AVX-512 twins of the layer pieces in layer_ref.c (rmsnorm, add, softmax,
 * swiglu, rope, F32 -> F16 rows). Tails use masked loads and stores; exp is ew_exp_avx512
 * (vmath_x86.h). Results match the references up to float rounding (sums in float lanes
 * instead of double, fused multiply-adds, a 2-ulp exp); to_f16 is bit-identical.
 */
#include "kernels/layer.h"
#include "kernels/vmath_x86.h"
#include <math.h>

/* Lanes [0, n) of a 16-lane mask, n in 0..16. */
static inline __mmask16 tail_mask(int n) {
    return (__mmask16)(n >= 16 ? 0xFFFF : (1u << n) - 1);
}

/* Sum of squares of n floats (float lanes, two accumulators). */
static float sum_squares(const float *x, int n) {
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m512 v0 = _mm512_loadu_ps(x + i), v1 = _mm512_loadu_ps(x + i + 16);
        a0 = _mm512_fmadd_ps(v0, v0, a0);
        a1 = _mm512_fmadd_ps(v1, v1, a1);
    }
    for (; i < n; i += 16) {
        const __m512 v = _mm512_maskz_loadu_ps(tail_mask(n - i), x + i);
        a0 = _mm512_fmadd_ps(v, v, a0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}

/* out = x / rms(x) * w. */
void ew_rmsnorm_avx512(float *out, const float *x, const float *w, int n, float eps) {
    const __m512 s = _mm512_set1_ps(1.0f / sqrtf(sum_squares(x, n) / (float)n + eps));
    for (int i = 0; i < n; i += 16) {
        const __mmask16 k = tail_mask(n - i);
        const __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(k, x + i), s);
        _mm512_mask_storeu_ps(out + i, k, _mm512_mul_ps(v, _mm512_maskz_loadu_ps(k, w + i)));
    }
}

/* x += y. */
void ew_add_avx512(float *x, const float *y, int n) {
    for (int i = 0; i < n; i += 16) {
        const __mmask16 k = tail_mask(n - i);
        _mm512_mask_storeu_ps(x + i, k, _mm512_add_ps(_mm512_maskz_loadu_ps(k, x + i), _mm512_maskz_loadu_ps(k, y + i)));
    }
}

/* Softmax in place: max, exp(x - max) with the sum in float lanes, scale. */
void ew_softmax_avx512(float *x, int n) {
    __m512 mv = _mm512_set1_ps(-INFINITY);
    for (int i = 0; i < n; i += 16)
        mv = _mm512_max_ps(mv, _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), tail_mask(n - i), x + i));
    const __m512 m = _mm512_set1_ps(_mm512_reduce_max_ps(mv));
    __m512 sum = _mm512_setzero_ps();
    for (int i = 0; i < n; i += 16) {
        const __mmask16 k = tail_mask(n - i);
        const __m512 e = _mm512_maskz_mov_ps(k, ew_exp_avx512(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + i), m)));
        sum = _mm512_add_ps(sum, e);
        _mm512_mask_storeu_ps(x + i, k, e);
    }
    const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sum));
    for (int i = 0; i < n; i += 16) {
        const __mmask16 k = tail_mask(n - i);
        _mm512_mask_storeu_ps(x + i, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, x + i), inv));
    }
}

/* out = gate / (1 + exp(-gate)) * up. */
void ew_swiglu_avx512(float *out, const float *gate, const float *up, int n) {
    const __m512 one = _mm512_set1_ps(1.0f);
    for (int i = 0; i < n; i += 16) {
        const __mmask16 k = tail_mask(n - i);
        const __m512 g = _mm512_maskz_loadu_ps(k, gate + i);
        const __m512 e = ew_exp_avx512(_mm512_sub_ps(_mm512_setzero_ps(), g));
        const __m512 silu = _mm512_div_ps(g, _mm512_add_ps(one, e));
        _mm512_mask_storeu_ps(out + i, k, _mm512_mul_ps(silu, _mm512_maskz_loadu_ps(k, up + i)));
    }
}

/* Adjacent pairs (2i, 2i+1) of one head: 8 pairs per vector, cos/sin duplicated per pair;
 * fmaddsub gives x0 c - x1 s in even lanes and x1 c + x0 s in odd ones. */
static void rope_adjacent(float *x, int half, const float *c, const float *s) {
    const __m512i dup = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    int i = 0;
    for (; i + 8 <= half; i += 8) {
        const __m512 cv = _mm512_permutexvar_ps(dup, _mm512_castps256_ps512(_mm256_loadu_ps(c + i)));
        const __m512 sv = _mm512_permutexvar_ps(dup, _mm512_castps256_ps512(_mm256_loadu_ps(s + i)));
        const __m512 v = _mm512_loadu_ps(x + 2 * i);
        const __m512 sw = _mm512_permute_ps(v, 0xB1); /* (x1, x0) per pair */
        _mm512_storeu_ps(x + 2 * i, _mm512_fmaddsub_ps(v, cv, _mm512_mul_ps(sw, sv)));
    }
    for (; i < half; i++) {
        const float x0 = x[2 * i], x1 = x[2 * i + 1];
        x[2 * i] = x0 * c[i] - x1 * s[i];
        x[2 * i + 1] = x0 * s[i] + x1 * c[i];
    }
}

/* NeoX pairs (i, i + half) of one head, 16 pairs per step. */
static void rope_neox(float *x, int half, const float *c, const float *s) {
    for (int i = 0; i < half; i += 16) {
        const __mmask16 k = tail_mask(half - i);
        const __m512 cv = _mm512_maskz_loadu_ps(k, c + i), sv = _mm512_maskz_loadu_ps(k, s + i);
        const __m512 a = _mm512_maskz_loadu_ps(k, x + i), b = _mm512_maskz_loadu_ps(k, x + half + i);
        _mm512_mask_storeu_ps(x + i, k, _mm512_fmsub_ps(a, cv, _mm512_mul_ps(b, sv)));
        _mm512_mask_storeu_ps(x + half + i, k, _mm512_fmadd_ps(a, sv, _mm512_mul_ps(b, cv)));
    }
}

/* RoPE on n_heads heads with the cos/sin table of one position. */
void ew_rope_avx512(float *x, int n_heads, int D, int n_rot, const float *cs, bool neox) {
    const int half = n_rot / 2;
    for (int h = 0; h < n_heads; h++) {
        if (neox) rope_neox(x + (size_t)h * D, half, cs, cs + half);
        else rope_adjacent(x + (size_t)h * D, half, cs, cs + half);
    }
}

/* dst = binary16 of src, ties to even (bit-identical to ew_fp32_to_fp16). */
void ew_to_f16_avx512(uint16_t *dst, const float *src, int n) {
    for (int i = 0; i < n; i += 16) {
        const __mmask16 k = tail_mask(n - i);
        const __m256i h = _mm512_cvtps_ph(_mm512_maskz_loadu_ps(k, src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm256_mask_storeu_epi16(dst + i, k, h);
    }
}
