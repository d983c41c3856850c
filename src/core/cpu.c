/*
 * cpu.c - CPU features (read once), the kernel level in force, physical core count.
 *
 * x86-64: cpuid leaves 1 and 7 (subleaves 0 and 1) say what the CPU implements; XGETBV says
 * which register state the OS saves (XCR0 bits 1,2 = SSE/AVX YMM; bits 5,6,7 = AVX-512
 * opmask/ZMM). A feature counts only when both agree. aarch64 Linux: getauxval(AT_HWCAP*).
 *
 * The features are read once (pthread_once). The level is recomputed on every
 * ew_cpu_level_get() call from the cached features and the current value of env EW_CPU, so a
 * test (or a program) can setenv("EW_CPU", ...) at any time and the next call honours it.
 * Modules that dispatch once at start-up see the value in force at that moment.
 */
#include "core/cpu.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define EW_CPU_X86 1
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#define EW_CPU_ARM64_LINUX 1
#endif

static ew_cpu_features g_feat;
static bool g_avx512dq;           /* needed by the avx512 level (files build with -mavx512dq) */
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static char g_level_names[4][64]; /* ew_cpu_level_name() strings per level, built once */
static atomic_uint g_warned;      /* bit per requested level already warned about */

#if defined(EW_CPU_X86)
/* XCR0, the OS-enabled register state mask. Callers check OSXSAVE first. */
static uint64_t read_xcr0(void) {
    uint32_t lo, hi;
    __asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

/* Fill g_feat from cpuid + XGETBV. Features need both CPU support and OS register state. */
static void detect_x86(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return;
    bool osxsave = c & (1u << 27), avx = c & (1u << 28);
    bool fma = c & (1u << 12), f16c = c & (1u << 29);
    uint64_t xcr0 = osxsave ? read_xcr0() : 0;
    bool ymm_os = (xcr0 & 0x6) == 0x6;    /* XMM + YMM */
    bool zmm_os = (xcr0 & 0xe6) == 0xe6;  /* + opmask, ZMM_Hi256, Hi16_ZMM */
    unsigned max_leaf = __get_cpuid_max(0, NULL);
    unsigned b7 = 0, c7 = 0, a71 = 0;
    if (max_leaf >= 7) {
        __cpuid_count(7, 0, a, b7, c7, d);
        unsigned n_sub = a;
        if (n_sub >= 1) __cpuid_count(7, 1, a71, b, c, d);
    }
    bool ymm = avx && ymm_os;
    g_feat.avx2 = ymm && (b7 & (1u << 5));
    g_feat.fma = ymm && fma;
    g_feat.f16c = ymm && f16c;
    bool zmm = ymm && zmm_os;
    g_feat.avx512f = zmm && (b7 & (1u << 16));
    g_feat.avx512bw = g_feat.avx512f && (b7 & (1u << 30));
    g_feat.avx512vl = g_feat.avx512f && (b7 & (1u << 31));
    g_feat.avx512vnni = g_feat.avx512f && (c7 & (1u << 11));
    g_feat.avx512bf16 = g_feat.avx512f && (a71 & (1u << 5));
    g_avx512dq = g_feat.avx512f && (b7 & (1u << 17));
}
#endif

#if defined(EW_CPU_ARM64_LINUX)
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1UL << 1)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20)
#endif
#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1UL << 13)
#endif
/* Fill g_feat from the kernel's hardware capability words. */
static void detect_arm64(void) {
    unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
    g_feat.neon = hw & HWCAP_ASIMD;
    g_feat.dotprod = g_feat.neon && (hw & HWCAP_ASIMDDP);
    g_feat.i8mm = g_feat.neon && (hw2 & HWCAP2_I8MM);
}
#elif defined(__aarch64__)
/* Non-Linux aarch64 (e.g. macOS): NEON is architectural; dotprod/i8mm unknown -> off. */
static void detect_arm64(void) { g_feat.neon = true; }
#endif

/* Append ", name" (or " (name" for the first) to a level name when the flag is set. */
static void add_flag(char *buf, size_t cap, bool on, const char *name, bool *first) {
    if (!on) return;
    size_t len = strlen(buf);
    snprintf(buf + len, cap - len, "%s%s", *first ? " (" : ", ", name);
    *first = false;
}

/* Build the human-readable name of each level from the detected features. */
static void build_names(void) {
    for (int l = 0; l < 4; l++) {
        char *buf = g_level_names[l];
        size_t cap = sizeof g_level_names[l];
        snprintf(buf, cap, "%s", ew_cpu_level_str((ew_cpu_level)l));
        bool first = true;
        if (l == EW_CPU_AVX2) {
            add_flag(buf, cap, g_feat.fma, "fma", &first);
            add_flag(buf, cap, g_feat.f16c, "f16c", &first);
        } else if (l == EW_CPU_AVX512) {
            add_flag(buf, cap, g_feat.avx512vnni, "vnni", &first);
            add_flag(buf, cap, g_feat.avx512bf16, "bf16", &first);
        } else if (l == EW_CPU_NEON) {
            add_flag(buf, cap, g_feat.dotprod, "dotprod", &first);
            add_flag(buf, cap, g_feat.i8mm, "i8mm", &first);
        }
        if (!first) snprintf(buf + strlen(buf), cap - strlen(buf), ")");
    }
}

/* One-time detection (run under pthread_once). */
static void detect(void) {
#if defined(EW_CPU_X86)
    detect_x86();
#elif defined(__aarch64__)
    detect_arm64();
#endif
    build_names();
}

/* The machine's features (cached after the first call; thread-safe). */
const ew_cpu_features *ew_cpu_features_get(void) {
    pthread_once(&g_once, detect);
    return &g_feat;
}

/* Whether level l can run here: avx2 needs AVX2+FMA+F16C with OS YMM state; avx512 needs
 * that plus AVX-512 F/BW/VL/DQ with OS ZMM state (VNNI and BF16 are optional: kernels check
 * them); neon needs ASIMD. scalar always runs. */
bool ew_cpu_level_supported(ew_cpu_level l) {
    const ew_cpu_features *f = ew_cpu_features_get();
    bool avx2 = f->avx2 && f->fma && f->f16c;
    switch (l) {
    case EW_CPU_SCALAR: return true;
    case EW_CPU_AVX2: return avx2;
    case EW_CPU_AVX512: return avx2 && f->avx512f && f->avx512bw && f->avx512vl && g_avx512dq;
    case EW_CPU_NEON: return f->neon;
    }
    return false;
}

/* The best level this machine supports. */
static ew_cpu_level best_level(void) {
    if (ew_cpu_level_supported(EW_CPU_AVX512)) return EW_CPU_AVX512;
    if (ew_cpu_level_supported(EW_CPU_AVX2)) return EW_CPU_AVX2;
    if (ew_cpu_level_supported(EW_CPU_NEON)) return EW_CPU_NEON;
    return EW_CPU_SCALAR;
}

/* Warn once per process per distinct problem (bit = requested level, or 4 = unknown name). */
static bool first_warning(unsigned bit) {
    unsigned mask = 1u << bit;
    return !(atomic_fetch_or(&g_warned, mask) & mask);
}

/* Best supported level, or the one named by env EW_CPU (read on every call). An unknown name
 * or a level the machine lacks gives the best supported level and a warning (once). */
ew_cpu_level ew_cpu_level_get(void) {
    ew_cpu_level best = best_level();
    const char *env = getenv("EW_CPU");
    if (!env || !*env) return best;
    for (int l = 0; l < 4; l++) {
        if (strcmp(env, ew_cpu_level_str((ew_cpu_level)l)) != 0) continue;
        if (ew_cpu_level_supported((ew_cpu_level)l)) return (ew_cpu_level)l;
        if (first_warning((unsigned)l))
            ew_log(EW_LOG_WARN, "EW_CPU=%s: this CPU does not support it; using %s", env,
                   ew_cpu_level_str(best));
        return best;
    }
    if (first_warning(4))
        ew_log(EW_LOG_WARN, "EW_CPU=%s: unknown level (expected scalar, avx2, avx512 or neon); "
               "using %s", env, ew_cpu_level_str(best));
    return best;
}

/* Short name of a level: "scalar", "avx2", "avx512", "neon" ("unknown" otherwise). */
const char *ew_cpu_level_str(ew_cpu_level l) {
    switch (l) {
    case EW_CPU_SCALAR: return "scalar";
    case EW_CPU_AVX2: return "avx2";
    case EW_CPU_AVX512: return "avx512";
    case EW_CPU_NEON: return "neon";
    }
    return "unknown";
}

/* Name of the level in force with its optional extensions, e.g. "avx512 (vnni, bf16)". */
const char *ew_cpu_level_name(void) {
    ew_cpu_level l = ew_cpu_level_get();
    return g_level_names[l];
}

/* ---- physical cores --------------------------------------------------------------------- */

/* Read a small non-negative integer from a sysfs file; -1 if absent or malformed. */
static long read_sys_long(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long v = -1;
    if (fscanf(f, "%ld", &v) != 1) v = -1;
    fclose(f);
    return v;
}

/* Identity of the physical core that logical CPU `cpu` belongs to: (package, die, core) from
 * sysfs packed into 64 bits, or a unique per-CPU key when the topology is not readable. */
static uint64_t core_key(int cpu) {
    char path[128];
    long v[3];
    static const char *const names[3] = {"physical_package_id", "die_id", "core_id"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/%s", cpu, names[i]);
        v[i] = read_sys_long(path);
    }
    if (v[0] < 0 || v[2] < 0) return (1ull << 63) | (uint64_t)cpu;
    if (v[1] < 0) v[1] = 0;
    return ((uint64_t)(v[0] & 0xffff) << 40) | ((uint64_t)(v[1] & 0xff) << 32) |
           (uint64_t)(v[2] & 0xffffffff);
}

/* Physical cores this process may run on: unique (package, die, core) triples among the CPUs
 * of the affinity mask. Without an affinity mask: sysconf(_SC_NPROCESSORS_ONLN) CPUs. At
 * least 1. Not cached (the affinity can change); costs a few small file reads per CPU. */
int ew_cpu_physical_cores(void) {
    static uint64_t keys[CPU_SETSIZE];
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        if (n < 1) n = 1;
        CPU_ZERO(&set);
        for (long i = 0; i < n && i < CPU_SETSIZE; i++) CPU_SET((int)i, &set);
    }
    pthread_mutex_lock(&mu);
    int n_keys = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (!CPU_ISSET(cpu, &set)) continue;
        uint64_t k = core_key(cpu);
        bool dup = false;
        for (int j = 0; j < n_keys && !dup; j++) dup = keys[j] == k;
        if (!dup) keys[n_keys++] = k;
    }
    pthread_mutex_unlock(&mu);
    return n_keys > 0 ? n_keys : 1;
}
