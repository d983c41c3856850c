/* matmul.c - weight x activations on quantized weights: activations converted once per
 * row to the weight's vec_dot_type, rows of W split across the thread pool. The quantizer
 * and the dot come from the kernel table (dispatch.h), looked up once per call. */
#include "kernels/kernels.h"
#include "kernels/dispatch.h"
#include "quant/quant.h"
#include <math.h>
#include <string.h>

size_t ew_matmul_act_bytes(const ew_tensor *w, int n_tok) {
    const ew_type_traits *tt = ew_type_get(w->type);
    return ew_row_size(tt->vec_dot_type, w->ne[0]) * (size_t)n_tok;
}

void ew_tensor_get_row(const ew_tensor *w, int64_t row, float *out) {
    ew_dequantize_row_ref(w->type, (const uint8_t *)w->data + (size_t)row * w->row_bytes, out, w->ne[0]);
}

typedef struct matmul_job {
    const ew_tensor *w;
    ew_vec_dot_fn dot;
    const uint8_t *act;
    size_t act_row;
    float *y;
    int n_tok;
} matmul_job;

/* Rows [r0, r1) of W against every activation row: the weight row stays in cache while
 * all tokens use it. */
static void matmul_rows(void *ctx, int64_t r0, int64_t r1, int ith) {
    (void)ith;
    const matmul_job *j = ctx;
    const int64_t K = j->w->ne[0], N = j->w->ne[1];
    for (int64_t r = r0; r < r1; r++) {
        const uint8_t *wr = (const uint8_t *)j->w->data + (size_t)r * j->w->row_bytes;
        for (int t = 0; t < j->n_tok; t++)
            j->y[(size_t)t * N + r] = j->dot(K, wr, j->act + (size_t)t * j->act_row);
    }
}

/* y = W x for n_tok rows with the kernels of table k. A weight type without kernels gives
 * NaN outputs, as the scalar reference dot does. */
void ew_matmul_with(const ew_kernels *k, ew_pool *pool, const ew_tensor *w, const float *x,
                    float *y, int n_tok, void *act) {
    const int64_t K = w->ne[0], N = w->ne[1];
    const ew_type_kernels *tk = w->type < EW_TYPE_COUNT ? &k->type[w->type] : NULL;
    if (!tk || !tk->vec_dot || !tk->quantize) {
        for (size_t i = 0; i < (size_t)n_tok * (size_t)N; i++) y[i] = NAN;
        return;
    }
    const size_t act_row = ew_row_size(tk->act_type, K);
    for (int t = 0; t < n_tok; t++)
        tk->quantize(x + (size_t)t * K, (uint8_t *)act + (size_t)t * act_row, K);
    matmul_job j = {w, tk->vec_dot, act, act_row, y, n_tok};
    ew_pool_for(pool, N, 0, matmul_rows, &j);
}

/* y = W x with the kernels of the level in force (ew_kernels_get). */
void ew_matmul(ew_pool *pool, const ew_tensor *w, const float *x, float *y, int n_tok, void *act) {
    ew_matmul_with(ew_kernels_get(), pool, w, x, y, n_tok, act);
}
