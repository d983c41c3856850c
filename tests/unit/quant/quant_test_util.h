/*
 * quant_test_util.h - helpers shared by the quant tests: a seeded generator (splitmix64)
 * with uniform and gaussian draws, and FNV-1a hashing of byte buffers.
 */
#ifndef EW_QUANT_TEST_UTIL_H
#define EW_QUANT_TEST_UTIL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

typedef struct { uint64_t s; } qt_rng;

/* Next 64 random bits (splitmix64: every seed gives a full-period, well-mixed stream). */
static inline uint64_t qt_next(qt_rng *r) {
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in (0, 1): 53 random bits, never 0. */
static inline double qt_uniform(qt_rng *r) {
    return ((double)(qt_next(r) >> 11) + 0.5) * 0x1p-53;
}

/* Standard normal draw (Box-Muller, one value per call). */
static inline double qt_gauss(qt_rng *r) {
    double u1 = qt_uniform(r), u2 = qt_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Fill x[0..n) with sigma * N(0, 1) from seed. */
static inline void qt_fill_gauss(float *x, size_t n, uint64_t seed, double sigma) {
    qt_rng r = { seed };
    for (size_t i = 0; i < n; i++) x[i] = (float)(sigma * qt_gauss(&r));
}

/* FNV-1a 64-bit hash of n bytes. */
static inline uint64_t qt_fnv1a(const void *p, size_t n) {
    const unsigned char *b = p;
    uint64_t h = 0xCBF29CE484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001B3ull;
    }
    return h;
}

#endif
