/*
 * test_quant.c - the type table, row sizes, half/bfloat16 conversions, and known-answer
 * tests of every block layout: hand-built blocks must dequantize to the values the layout
 * (ggml-common.h, restated in blocks.h) says. A quantize->dequantize round trip cannot catch
 * a layout that is wrong the same way in both directions; these can.
 */
#include "quant/quant_ref.h"
#include "test.h"
#include "quant_test_util.h"

#include <float.h>
#include <stdint.h>

static uint32_t bits_of(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float float_of(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/* ---- type table ------------------------------------------------------------------------ */

/* Block size and bytes per block of every ggml type, from ggml's type traits (ggml.c). */
static const struct { uint32_t id; const char *name; uint32_t blck, size; bool supported; } k_types[] = {
    { 0, "F32", 1, 4, true },        { 1, "F16", 1, 2, true },
    { 2, "Q4_0", 32, 18, true },     { 3, "Q4_1", 32, 20, true },
    { 6, "Q5_0", 32, 22, true },     { 7, "Q5_1", 32, 24, true },
    { 8, "Q8_0", 32, 34, true },     { 9, "Q8_1", 32, 36, true },
    { 10, "Q2_K", 256, 84, false },  { 11, "Q3_K", 256, 110, false },
    { 12, "Q4_K", 256, 144, true },  { 13, "Q5_K", 256, 176, true },
    { 14, "Q6_K", 256, 210, true },  { 15, "Q8_K", 256, 292, true },
    { 16, "IQ2_XXS", 256, 66, false }, { 17, "IQ2_XS", 256, 74, false },
    { 18, "IQ3_XXS", 256, 98, false }, { 19, "IQ1_S", 256, 50, false },
    { 20, "IQ4_NL", 32, 18, false }, { 21, "IQ3_S", 256, 110, false },
    { 22, "IQ2_S", 256, 82, false }, { 23, "IQ4_XS", 256, 136, false },
    { 24, "I8", 1, 1, false },       { 25, "I16", 1, 2, false },
    { 26, "I32", 1, 4, false },      { 27, "I64", 1, 8, false },
    { 28, "F64", 1, 8, false },      { 29, "IQ1_M", 256, 56, false },
    { 30, "BF16", 1, 2, true },      { 34, "TQ1_0", 256, 54, false },
    { 35, "TQ2_0", 256, 66, false }, { 39, "MXFP4", 32, 17, false },
};

static void test_traits(void) {
    for (size_t i = 0; i < EW_ARRAY_LEN(k_types); i++) {
        const ew_type_traits *t = ew_type_get(k_types[i].id);
        CHECKF(t != NULL, "type %u", k_types[i].id);
        if (!t) continue;
        CHECKF(strcmp(t->name, k_types[i].name) == 0, "%s vs %s", t->name, k_types[i].name);
        CHECKF(t->blck_size == k_types[i].blck && t->type_size == k_types[i].size,
               "%s: %u/%u, want %u/%u", t->name, t->blck_size, t->type_size, k_types[i].blck,
               k_types[i].size);
        CHECK(t->known);
        CHECKF(t->supported == k_types[i].supported, "%s supported", t->name);
        CHECK(ew_type_from_name(k_types[i].name) == (int)k_types[i].id);
        CHECK(strcmp(ew_type_name(k_types[i].id), k_types[i].name) == 0);
    }
    /* ids ggml never assigned or retired from GGUF, and ids past the end */
    const uint32_t unknown[] = { 4, 5, 31, 32, 33, 36, 37, 38, 40, 41, 99, 1000, UINT32_MAX };
    for (size_t i = 0; i < EW_ARRAY_LEN(unknown); i++) {
        CHECKF(ew_type_get(unknown[i]) == NULL, "id %u", unknown[i]);
        CHECK(strcmp(ew_type_name(unknown[i]), "unknown") == 0);
        CHECK(ew_row_size(unknown[i], 256) == 0);
    }
    CHECK(ew_type_from_name("q4_k") == EW_TYPE_Q4_K);
    CHECK(ew_type_from_name("bf16") == EW_TYPE_BF16);
    CHECK(ew_type_from_name("Q4_2") == -1);
    CHECK(ew_type_from_name("") == -1);
    CHECK(ew_type_from_name(NULL) == -1);

    /* vec_dot_type as ggml's CPU backend */
    const uint32_t vdt[][2] = {
        { EW_TYPE_F32, EW_TYPE_F32 },   { EW_TYPE_F16, EW_TYPE_F16 },   { EW_TYPE_BF16, EW_TYPE_BF16 },
        { EW_TYPE_Q4_0, EW_TYPE_Q8_0 }, { EW_TYPE_Q5_0, EW_TYPE_Q8_0 }, { EW_TYPE_Q8_0, EW_TYPE_Q8_0 },
        { EW_TYPE_Q4_1, EW_TYPE_Q8_1 }, { EW_TYPE_Q5_1, EW_TYPE_Q8_1 }, { EW_TYPE_Q4_K, EW_TYPE_Q8_K },
        { EW_TYPE_Q5_K, EW_TYPE_Q8_K }, { EW_TYPE_Q6_K, EW_TYPE_Q8_K },
    };
    for (size_t i = 0; i < EW_ARRAY_LEN(vdt); i++) {
        CHECKF(ew_type_get(vdt[i][0])->vec_dot_type == vdt[i][1], "%s", ew_type_name(vdt[i][0]));
    }
}

static void test_row_size(void) {
    CHECK(ew_row_size(EW_TYPE_F32, 3) == 12);
    CHECK(ew_row_size(EW_TYPE_F16, 7) == 14);
    CHECK(ew_row_size(EW_TYPE_Q4_0, 32) == 18);
    CHECK(ew_row_size(EW_TYPE_Q4_0, 4096) == 128 * 18);
    CHECK(ew_row_size(EW_TYPE_Q4_0, 33) == 0);
    CHECK(ew_row_size(EW_TYPE_Q4_0, 16) == 0);
    CHECK(ew_row_size(EW_TYPE_Q4_K, 512) == 288);
    CHECK(ew_row_size(EW_TYPE_Q4_K, 288) == 0);
    CHECK(ew_row_size(EW_TYPE_Q6_K, 4096) == 16 * 210);
    CHECK(ew_row_size(EW_TYPE_IQ4_XS, 256) == 136);
    CHECK(ew_row_size(EW_TYPE_Q8_0, 0) == 0);
    CHECK(ew_row_size(EW_TYPE_Q8_0, -32) == 0);
    CHECK(ew_row_size(EW_TYPE_F64, INT64_MAX) == 0); /* bytes overflow 64 bits */
    CHECK(ew_row_size(EW_TYPE_I8, INT64_MAX) == (size_t)INT64_MAX);
}

/* ---- half precision ---------------------------------------------------------------------- */

/* Value of binary16 h computed from the definition, in double. */
static double half_value(uint16_t h) {
    int e = (h >> 10) & 31, m = h & 1023;
    double v = e == 0 ? ldexp(m, -24) : ldexp(1024 + m, e - 25);
    return (h & 0x8000) ? -v : v;
}

static void test_fp16_exhaustive(void) {
    int bad_value = 0, bad_round_trip = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = ew_fp16_to_fp32((uint16_t)h);
        uint16_t back = ew_fp32_to_fp16(f);
        bool is_nan = (h & 0x7C00) == 0x7C00 && (h & 0x3FF);
        bool is_inf = (h & 0x7FFF) == 0x7C00;
        if (is_nan) {
            bad_value += !isnan(f);
            bad_round_trip += !((back & 0x7C00) == 0x7C00 && (back & 0x3FF)) || (back & 0x8000) != (h & 0x8000);
            continue;
        }
        if (is_inf) bad_value += !(isinf(f) && !!signbit(f) == !!(h & 0x8000));
        else bad_value += (double)f != half_value((uint16_t)h) || !!signbit(f) != !!(h & 0x8000);
        bad_round_trip += back != h;
    }
    CHECKF(bad_value == 0, "%d halves convert to the wrong float", bad_value);
    CHECKF(bad_round_trip == 0, "%d halves do not round-trip", bad_round_trip);
}

static void test_fp16_rounding(void) {
    const struct { float f; uint16_t h; } cases[] = {
        { 1.0f, 0x3C00 },
        { 1.0f + 0x1p-11f, 0x3C00 },            /* tie between 1 and 1+2^-10: even (1) */
        { 1.0f + 3 * 0x1p-11f, 0x3C02 },        /* tie between 1+2^-10 and 1+2^-9: even */
        { 1.0f + 0x1p-11f + 0x1p-20f, 0x3C01 }, /* just above the tie */
        { -1.0f - 0x1p-11f, 0xBC00 },
        { 65504.0f, 0x7BFF },                   /* largest half */
        { 65519.99f, 0x7BFF },
        { 65520.0f, 0x7C00 },                   /* tie with 2^16: even = overflow to inf */
        { 1e10f, 0x7C00 },
        { -INFINITY, 0xFC00 },
        { 0x1p-14f, 0x0400 },                   /* smallest normal */
        { 0x1p-24f, 0x0001 },                   /* smallest subnormal */
        { 0x1p-25f, 0x0000 },                   /* tie between 0 and 2^-24: even (0) */
        { 0x1p-25f * 1.0000001f, 0x0001 },
        { 3 * 0x1p-25f, 0x0002 },               /* tie between 1 and 2 ulps: even */
        { 5 * 0x1p-25f, 0x0002 },               /* tie between 2 and 3 ulps: even */
        { 1023.5f * 0x1p-24f, 0x0400 },         /* tie at the subnormal/normal boundary */
        { 0x1p-26f, 0x0000 },
        { -0x1p-30f, 0x8000 },                  /* underflow keeps the sign */
        { -0.0f, 0x8000 },
        { 2048.0f + 1.0f, 0x6800 },             /* tie at ulp 2: even (2048) */
        { 2048.0f + 3.0f, 0x6802 },
    };
    for (size_t i = 0; i < EW_ARRAY_LEN(cases); i++) {
        uint16_t h = ew_fp32_to_fp16(cases[i].f);
        CHECKF(h == cases[i].h, "fp16(%a) = 0x%04x, want 0x%04x", (double)cases[i].f, h, cases[i].h);
    }
    uint16_t qnan = ew_fp32_to_fp16(float_of(0x7F800001u)); /* a signalling NaN */
    CHECKF((qnan & 0x7E00) == 0x7E00, "NaN -> 0x%04x is not a quiet NaN", qnan);
    CHECK(ew_fp32_to_fp16(-NAN) & 0x8000);
}

/* Compare with the compiler's own _Float16 conversion (libgcc), on a sweep of all float
 * bit patterns with a stride that hits every exponent and many mantissas. */
static void test_fp16_vs_compiler(void) {
#if defined(__FLT16_MAX__)
    int bad = 0;
    for (uint64_t u = 0; u < (1ull << 32); u += 997) {
        float f = float_of((uint32_t)u);
        if (isnan(f)) continue;
        _Float16 c = (_Float16)f;
        uint16_t ch;
        memcpy(&ch, &c, 2);
        if (ew_fp32_to_fp16(f) != ch && bad++ < 5) {
            fprintf(stderr, "fp16(%a): 0x%04x, compiler 0x%04x\n", (double)f, ew_fp32_to_fp16(f), ch);
        }
    }
    CHECKF(bad == 0, "%d conversions differ from _Float16", bad);
#endif
}

static void test_bf16(void) {
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = ew_bf16_to_fp32((uint16_t)h);
        bad += bits_of(f) != h << 16;
        uint16_t back = ew_fp32_to_bf16(f);
        if (isnan(f)) bad += !isnan(ew_bf16_to_fp32(back));
        else bad += back != h;
    }
    CHECKF(bad == 0, "%d bfloat16 values do not round-trip", bad);
    const struct { uint32_t f; uint16_t h; } cases[] = {
        { 0x3F808000u, 0x3F80 }, /* tie: even (down) */
        { 0x3F818000u, 0x3F82 }, /* tie: even (up) */
        { 0x3F808001u, 0x3F81 }, /* above the tie */
        { 0x3F807FFFu, 0x3F80 },
        { 0xBF818000u, 0xBF82 },
        { 0x7F7FFFFFu, 0x7F80 }, /* FLT_MAX rounds to inf */
        { 0x7F800000u, 0x7F80 },
        { 0x00018000u, 0x0002 }, /* subnormals are rounded, not flushed */
        { 0x00010000u, 0x0001 },
        { 0x7F800001u, 0x7FC0 }, /* signalling NaN made quiet */
        { 0xFFC00001u, 0xFFC0 },
    };
    for (size_t i = 0; i < EW_ARRAY_LEN(cases); i++) {
        uint16_t h = ew_fp32_to_bf16(float_of(cases[i].f));
        CHECKF(h == cases[i].h, "bf16(0x%08x) = 0x%04x, want 0x%04x", cases[i].f, h, cases[i].h);
    }
}

/* ---- known answers ---------------------------------------------------------------------------- */

/* Dequantize one hand-built block of `type` and compare with want[0..n). */
static void check_block(uint32_t type, const void *blk, const float *want, int n) {
    float got[EW_QK_K];
    ew_dequantize_row_ref(type, blk, got, n);
    int bad = 0;
    for (int i = 0; i < n; i++) {
        if (got[i] != want[i] && bad++ < 4) {
            fprintf(stderr, "%s element %d: %g, want %g\n", ew_type_name(type), i, got[i], want[i]);
        }
    }
    CHECKF(bad == 0, "%s: %d elements differ", ew_type_name(type), bad);
}

/* Q4_0 with d = 0.5, qs[j] = j | (15 - j) << 4: element j = (j - 8) / 2, element 16 + j =
 * (7 - j) / 2. */
static void test_known_q4_0(void) {
    ew_block_q4_0 b = { .d = 0x3800 };
    float want[32];
    for (int j = 0; j < 16; j++) {
        b.qs[j] = (uint8_t)(j | (15 - j) << 4);
        want[j] = (j - 8) * 0.5f;
        want[16 + j] = (7 - j) * 0.5f;
    }
    check_block(EW_TYPE_Q4_0, &b, want, 32);
    CHECK(want[0] == -4.0f && want[16] == 3.5f);
}

/* Q4_1 with d = 0.25, m = -1: element j = q * 0.25 - 1. */
static void test_known_q4_1(void) {
    ew_block_q4_1 b = { .d = 0x3400, .m = 0xBC00 };
    float want[32];
    for (int j = 0; j < 16; j++) {
        b.qs[j] = (uint8_t)(j | (j ^ 5) << 4);
        want[j] = j * 0.25f - 1;
        want[16 + j] = (j ^ 5) * 0.25f - 1;
    }
    check_block(EW_TYPE_Q4_1, &b, want, 32);
}

/* Q5_0/Q5_1: qh bytes A5 0F 00 F0 are the little-endian mask 0xF0000FA5: element j has
 * the fifth bit (value 16) iff bit j of the mask is set. */
static void test_known_q5(void) {
    const uint32_t mask = 0xF0000FA5u;
    ew_block_q5_0 b0 = { .d = 0x3000, .qh = { 0xA5, 0x0F, 0x00, 0xF0 } };           /* d = 1/8 */
    ew_block_q5_1 b1 = { .d = 0x3000, .m = 0x4000, .qh = { 0xA5, 0x0F, 0x00, 0xF0 } }; /* m = 2 */
    float want0[32], want1[32];
    for (int j = 0; j < 16; j++) {
        b0.qs[j] = b1.qs[j] = (uint8_t)(j | (15 - j) << 4);
    }
    for (int e = 0; e < 32; e++) {
        int q = (e < 16 ? e : 31 - e) + (int)((mask >> e) & 1) * 16;
        want0[e] = (q - 16) * 0.125f;
        want1[e] = q * 0.125f + 2;
    }
    check_block(EW_TYPE_Q5_0, &b0, want0, 32);
    check_block(EW_TYPE_Q5_1, &b1, want1, 32);
    CHECK(want0[0] == 0.125f * (0 + 16 - 16) && want0[31] == 0.125f * (0 + 16 - 16));
    CHECK(want0[1] == 0.125f * (1 - 16) && want0[8] == 0.125f * (8 + 16 - 16));
}

/* Q8_0 (d = 1/16), Q8_1 (d = 1), Q8_K (float d = 0.75). */
static void test_known_q8(void) {
    ew_block_q8_0 b0 = { .d = 0x2C00 };
    ew_block_q8_1 b1 = { .d = 0x3C00, .s = 0x1234 };
    static ew_block_q8_K bk = { .d = 0.75f };
    float want0[32], want1[32], wantk[256];
    for (int j = 0; j < 32; j++) {
        b0.qs[j] = (int8_t)(j * 8 - 128);
        want0[j] = (j * 8 - 128) / 16.0f;
        b1.qs[j] = (int8_t)(100 - 7 * j);
        want1[j] = (float)(100 - 7 * j);
    }
    for (int j = 0; j < 256; j++) {
        bk.qs[j] = (int8_t)(j - 128);
        wantk[j] = (j - 128) * 0.75f;
    }
    check_block(EW_TYPE_Q8_0, &b0, want0, 32);
    check_block(EW_TYPE_Q8_1, &b1, want1, 32);
    check_block(EW_TYPE_Q8_K, &bk, wantk, 256);
}

/* Q4_K / Q5_K scales: sc = {1,2,3,4,17,33,50,63}, m = {5,6,7,8,20,40,63,1}, packed by hand:
 *   bytes 0-3  = sc[0..3] | (sc[4..7] >> 4) << 6  = 41 82 C3 C4
 *   bytes 4-7  = m[0..3]  | (m[4..7] >> 4) << 6   = 45 86 C7 08
 *   bytes 8-11 = (sc[4..7] & 15) | (m[4..7] & 15) << 4 = 41 81 F2 1F */
static const uint8_t k_scales[12] = { 0x41, 0x82, 0xC3, 0xC4, 0x45, 0x86, 0xC7, 0x08, 0x41, 0x81, 0xF2, 0x1F };
static const uint8_t k_sc[8] = { 1, 2, 3, 4, 17, 33, 50, 63 };
static const uint8_t k_m[8] = { 5, 6, 7, 8, 20, 40, 63, 1 };

static void test_k_scale_packing(void) {
    for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        ew_k4_scale_min(j, k_scales, &sc, &m);
        CHECKF(sc == k_sc[j] && m == k_m[j], "sub-block %d: %u/%u", j, sc, m);
    }
    uint8_t packed[12];
    ew_k4_pack_scales(k_sc, k_m, packed);
    CHECK(memcmp(packed, k_scales, 12) == 0);
}

/* Q4_K with d = 0.5, dmin = 0.25, qs[i] = 7i + 3: element 64c + r takes nibble (r < 32 ? low :
 * high) of qs[32c + r % 32] and sub-block 2c + (r >= 32). */
static void test_known_q4_K(void) {
    ew_block_q4_K b = { .d = 0x3800, .dmin = 0x3400 };
    memcpy(b.scales, k_scales, 12);
    for (int i = 0; i < 128; i++) b.qs[i] = (uint8_t)(7 * i + 3);
    float want[256];
    for (int e = 0; e < 256; e++) {
        int c = e / 64, r = e % 64, sb = 2 * c + (r >= 32);
        uint8_t byte = b.qs[32 * c + r % 32];
        int q = r < 32 ? byte & 15 : byte >> 4;
        want[e] = 0.5f * k_sc[sb] * q - 0.25f * k_m[sb];
    }
    /* spot values by hand: e0: q = 3 (qs[0] = 0x03 low), sb 0 -> 0.5*1*3 - 0.25*5 = 0.25;
     * e32: q = 0 (qs[0] high), sb 1 -> -1.5; e255: qs[127] = 0x7C high = 7, sb 7 ->
     * 0.5*63*7 - 0.25 = 220.25 */
    CHECK(want[0] == 0.25f && want[32] == -1.5f && want[255] == 220.25f);
    check_block(EW_TYPE_Q4_K, &b, want, 256);
}

/* Q5_K: as Q4_K plus qh[l] = 37l + 11; the fifth bit of element 64c + r is bit
 * 2c + (r >= 32) of qh[r % 32]. */
static void test_known_q5_K(void) {
    ew_block_q5_K b = { .d = 0x3800, .dmin = 0x3400 };
    memcpy(b.scales, k_scales, 12);
    for (int i = 0; i < 128; i++) b.qs[i] = (uint8_t)(7 * i + 3);
    for (int l = 0; l < 32; l++) b.qh[l] = (uint8_t)(37 * l + 11);
    float want[256];
    for (int e = 0; e < 256; e++) {
        int c = e / 64, r = e % 64, sb = 2 * c + (r >= 32);
        uint8_t byte = b.qs[32 * c + r % 32];
        int q = (r < 32 ? byte & 15 : byte >> 4) + 16 * ((b.qh[r % 32] >> sb) & 1);
        want[e] = 0.5f * k_sc[sb] * q - 0.25f * k_m[sb];
    }
    /* by hand: qh[0] = 0x0B: bits 0,1,3 set. e0: q = 3 + 16 -> 0.5*19 - 1.25 = 8.25;
     * e32: q = 0 + 16, sb 1 -> 0.5*2*16 - 1.5 = 14.5; e64: qs[32] = 0xE3 low = 3, bit 2 of
     * 0x0B clear, sb 2 -> 0.5*3*3 - 1.75 = 2.75 */
    CHECK(want[0] == 8.25f && want[32] == 14.5f && want[64] == 2.75f);
    check_block(EW_TYPE_Q5_K, &b, want, 256);
}

/* Q6_K with d = 0.5, scales s = {1,-2,3,...,15,-128}, ql[i] = 13i, qh[i] = 29i + 7, by the
 * bit map in blocks.h. */
static void test_known_q6_K(void) {
    static const int8_t sc[16] = { 1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12, 13, -14, 15, -128 };
    ew_block_q6_K b = { .d = 0x3800 };
    memcpy(b.scales, sc, 16);
    for (int i = 0; i < 128; i++) b.ql[i] = (uint8_t)(13 * i);
    for (int i = 0; i < 64; i++) b.qh[i] = (uint8_t)(29 * i + 7);
    float want[256];
    for (int e = 0; e < 256; e++) {
        int h = e / 128, r = e % 128, quarter = r / 32, l = r % 32;
        uint8_t lo_byte = b.ql[64 * h + l + (quarter & 1) * 32];
        int lo = quarter < 2 ? lo_byte & 15 : lo_byte >> 4;
        int hi = (b.qh[32 * h + l] >> (2 * quarter)) & 3;
        want[e] = 0.5f * sc[e / 16] * ((lo | hi << 4) - 32);
    }
    /* by hand: e0: ql[0] = 0 low, qh[0] = 7 bits 0-1 = 3 -> q = 48 - 32 = 16, s = 1 -> 8;
     * e32: ql[32] = 0xA0 low = 0, qh bits 2-3 of 7 = 1 -> 16 - 32 = -16, s[2] = 3 -> -24;
     * e64: ql[0] high = 0, bits 4-5 = 0 -> -32, s[4] = 5 -> -80 */
    CHECK(want[0] == 8.0f && want[32] == -24.0f && want[64] == -80.0f);
    check_block(EW_TYPE_Q6_K, &b, want, 256);
}

/* Float types: a known bit pattern of each. */
static void test_known_float(void) {
    const uint16_t h[4] = { 0x3C00, 0xC000, 0x0001, 0x7BFF };
    const float want_h[4] = { 1.0f, -2.0f, 0x1p-24f, 65504.0f };
    check_block(EW_TYPE_F16, h, want_h, 4);
    const uint16_t bf[3] = { 0x3F80, 0xC040, 0x4049 };
    const float want_bf[3] = { 1.0f, -3.0f, 3.140625f };
    check_block(EW_TYPE_BF16, bf, want_bf, 3);
    const float f[2] = { 1.5f, -FLT_MAX };
    check_block(EW_TYPE_F32, f, f, 2);
}

/* Unsupported types: dequantize gives NaN, the dot NaN, quantize writes nothing. */
static void test_unsupported(void) {
    uint8_t blk[EW_SIZE_Q2_K];
    memset(blk, 0xAB, sizeof blk);
    float y[256];
    ew_dequantize_row_ref(EW_TYPE_Q2_K, blk, y, 256);
    CHECK(isnan(y[0]) && isnan(y[255]));
    CHECK(isnan(ew_vec_dot_ref(EW_TYPE_IQ4_XS, 256, blk, blk)));
    float x[256] = { 0 };
    ew_quantize_row_ref(EW_TYPE_Q3_K, x, blk, 256);
    CHECK(blk[0] == 0xAB && blk[sizeof blk - 1] == 0xAB);
    ew_dequantize_row_ref(99, blk, y, 4);
    CHECK(isnan(y[3]));
}

int main(void) {
    test_traits();
    test_row_size();
    test_fp16_exhaustive();
    test_fp16_rounding();
    test_fp16_vs_compiler();
    test_bf16();
    test_k_scale_packing();
    test_known_q4_0();
    test_known_q4_1();
    test_known_q5();
    test_known_q8();
    test_known_q4_K();
    test_known_q5_K();
    test_known_q6_K();
    test_known_float();
    test_unsupported();
    return ew_test_end();
}
