/*
 * cpu.h - CPU features, read once (cpuid + XGETBV for the OS's AVX/AVX-512 state on x86;
 * getauxval(AT_HWCAP) on aarch64), and the kernel level in force.
 */
#ifndef EW_CPU_H
#define EW_CPU_H

#include "core/core.h"

typedef struct ew_cpu_features {
    bool avx2, fma, f16c;                               /* with OS YMM state */
    bool avx512f, avx512bw, avx512vl, avx512vnni, avx512bf16; /* with OS ZMM/opmask state */
    bool neon, dotprod, i8mm;                           /* aarch64 */
} ew_cpu_features;

typedef enum ew_cpu_level {
    EW_CPU_SCALAR = 0, EW_CPU_AVX2 = 1, EW_CPU_AVX512 = 2, EW_CPU_NEON = 3
} ew_cpu_level;

const ew_cpu_features *ew_cpu_features_get(void);
/* Best level this machine supports, lowered by env EW_CPU=scalar|avx2|avx512|neon (asking
 * for a level the machine lacks falls back to the best supported one, with a warning). */
ew_cpu_level ew_cpu_level_get(void);
/* Whether the machine can run level l (tests iterate over levels with this). */
bool ew_cpu_level_supported(ew_cpu_level l);
const char *ew_cpu_level_str(ew_cpu_level l); /* "scalar", "avx2", ... */

#endif
