/*
 * quant_k.c - scalar references of ggml's 256-element "K" super-block types: Q4_K, Q5_K,
 * Q6_K and the activation type Q8_K. Layouts in blocks.h.
 *
 * Quantization follows ggml's reference quantizers (no importance matrix):
 *  - Q4_K / Q5_K: per 32-element sub-block, a weighted least-squares fit of x ~ s * q - m
 *    over a sweep of candidate scales (ggml's make_qkx2_quants), then the 8 scales and
 *    8 mins are themselves quantized to 6 bits against two fp16 super-scales and the
 *    quants are recomputed with the rounded scales.
 *  - Q6_K: per 16-element sub-block, a symmetric fit x ~ s * q weighted by x^2 over 19
 *    candidate scales (make_qx_quants), scales quantized to int8 against one fp16 d.
 * The arithmetic is done in the same float order as ggml so the bytes agree with
 * llama.cpp's quantize tool.
 */
#include "quant/quant_ref.h"

#include <string.h>

#define GROUP_MAX_EPS 1e-15f

static inline float h2f(ew_half h) { return ew_fp16_to_fp32(h); }
static inline ew_half f2h(float f) { return ew_fp32_to_fp16(f); }
static inline int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* ---- scale search: asymmetric (scale + min) ----------------------------------------------- */

/* Weighted squared error of x ~ scale * L + min. */
static float fit_error(int n, const float *x, const float *w, const uint8_t *L, float scale,
                       float min) {
    float err = 0;
    for (int i = 0; i < n; i++) {
        float diff = scale * L[i] + min - x[i];
        err += w[i] * (diff * diff);
    }
    return err;
}

/*
 * Fit x[0..n) ~ scale * L - the_min with L in 0..nmax, minimizing the w-weighted squared
 * error. Starts from the plain min/max grid, then for nstep + 1 candidate inverse scales
 * (nmax + rmin + rdelta * k) / (max - min) rounds x to that grid and solves the 2x2
 * least-squares system for (scale, min), keeping the best. The min is never positive (so
 * the_min >= 0). Writes the chosen quants to L (Laux is scratch); returns the scale.
 */
static float fit_scale_min(int n, int nmax, const float *x, const float *w, uint8_t *L,
                           float *the_min, uint8_t *Laux, float rmin, float rdelta, int nstep) {
    float min = x[0], max = x[0];
    float sum_w = w[0];
    float sum_x = sum_w * x[0];
    for (int i = 1; i < n; i++) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        sum_w += w[i];
        sum_x += w[i] * x[i];
    }
    if (min > 0) min = 0;
    if (max == min) {
        memset(L, 0, (size_t)n);
        *the_min = -min;
        return 0.f;
    }
    float iscale = nmax / (max - min);
    float scale = 1 / iscale;
    for (int i = 0; i < n; i++) L[i] = (uint8_t)clampi(ew_nearest_int(iscale * (x[i] - min)), 0, nmax);
    float best_error = fit_error(n, x, w, L, scale, min);
    for (int is = 0; is <= nstep; is++) {
        iscale = (rmin + rdelta * is + nmax) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; i++) {
            int l = clampi(ew_nearest_int(iscale * (x[i] - min)), 0, nmax);
            Laux[i] = (uint8_t)l;
            sum_l += w[i] * l;
            sum_l2 += w[i] * l * l;
            sum_xl += w[i] * l * x[i];
        }
        float D = sum_w * sum_l2 - sum_l * sum_l;
        if (!(D > 0)) continue;
        float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
        float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
        if (this_min > 0) {
            this_min = 0;
            this_scale = sum_xl / sum_l2;
        }
        float err = fit_error(n, x, w, Laux, this_scale, this_min);
        if (err < best_error) {
            memcpy(L, Laux, (size_t)n);
            best_error = err;
            scale = this_scale;
            min = this_min;
        }
    }
    *the_min = -min;
    return scale;
}

/* ---- Q4_K / Q5_K shared: scales and mins of 8 sub-blocks ------------------------------- */

/*
 * Fit the 8 sub-blocks of one super-block x[0..256) with quants 0..nmax (L gets the fitted
 * quants), quantize the 8 scales and 8 mins to 6 bits against d = max_scale / 63 and
 * dmin = max_min / 63, pack them, then recompute L with the rounded scales. A sub-block
 * whose rounded scale is 0 keeps its fitted quants (as ggml).
 */
static void quantize_k_super(const float *x, int nmax, float rmin, float rdelta, int nstep,
                             uint8_t L[EW_QK_K], ew_half *d_out, ew_half *dmin_out,
                             uint8_t packed[EW_K_SCALE_SIZE]) {
    float scales[8], mins[8], weights[32];
    uint8_t Laux[32];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; j++) {
        const float *xs = x + 32 * j;
        float sum_x2 = 0;
        for (int l = 0; l < 32; l++) sum_x2 += xs[l] * xs[l];
        float av_x = sqrtf(sum_x2 / 32);
        for (int l = 0; l < 32; l++) weights[l] = av_x + fabsf(xs[l]);
        scales[j] = fit_scale_min(32, nmax, xs, weights, L + 32 * j, &mins[j], Laux, rmin, rdelta, nstep);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    uint8_t ls[8], lm[8];
    for (int j = 0; j < 8; j++) {
        ls[j] = (uint8_t)clampi(ew_nearest_int(inv_scale * scales[j]), 0, 63);
        lm[j] = (uint8_t)clampi(ew_nearest_int(inv_min * mins[j]), 0, 63);
    }
    ew_k4_pack_scales(ls, lm, packed);
    *d_out = f2h(max_scale / 63.f);
    *dmin_out = f2h(max_min / 63.f);

    const float d_all = h2f(*d_out), dmin_all = h2f(*dmin_out);
    for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        ew_k4_scale_min(j, packed, &sc, &m);
        const float d = d_all * sc;
        if (!d) continue;
        const float dm = dmin_all * m;
        for (int i = 0; i < 32; i++) {
            L[32 * j + i] = (uint8_t)clampi(ew_nearest_int((x[32 * j + i] + dm) / d), 0, nmax);
        }
    }
}

/* Sub-block scales (d * sc) and mins (dmin * m) of a Q4_K/Q5_K super-block. */
static void k4_sub_scales(ew_half d, ew_half dmin, const uint8_t packed[12], float dl[8], float ml[8]) {
    const float df = h2f(d), mf = h2f(dmin);
    for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        ew_k4_scale_min(j, packed, &sc, &m);
        dl[j] = df * sc;
        ml[j] = mf * m;
    }
}

/* ---- Q4_K -------------------------------------------------------------------------------- */

/* Q4_K: see the file comment; qs chunk c = sub-block 2c (low nibbles) | 2c + 1 (high). */
void ew_quantize_q4_K_ref(const float *x, void *vy, int64_t n) {
    ew_block_q4_K *y = vy;
    uint8_t L[EW_QK_K];
    for (int64_t b = 0; b < n / EW_QK_K; b++, x += EW_QK_K) {
        quantize_k_super(x, 15, -1.0f, 0.1f, 20, L, &y[b].d, &y[b].dmin, y[b].scales);
        for (int c = 0; c < 4; c++) {
            for (int l = 0; l < 32; l++) {
                y[b].qs[32 * c + l] = (uint8_t)(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
            }
        }
    }
}

/* Unpack the 256 4-bit quants of a Q4_K block in element order. */
static void q4_K_unpack(const ew_block_q4_K *blk, int q[EW_QK_K]) {
    for (int c = 0; c < 4; c++) {
        for (int l = 0; l < 32; l++) {
            q[64 * c + l] = blk->qs[32 * c + l] & 0x0F;
            q[64 * c + 32 + l] = blk->qs[32 * c + l] >> 4;
        }
    }
}

/* Q4_K -> float: element e of sub-block j = d * sc[j] * q - dmin * m[j]. */
void ew_dequantize_q4_K_ref(const void *vx, float *y, int64_t n) {
    const ew_block_q4_K *x = vx;
    int q[EW_QK_K];
    for (int64_t b = 0; b < n / EW_QK_K; b++, y += EW_QK_K) {
        float dl[8], ml[8];
        k4_sub_scales(x[b].d, x[b].dmin, x[b].scales, dl, ml);
        q4_K_unpack(&x[b], q);
        for (int e = 0; e < EW_QK_K; e++) y[e] = dl[e / 32] * q[e] - ml[e / 32];
    }
}

/*
 * Dot of 256 unsigned quants (sub-blocks of 32 with 6-bit scale sc / min m, from packed
 * scales) with a Q8_K block:  d * d_a * sum_j sc[j] * sum(q * a) - dmin * d_a *
 * sum_j m[j] * (bsums[2j] + bsums[2j + 1]).
 */
static float k4_block_dot(const int q[EW_QK_K], ew_half d, ew_half dmin, const uint8_t packed[12],
                          const ew_block_q8_K *a) {
    int32_t isum = 0, msum = 0;
    for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        ew_k4_scale_min(j, packed, &sc, &m);
        int32_t s = 0;
        for (int i = 32 * j; i < 32 * j + 32; i++) s += q[i] * a->qs[i];
        isum += sc * s;
        msum += m * (a->bsums[2 * j] + a->bsums[2 * j + 1]);
    }
    return h2f(d) * a->d * (float)isum - h2f(dmin) * a->d * (float)msum;
}

/* Q4_K . Q8_K. */
float ew_vec_dot_q4_K_q8_K_ref(int64_t n, const void *vw, const void *va) {
    const ew_block_q4_K *w = vw;
    const ew_block_q8_K *a = va;
    int q[EW_QK_K];
    float sum = 0;
    for (int64_t b = 0; b < n / EW_QK_K; b++) {
        q4_K_unpack(&w[b], q);
        sum += k4_block_dot(q, w[b].d, w[b].dmin, w[b].scales, &a[b]);
    }
    return sum;
}

/* ---- Q5_K -------------------------------------------------------------------------------- */

/* Q5_K: as Q4_K with 5-bit quants; the fifth bit of element 64c + l goes to bit 2c of
 * qh[l], of element 64c + 32 + l to bit 2c + 1. */
void ew_quantize_q5_K_ref(const float *x, void *vy, int64_t n) {
    ew_block_q5_K *y = vy;
    uint8_t L[EW_QK_K];
    for (int64_t b = 0; b < n / EW_QK_K; b++, x += EW_QK_K) {
        quantize_k_super(x, 31, -0.5f, 0.1f, 15, L, &y[b].d, &y[b].dmin, y[b].scales);
        memset(y[b].qh, 0, sizeof y[b].qh);
        for (int c = 0; c < 4; c++) {
            for (int l = 0; l < 32; l++) {
                const int lo = L[64 * c + l], hi = L[64 * c + 32 + l];
                y[b].qs[32 * c + l] = (uint8_t)((lo & 0x0F) | ((hi & 0x0F) << 4));
                y[b].qh[l] |= (uint8_t)(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
            }
        }
    }
}

/* Unpack the 256 5-bit quants of a Q5_K block in element order. */
static void q5_K_unpack(const ew_block_q5_K *blk, int q[EW_QK_K]) {
    for (int c = 0; c < 4; c++) {
        for (int l = 0; l < 32; l++) {
            const int h = blk->qh[l];
            q[64 * c + l] = (blk->qs[32 * c + l] & 0x0F) | (((h >> (2 * c)) & 1) << 4);
            q[64 * c + 32 + l] = (blk->qs[32 * c + l] >> 4) | (((h >> (2 * c + 1)) & 1) << 4);
        }
    }
}

/* Q5_K -> float: element e of sub-block j = d * sc[j] * q - dmin * m[j]. */
void ew_dequantize_q5_K_ref(const void *vx, float *y, int64_t n) {
    const ew_block_q5_K *x = vx;
    int q[EW_QK_K];
    for (int64_t b = 0; b < n / EW_QK_K; b++, y += EW_QK_K) {
        float dl[8], ml[8];
        k4_sub_scales(x[b].d, x[b].dmin, x[b].scales, dl, ml);
        q5_K_unpack(&x[b], q);
        for (int e = 0; e < EW_QK_K; e++) y[e] = dl[e / 32] * q[e] - ml[e / 32];
    }
}

/* Q5_K . Q8_K. */
float ew_vec_dot_q5_K_q8_K_ref(int64_t n, const void *vw, const void *va) {
    const ew_block_q5_K *w = vw;
    const ew_block_q8_K *a = va;
    int q[EW_QK_K];
    float sum = 0;
    for (int64_t b = 0; b < n / EW_QK_K; b++) {
        q5_K_unpack(&w[b], q);
        sum += k4_block_dot(q, w[b].d, w[b].dmin, w[b].scales, &a[b]);
    }
    return sum;
}

/* ---- Q6_K -------------------------------------------------------------------------------- */

/* Weighted sums for quantizing x with inverse scale iscale to -nmax..nmax-1 (weights x^2):
 * sumlx = sum w x l, suml2 = sum w l^2. Writes L = l + nmax when L is not NULL. */
static void qx_sums(int n, int nmax, const float *x, float iscale, int8_t *L, float *sumlx,
                    float *suml2) {
    float slx = 0, sl2 = 0;
    for (int i = 0; i < n; i++) {
        int l = clampi(ew_nearest_int(iscale * x[i]), -nmax, nmax - 1);
        if (L) L[i] = (int8_t)(l + nmax);
        float w = x[i] * x[i];
        slx += w * x[i] * l;
        sl2 += w * l * l;
    }
    *sumlx = slx;
    *suml2 = sl2;
}

/*
 * Symmetric fit x[0..n) ~ scale * (L - nmax), L in 0..2*nmax-1, weighted by x^2: start from
 * the grid that maps the signed absmax to -nmax, try the 18 inverse scales
 * -(nmax + 0.1 k) / max (k = -9..9, k != 0) and keep the one with the best weighted
 * least-squares fit. Returns the scale (0 for an all-zero group, L all 0 then).
 */
static float fit_scale_sym(int n, int nmax, const float *x, int8_t *L) {
    float max = 0, amax = 0;
    for (int i = 0; i < n; i++) {
        float ax = fabsf(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    if (amax < GROUP_MAX_EPS) {
        memset(L, 0, (size_t)n);
        return 0.f;
    }
    float sumlx, suml2;
    qx_sums(n, nmax, x, -nmax / max, L, &sumlx, &suml2);
    float scale = suml2 ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; is++) {
        if (is == 0) continue;
        float iscale = -(nmax + 0.1f * is) / max;
        qx_sums(n, nmax, x, iscale, NULL, &sumlx, &suml2);
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            qx_sums(n, nmax, x, iscale, L, &sumlx, &suml2);
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

/* Q6_K: see the file comment and blocks.h for the bit layout. */
void ew_quantize_q6_K_ref(const float *x, void *vy, int64_t n) {
    ew_block_q6_K *y = vy;
    int8_t L[EW_QK_K];
    for (int64_t b = 0; b < n / EW_QK_K; b++, x += EW_QK_K) {
        float scales[16], max_scale = 0, max_abs_scale = 0;
        for (int s = 0; s < 16; s++) {
            scales[s] = fit_scale_sym(16, 32, x + 16 * s, L + 16 * s);
            if (fabsf(scales[s]) > max_abs_scale) {
                max_abs_scale = fabsf(scales[s]);
                max_scale = scales[s];
            }
        }
        memset(&y[b], 0, sizeof y[b]);
        if (max_abs_scale < GROUP_MAX_EPS) continue;

        const float iscale = -128.f / max_scale;
        y[b].d = f2h(1 / iscale);
        for (int s = 0; s < 16; s++) {
            y[b].scales[s] = (int8_t)clampi(ew_nearest_int(iscale * scales[s]), -128, 127);
        }
        for (int s = 0; s < 16; s++) {
            const float d = h2f(y[b].d) * y[b].scales[s];
            if (!d) continue;
            for (int i = 16 * s; i < 16 * s + 16; i++) {
                L[i] = (int8_t)(clampi(ew_nearest_int(x[i] / d), -32, 31) + 32);
            }
        }
        for (int h = 0; h < 2; h++) {
            const int8_t *Lh = L + 128 * h;
            uint8_t *ql = y[b].ql + 64 * h, *qh = y[b].qh + 32 * h;
            for (int l = 0; l < 32; l++) {
                ql[l] = (uint8_t)((Lh[l] & 0x0F) | ((Lh[l + 64] & 0x0F) << 4));
                ql[l + 32] = (uint8_t)((Lh[l + 32] & 0x0F) | ((Lh[l + 96] & 0x0F) << 4));
                qh[l] = (uint8_t)((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) | ((Lh[l + 64] >> 4) << 4) |
                                  ((Lh[l + 96] >> 4) << 6));
            }
        }
    }
}

/* Unpack the 256 signed quants (q - 32, -32..31) of a Q6_K block in element order. */
static void q6_K_unpack(const ew_block_q6_K *blk, int q[EW_QK_K]) {
    for (int h = 0; h < 2; h++) {
        const uint8_t *ql = blk->ql + 64 * h, *qh = blk->qh + 32 * h;
        int *qo = q + 128 * h;
        for (int l = 0; l < 32; l++) {
            qo[l] = ((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
            qo[l + 32] = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
            qo[l + 64] = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            qo[l + 96] = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        }
    }
}

/* Q6_K -> float: element e = d * scales[e / 16] * (q - 32). */
void ew_dequantize_q6_K_ref(const void *vx, float *y, int64_t n) {
    const ew_block_q6_K *x = vx;
    int q[EW_QK_K];
    for (int64_t b = 0; b < n / EW_QK_K; b++, y += EW_QK_K) {
        const float d = h2f(x[b].d);
        q6_K_unpack(&x[b], q);
        for (int e = 0; e < EW_QK_K; e++) y[e] = d * x[b].scales[e / 16] * q[e];
    }
}

/* Q6_K . Q8_K: per block, d * d_a * sum_s scales[s] * sum((q - 32) * a). */
float ew_vec_dot_q6_K_q8_K_ref(int64_t n, const void *vw, const void *va) {
    const ew_block_q6_K *w = vw;
    const ew_block_q8_K *a = va;
    int q[EW_QK_K];
    float sum = 0;
    for (int64_t b = 0; b < n / EW_QK_K; b++) {
        q6_K_unpack(&w[b], q);
        int32_t isum = 0;
        for (int s = 0; s < 16; s++) {
            int32_t ss = 0;
            for (int i = 16 * s; i < 16 * s + 16; i++) ss += q[i] * a[b].qs[i];
            isum += w[b].scales[s] * ss;
        }
        sum += h2f(w[b].d) * a[b].d * (float)isum;
    }
    return sum;
}

/* ---- Q8_K -------------------------------------------------------------------------------- */

/* Q8_K: d = -m / 127 with m the signed absmax (so m maps to -127), q = min(127,
 * round_even(x / d)), bsums = sums of 16 consecutive q. An all-zero block gets d = 0. */
void ew_quantize_q8_K_ref(const float *x, void *vy, int64_t n) {
    ew_block_q8_K *y = vy;
    for (int64_t b = 0; b < n / EW_QK_K; b++, x += EW_QK_K) {
        float max = 0, amax = 0;
        for (int j = 0; j < EW_QK_K; j++) {
            if (fabsf(x[j]) > amax) {
                amax = fabsf(x[j]);
                max = x[j];
            }
        }
        memset(&y[b], 0, sizeof y[b]);
        if (!amax) continue;
        const float iscale = -127.f / max;
        for (int j = 0; j < EW_QK_K; j++) {
            y[b].qs[j] = (int8_t)clampi(ew_nearest_int(iscale * x[j]), -128, 127);
        }
        for (int g = 0; g < EW_QK_K / 16; g++) {
            int sum = 0;
            for (int i = 0; i < 16; i++) sum += y[b].qs[16 * g + i];
            y[b].bsums[g] = (int16_t)sum;
        }
        y[b].d = 1 / iscale;
    }
}

/* Q8_K -> float: q * d. */
void ew_dequantize_q8_K_ref(const void *vx, float *y, int64_t n) {
    const ew_block_q8_K *x = vx;
    for (int64_t b = 0; b < n / EW_QK_K; b++, y += EW_QK_K) {
        for (int j = 0; j < EW_QK_K; j++) y[j] = x[b].d * x[b].qs[j];
    }
}

/* Q8_K . Q8_K: per block, sum(q * a) * d_w * d_a. */
float ew_vec_dot_q8_K_q8_K_ref(int64_t n, const void *vw, const void *va) {
    const ew_block_q8_K *w = vw;
    const ew_block_q8_K *a = va;
    float sum = 0;
    for (int64_t b = 0; b < n / EW_QK_K; b++) {
        int32_t s = 0;
        for (int j = 0; j < EW_QK_K; j++) s += w[b].qs[j] * a[b].qs[j];
        sum += (float)s * w[b].d * a[b].d;
    }
    return sum;
}
