/* layer_ref.c - scalar reference of the per-row layer pieces (rmsnorm, softmax, swiglu,
 * rope). */
#include "kernels/kernels.h"
#include <math.h>

void ew_rmsnorm(float *out, const float *x, const float *w, int n, float eps) {
    double ss = 0;  /* ggml sums in double-precision-free float; a double sum is a superset */
    for (int i = 0; i < n; i++) ss += (double)x[i] * x[i];
    const float scale = 1.0f / sqrtf((float)(ss / n) + eps);
    for (int i = 0; i < n; i++) out[i] = x[i] * scale * w[i];
}

void ew_softmax(float *x, int n) {
    float max = x[0];
    for (int i = 1; i < n; i++) if (x[i] > max) max = x[i];
    double sum = 0;
    for (int i = 0; i < n; i++) { x[i] = expf(x[i] - max); sum += x[i]; }
    const float inv = (float)(1.0 / sum);
    for (int i = 0; i < n; i++) x[i] *= inv;
}

void ew_swiglu(float *out, const float *gate, const float *up, int n) {
    for (int i = 0; i < n; i++) {
        const float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

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
