/*
 * blocks.h - the block layouts of ggml's quantized types, byte for byte as they sit in a
 * GGUF file (little-endian), with a _Static_assert on each size so a padding mistake
 * cannot compile. Half-precision fields are raw IEEE binary16 bits (ew_fp16_to_fp32).
 *
 * A block holds QK elements; element i of a row is element i % QK of block i / QK.
 * Within a block, the packing (which nibble/bit holds which element) is documented beside
 * each struct; ew_dequantize_row_ref in quant_legacy.c / quant_k.c is the executable
 * definition, and tests/unit/quant/test_quant.c checks it against hand-built blocks.
 */
#ifndef EW_QUANT_BLOCKS_H
#define EW_QUANT_BLOCKS_H

#include <stdint.h>

typedef uint16_t ew_half; /* IEEE binary16 bits */

#define EW_QK4_0 32
#define EW_QK4_1 32
#define EW_QK5_0 32
#define EW_QK5_1 32
#define EW_QK8_0 32
#define EW_QK8_1 32
#define EW_QK_K 256
#define EW_K_SCALE_SIZE 12

/* Q4_0: x = (q - 8) * d. qs[j] low nibble = element j, high nibble = element j + 16. */
typedef struct {
    ew_half d;
    uint8_t qs[EW_QK4_0 / 2];
} ew_block_q4_0;
_Static_assert(sizeof(ew_block_q4_0) == 18, "Q4_0 block must be 18 bytes");

/* Q4_1: x = q * d + m. Nibble order as Q4_0. */
typedef struct {
    ew_half d;
    ew_half m;
    uint8_t qs[EW_QK4_1 / 2];
} ew_block_q4_1;
_Static_assert(sizeof(ew_block_q4_1) == 20, "Q4_1 block must be 20 bytes");

/* Q5_0: x = (q - 16) * d, q = nibble | (bit << 4). Nibbles as Q4_0; the fifth bit of
 * element j is bit j of qh read as a little-endian uint32 (so elements 16..31 use bits
 * 16..31). */
typedef struct {
    ew_half d;
    uint8_t qh[4];
    uint8_t qs[EW_QK5_0 / 2];
} ew_block_q5_0;
_Static_assert(sizeof(ew_block_q5_0) == 22, "Q5_0 block must be 22 bytes");

/* Q5_1: x = q * d + m, q packed as Q5_0. */
typedef struct {
    ew_half d;
    ew_half m;
    uint8_t qh[4];
    uint8_t qs[EW_QK5_1 / 2];
} ew_block_q5_1;
_Static_assert(sizeof(ew_block_q5_1) == 24, "Q5_1 block must be 24 bytes");

/* Q8_0: x = q * d. */
typedef struct {
    ew_half d;
    int8_t qs[EW_QK8_0];
} ew_block_q8_0;
_Static_assert(sizeof(ew_block_q8_0) == 34, "Q8_0 block must be 34 bytes");

/* Q8_1 (activations): x = q * d; s = fp16(d * sum(qs)), used by the Q4_1/Q5_1 dots. */
typedef struct {
    ew_half d;
    ew_half s;
    int8_t qs[EW_QK8_1];
} ew_block_q8_1;
_Static_assert(sizeof(ew_block_q8_1) == 36, "Q8_1 block must be 36 bytes");

/* Q4_K: 8 sub-blocks of 32; sub-block j: x = d * sc[j] * q - dmin * m[j], with the 6-bit
 * sc/m packed in scales[12] (see ew_k4_scale_min). qs: 4 chunks of 32 bytes; chunk c holds
 * sub-block 2c in the low nibbles and sub-block 2c + 1 in the high nibbles. */
typedef struct {
    ew_half d;
    ew_half dmin;
    uint8_t scales[EW_K_SCALE_SIZE];
    uint8_t qs[EW_QK_K / 2];
} ew_block_q4_K;
_Static_assert(sizeof(ew_block_q4_K) == 144, "Q4_K block must be 144 bytes");

/* Q5_K: as Q4_K with a fifth bit: element 64c + l (l < 32) takes bit 2c of qh[l],
 * element 64c + 32 + l takes bit 2c + 1 of qh[l]. */
typedef struct {
    ew_half d;
    ew_half dmin;
    uint8_t scales[EW_K_SCALE_SIZE];
    uint8_t qh[EW_QK_K / 8];
    uint8_t qs[EW_QK_K / 2];
} ew_block_q5_K;
_Static_assert(sizeof(ew_block_q5_K) == 176, "Q5_K block must be 176 bytes");

/* Q6_K: 16 sub-blocks of 16; x = d * scales[s] * (q - 32), q 6 bits. Two halves of 128
 * elements; in half h (ql += 64h, qh += 32h), for l < 32:
 *   element 128h + l      = ql[l] low  | (qh[l] bits 0-1) << 4
 *   element 128h + 32 + l = ql[l+32] low  | (qh[l] bits 2-3) << 4
 *   element 128h + 64 + l = ql[l] high | (qh[l] bits 4-5) << 4
 *   element 128h + 96 + l = ql[l+32] high | (qh[l] bits 6-7) << 4
 * and element e uses scales[e / 16]. */
typedef struct {
    uint8_t ql[EW_QK_K / 2];
    uint8_t qh[EW_QK_K / 4];
    int8_t scales[EW_QK_K / 16];
    ew_half d;
} ew_block_q6_K;
_Static_assert(sizeof(ew_block_q6_K) == 210, "Q6_K block must be 210 bytes");

/* Q8_K (activations for the K-quant dots): x = q * d (d is a float), bsums[g] = sum of
 * qs[16g .. 16g + 15]. */
typedef struct {
    float d;
    int8_t qs[EW_QK_K];
    int16_t bsums[EW_QK_K / 16];
} ew_block_q8_K;
_Static_assert(sizeof(ew_block_q8_K) == 292, "Q8_K block must be 292 bytes");

/* Sizes of the types we know but do not compute with, so a reader can size and skip them
 * (ggml-common.h); checked here so the traits table in quant.c cannot drift. */
#define EW_SIZE_Q2_K 84     /* scales[16] qs[64] d dmin */
#define EW_SIZE_Q3_K 110    /* hmask[32] qs[64] scales[12] d */
#define EW_SIZE_IQ2_XXS 66  /* d qs[32 x u16] */
#define EW_SIZE_IQ2_XS 74   /* d qs[32 x u16] scales[8] */
#define EW_SIZE_IQ3_XXS 98  /* d qs[96] */
#define EW_SIZE_IQ1_S 50    /* d qs[32] qh[8 x u16] */
#define EW_SIZE_IQ4_NL 18   /* d qs[16], 32 elements */
#define EW_SIZE_IQ3_S 110   /* d qs[64] qh[8] signs[32] scales[4] */
#define EW_SIZE_IQ2_S 82    /* d qs[64] qh[8] scales[8] */
#define EW_SIZE_IQ4_XS 136  /* d scales_h scales_l[4] qs[128] */
#define EW_SIZE_IQ1_M 56    /* qs[32] qh[16] scales[8] */
#define EW_SIZE_TQ1_0 54    /* qs[48] qh[4] d */
#define EW_SIZE_TQ2_0 66    /* qs[64] d */
#define EW_SIZE_MXFP4 17    /* e (E8M0) qs[16], 32 elements */
_Static_assert(EW_SIZE_Q2_K == 16 + 64 + 2 * 2, "Q2_K size");
_Static_assert(EW_SIZE_Q3_K == 32 + 64 + 12 + 2, "Q3_K size");
_Static_assert(EW_SIZE_IQ2_XXS == 2 + 32 * 2, "IQ2_XXS size");
_Static_assert(EW_SIZE_IQ2_XS == 2 + 32 * 2 + 8, "IQ2_XS size");
_Static_assert(EW_SIZE_IQ3_XXS == 2 + 96, "IQ3_XXS size");
_Static_assert(EW_SIZE_IQ1_S == 2 + 32 + 8 * 2, "IQ1_S size");
_Static_assert(EW_SIZE_IQ3_S == 2 + 64 + 8 + 32 + 4, "IQ3_S size");
_Static_assert(EW_SIZE_IQ2_S == 2 + 64 + 8 + 8, "IQ2_S size");
_Static_assert(EW_SIZE_IQ4_XS == 2 + 2 + 4 + 128, "IQ4_XS size");
_Static_assert(EW_SIZE_IQ1_M == 32 + 16 + 8, "IQ1_M size");
_Static_assert(EW_SIZE_TQ1_0 == (256 - 4 * 256 / 64) / 5 + 4 + 2, "TQ1_0 size");
_Static_assert(EW_SIZE_TQ2_0 == 64 + 2, "TQ2_0 size");

/*
 * The 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K block. Packing of
 * scales[12]: for j < 4, scales[j] low 6 bits = sc[j], scales[j + 4] low 6 bits = m[j];
 * for j >= 4, scales[j + 4] = (sc[j] & 15) | (m[j] & 15) << 4 and the top two bits of
 * sc[j] / m[j] sit in the top two bits of scales[j - 4] / scales[j].
 */
static inline void ew_k4_scale_min(int j, const uint8_t *scales, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = scales[j] & 63;
        *m = scales[j + 4] & 63;
    } else {
        *sc = (uint8_t)((scales[j + 4] & 0x0F) | ((scales[j - 4] >> 6) << 4));
        *m = (uint8_t)((scales[j + 4] >> 4) | ((scales[j] >> 6) << 4));
    }
}

/* Pack eight 6-bit scales and mins (each 0..63) into scales[12], inverse of the above. */
static inline void ew_k4_pack_scales(const uint8_t sc[8], const uint8_t m[8], uint8_t *scales) {
    for (int j = 0; j < 4; j++) {
        scales[j] = (uint8_t)((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
        scales[j + 4] = (uint8_t)((m[j] & 63) | ((m[j + 4] >> 4) << 6));
        scales[j + 8] = (uint8_t)((sc[j + 4] & 0x0F) | ((m[j + 4] & 0x0F) << 4));
    }
}

#endif
