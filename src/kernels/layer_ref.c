/* layer_ref.c - scalar reference of the per-row layer pieces (rmsnorm, add, softmax,
 * swiglu, rope, F32 -> F16 rows). The SIMD twins in layer_avx2.c / layer_avx512.c follow
 * these. */
#include "kernels/layer.h"
#include "quant/quant.h"
#include <math.h>

/* out = x / rms(x) * w; the sum of squares is taken in double. */
void ew_rmsnorm(float *out, const float *x, const float *w, int n, float eps) {
    double ss = 0;  /* ggml sums in double-precision-free float; a double sum is a superset */
    for (int i = 0; i < n; i++) ss += (double)x[i] * x[i];
    const float scale = 1.0f / sqrtf((float)(ss / n) + eps);
    for (int i = 0; i < n; i++) out[i] = x[i] * scale * w[i];
}

/* x += y. */
void ew_add_ref(float *x, const float *y, int n) {
    for (int i = 0; i < n; i++) x[i] += y[i];
}

/* Softmax in place: exp(x - max) normalised by a double sum. */
void ew_softmax(float *x, int n) {
    float max = x[0];
    for (int i = 1; i < n; i++) if (x[i] > max) max = x[i];
    double sum = 0;
    for (int i = 0; i < n; i++) { x[i] = expf(x[i] - max); sum += x[i]; }
    const float inv = (float)(1.0 / sum);
    for (int i = 0; i < n; i++) x[i] *= inv;
}

/* out = gate / (1 + exp(-gate)) * up. */
void ew_swiglu(float *out, const float *gate, const float *up, int n) {
    for (int i = 0; i < n; i++) {
        const float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

/* Rotate the pairs of one head vector by the angles whose cos/sin are c[i], s[i]. */
static void rope_pairs(float *x, int n_rot, const float *c, const float *s, bool neox) {
    const int half = n_rot / 2;
    for (int i = 0; i < half; i++) {
        const int a = neox ? i : 2 * i;
        const int b = neox ? i + half : 2 * i + 1;
        const float x0 = x[a], x1 = x[b];
        x[a] = x0 * c[i] - x1 * s[i];
        x[b] = x0 * s[i] + x1 * c[i];
    }
}

/* Rotary embedding of one head at position pos, angles computed here. */
void ew_rope(float *x, int head_dim, int n_rot, int pos, const float *inv_freq, bool neox) {
    (void)head_dim;
    const int half = n_rot / 2;
    for (int i = 0; i < half; i++) {
        const float theta = (float)pos * inv_freq[i];
        const float c = cosf(theta), s = sinf(theta);
        const int a = neox ? i : 2 * i;
        const int b = neox ? i + half : 2 * i + 1;
        const float x0 = x[a], x1 = x[b];
        x[a] = x0 * c - x1 * s;
        x[b] = x0 * s + x1 * c;
    }
}

/* The cos/sin table of one position (same angles as ew_rope). */
void ew_rope_table(float *cs, int pos, int n_rot, const float *inv_freq) {
    const int half = n_rot / 2;
    for (int i = 0; i < half; i++) {
        const float theta = (float)pos * inv_freq[i];
        cs[i] = cosf(theta);
        cs[half + i] = sinf(theta);
    }
}

/* RoPE on n_heads heads with a precomputed cos/sin table. */
void ew_rope_cs_ref(float *x, int n_heads, int D, int n_rot, const float *cs, bool neox) {
    for (int h = 0; h < n_heads; h++) rope_pairs(x + (size_t)h * D, n_rot, cs, cs + n_rot / 2, neox);
}

/* dst = binary16 of src, ties to even. */
void ew_to_f16_ref(uint16_t *dst, const float *src, int n) {
    for (int i = 0; i < n; i++) dst[i] = ew_fp32_to_fp16(src[i]);
}
