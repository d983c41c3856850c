/*
 * matmul.c - weight x activations on quantized weights. Activations are converted once per
 * row to the weight's vec_dot_type; then
 *  - few tokens (decode): every weight row dotted with every token by the table's vec_dot,
 *    rows of W split across the thread pool;
 *  - many tokens (prefill, n_tok >= the type's gemm min_tok): the tiled path of gemm.h —
 *    activation rows prepared once (in parallel over tokens), then tiles of (a band of W
 *    rows) x (all tokens, or a share of them when there are few bands) handed out
 *    dynamically; each tile packs its band into a panel on the stack (in K chunks that fit
 *    PANEL_BYTES) and runs the register-tiled kernel over its tokens.
 * The quantizer, dot and tile path come from the kernel table (dispatch.h), looked up once
 * per call.
 */
#include "kernels/kernels.h"
#include "kernels/dispatch.h"
#include "kernels/gemm.h"
#include "quant/quant.h"
#include <math.h>
#include <string.h>

/* Stack bytes of a packed panel: 32 rows x 640 elements of Q8_0, so the panel stays in L1
 * while every token tile reads it; a larger K is done in chunks that accumulate into y
 * (measured on Zen 4: 24 KiB beats 96 KiB by ~8% for Q4_K at K = 1536, equal elsewhere). */
#define PANEL_BYTES (24 * 1024)

/* n rounded up to a multiple of 64. */
static size_t round64(size_t n) { return (n + 63) & ~(size_t)63; }

/* Bytes of the act_type rows (the prepared rows, when the type has a tile path, follow at
 * the next multiple of 64). */
static size_t act_rows_bytes(const ew_tensor *w, int n_tok) {
    const ew_type_traits *tt = ew_type_get(w->type);
    return ew_row_size(tt->vec_dot_type, w->ne[0]) * (size_t)n_tok;
}

/* Scratch for n_tok rows: act_type rows plus, for types with a tile path (the layout is
 * the same at every level), the prepared rows. */
size_t ew_matmul_act_bytes(const ew_tensor *w, int n_tok) {
    size_t bytes = act_rows_bytes(w, n_tok);
    ew_gemm_layout L;
    ew_gemm_pack_fn pack;
    ew_gemm_prep_fn prep;
    if (ew_gemm_type_layout(w->type, &L, &pack, &prep))
        bytes = round64(bytes) + ew_gemm_prep_row_bytes(&L, w->ne[0]) * (size_t)n_tok;
    return bytes;
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

/* ---- tiled path --------------------------------------------------------------------- */

typedef struct tiled_job {
    const ew_tensor *w;
    const ew_type_kernels *tk;
    const ew_gemm_ops *go;
    const float *x;
    uint8_t *act, *prep;       /* act_type rows, prepared rows */
    size_t act_row, prep_row;  /* their strides */
    float *y;
    int n_tok, n_split, split_tok; /* tokens split in n_split ranges of split_tok */
    int64_t kc;                /* elements per packed K chunk */
} tiled_job;

/* Tokens [t0, t1): quantize to act_type and prepare for the tile kernel (fused when the
 * level has quant_prep). */
static void prep_rows(void *ctx, int64_t t0, int64_t t1, int ith) {
    (void)ith;
    const tiled_job *j = ctx;
    const int64_t K = j->w->ne[0];
    for (int64_t t = t0; t < t1; t++) {
        const float *x = j->x + (size_t)t * (size_t)K;
        uint8_t *prep = j->prep + (size_t)t * j->prep_row;
        if (j->go->quant_prep) {
            j->go->quant_prep(x, K, j->go->layout.off, prep);
            continue;
        }
        uint8_t *a = j->act + (size_t)t * j->act_row;
        j->tk->quantize(x, a, K);
        j->go->prep(a, K, j->go->layout.off, prep);
    }
}

/* One tile: band i / n_split of W rows against token range i % n_split, K in chunks. */
static void tile_item(const tiled_job *j, int64_t i) {
    _Alignas(64) uint8_t panel[PANEL_BYTES];
    const ew_gemm_ops *go = j->go;
    const int64_t K = j->w->ne[0], N = j->w->ne[1];
    const int64_t r0 = (i / j->n_split) * go->rows;
    const int nr = (int)(N - r0 < go->rows ? N - r0 : go->rows);
    const int t0 = (int)(i % j->n_split) * j->split_tok;
    const int nt = j->n_tok - t0 < j->split_tok ? j->n_tok - t0 : j->split_tok;
    const uint8_t *wr = (const uint8_t *)j->w->data + (size_t)r0 * j->w->row_bytes;
    const size_t ag = ew_gemm_prep_group_bytes(&go->layout);
    for (int64_t k0 = 0; k0 < K; k0 += j->kc) {
        const int64_t kn = K - k0 < j->kc ? K - k0 : j->kc;
        go->pack(wr, j->w->row_bytes, nr, k0, kn, go->rows, panel);
        go->tile(kn, panel, nr, j->prep + (size_t)t0 * j->prep_row + (size_t)(k0 / go->layout.sub) * ag, j->prep_row,
                 nt, j->y + (size_t)t0 * (size_t)N + (size_t)r0, (size_t)N, k0 > 0);
    }
}

/* Pool task: tiles [i0, i1). */
static void tile_items(void *ctx, int64_t i0, int64_t i1, int ith) {
    (void)ith;
    for (int64_t i = i0; i < i1; i++) tile_item(ctx, i);
}

/* y = W x through the tile path go. Bands of rows are the unit of work; with fewer than
 * four bands per thread, tokens are split too (each share at least 4 register tiles), so
 * small matrices still keep every thread busy. */
static void matmul_tiled(const ew_type_kernels *tk, const ew_gemm_ops *go, ew_pool *pool, const ew_tensor *w,
                         const float *x, float *y, int n_tok, void *act) {
    const int64_t K = w->ne[0], N = w->ne[1];
    tiled_job j = {w, tk, go, x, act, NULL, ew_row_size(tk->act_type, K), ew_gemm_prep_row_bytes(&go->layout, K),
                   y, n_tok, 1, n_tok, 0};
    j.prep = (uint8_t *)act + round64(act_rows_bytes(w, n_tok));
    ew_pool_for(pool, n_tok, 0, prep_rows, &j);

    /* K chunks of whole blocks and whole groups (both powers of two: the larger is both) */
    const int64_t unit = EW_MAX((int64_t)ew_type_get(w->type)->blck_size, (int64_t)go->layout.sub);
    const int64_t per_unit = (int64_t)ew_gemm_panel_bytes(&go->layout, go->rows, unit);
    j.kc = EW_MAX((int64_t)1, (int64_t)PANEL_BYTES / per_unit) * unit;
    const int64_t n_bands = (N + go->rows - 1) / go->rows;
    const int nth = ew_pool_size(pool);
    const int max_split = EW_MAX(1, n_tok / (4 * go->tok));
    j.n_split = (int)EW_MIN((int64_t)max_split, EW_MAX((int64_t)1, (4 * nth + n_bands - 1) / n_bands));
    const int per = (n_tok + j.n_split - 1) / j.n_split;
    j.split_tok = (per + go->tok - 1) / go->tok * go->tok;
    j.n_split = (n_tok + j.split_tok - 1) / j.split_tok;
    ew_pool_for(pool, n_bands * j.n_split, 1, tile_items, &j);
}

/* ---- entry points -------------------------------------------------------------------- */

/* y = W x for n_tok rows with the kernels of table k: the tile path for n_tok >= its
 * min_tok, else vec_dot over rows. A weight type without kernels gives NaN outputs, as the
 * scalar reference dot does. */
void ew_matmul_with(const ew_kernels *k, ew_pool *pool, const ew_tensor *w, const float *x,
                    float *y, int n_tok, void *act) {
    const int64_t K = w->ne[0], N = w->ne[1];
    const ew_type_kernels *tk = w->type < EW_TYPE_COUNT ? &k->type[w->type] : NULL;
    if (!tk || !tk->vec_dot || !tk->quantize) {
        for (size_t i = 0; i < (size_t)n_tok * (size_t)N; i++) y[i] = NAN;
        return;
    }
    if (tk->gemm && n_tok >= tk->gemm->min_tok && K % tk->gemm->layout.sub == 0) {
        matmul_tiled(tk, tk->gemm, pool, w, x, y, n_tok, act);
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
