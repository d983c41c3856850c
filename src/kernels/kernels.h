/*
 * kernels.h - the layer pieces of a transformer forward pass, on float rows, plus the
 * weight x activation products on quantized weights. Scalar reference implementations
 * live in *_ref.c; SIMD versions have the same signatures and are chosen once at start by
 * the dispatch table (dispatch.h).
 */
#ifndef EW_KERNELS_H
#define EW_KERNELS_H

#include "core/core.h"
#include "core/threadpool.h"

/* A weight matrix as the model sees it: ne[0] = K (row length, input dim), ne[1] = N rows
 * (output dim). Rows are row_bytes apart. */
typedef struct ew_tensor {
    const char *name;
    const void *data;
    uint32_t type;
    int64_t ne[4];
    size_t row_bytes;
} ew_tensor;

/* y[i] = x[i] / rms(x) * w[i], rms = sqrt(mean(x^2) + eps). out may alias x. */
void ew_rmsnorm(float *out, const float *x, const float *w, int n, float eps);
/* In-place softmax over n values. */
void ew_softmax(float *x, int n);
/* out[i] = silu(gate[i]) * up[i] (SwiGLU). out may alias gate. */
void ew_swiglu(float *out, const float *gate, const float *up, int n);

/* Rotary embedding on one head vector of head_dim floats at position pos, rotating the
 * first n_rot dims. inv_freq[i] (i < n_rot/2) is the angle per position of pair i,
 * already including freq_base, scaling and frequency factors. neox: pairs (i, i+n_rot/2)
 * instead of adjacent (2i, 2i+1). */
void ew_rope(float *x, int head_dim, int n_rot, int pos, const float *inv_freq, bool neox);

/* Size in bytes of the activation buffer a matmul with weight w needs for n_tok rows. */
size_t ew_matmul_act_bytes(const ew_tensor *w, int n_tok);
/* y[t][i] = sum_k W[i][k] * x[t][k] for t < n_tok, i < N. x is n_tok rows of K floats
 * (row stride K), y is n_tok rows of N floats (row stride N). act is scratch of
 * ew_matmul_act_bytes() bytes: activations are converted to the weight's vec_dot_type
 * once per row, then every weight row is dotted with them. Parallel over rows of W. */
void ew_matmul(ew_pool *pool, const ew_tensor *w, const float *x, float *y, int n_tok, void *act);
/* ew_matmul with the kernels of table k (dispatch.h) instead of the level in force; tests
 * and benchmarks compare levels with it. */
struct ew_kernels;
void ew_matmul_with(const struct ew_kernels *k, ew_pool *pool, const ew_tensor *w, const float *x,
                    float *y, int n_tok, void *act);
/* Dequantize row `row` of w into out (K floats). */
void ew_tensor_get_row(const ew_tensor *w, int64_t row, float *out);

#endif
