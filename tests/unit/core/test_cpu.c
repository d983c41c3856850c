/* test_cpu.c - CPU features are consistent, EW_CPU lowers the level (read on every call),
 * level names, physical cores >= 1. */
#include "core/cpu.h"
#include "test.h"
#include <unistd.h>

static int g_warnings;

static void count_log(ew_log_level level, const char *msg, void *user) {
    (void)user;
    if (level == EW_LOG_WARN) g_warnings++;
    printf("log: %s\n", msg);
}

/* Features imply their prerequisites (as on every real machine). */
static void test_consistency(void) {
    const ew_cpu_features *f = ew_cpu_features_get();
    CHECK(f == ew_cpu_features_get());
    if (f->avx512f) CHECK(f->avx2 && f->fma);
    if (f->avx512bw || f->avx512vl || f->avx512vnni || f->avx512bf16) CHECK(f->avx512f);
    if (f->dotprod || f->i8mm) CHECK(f->neon);
#if defined(__x86_64__)
    CHECK(!f->neon);
#endif
#if defined(__aarch64__)
    CHECK(f->neon && !f->avx2 && !f->avx512f);
#endif
    printf("features: avx2=%d fma=%d f16c=%d avx512f=%d bw=%d vl=%d vnni=%d bf16=%d neon=%d "
           "dotprod=%d i8mm=%d\n", f->avx2, f->fma, f->f16c, f->avx512f, f->avx512bw,
           f->avx512vl, f->avx512vnni, f->avx512bf16, f->neon, f->dotprod, f->i8mm);
}

/* Level names; supported levels; the default level is the best supported one. */
static void test_levels(void) {
    unsetenv("EW_CPU");
    CHECK(strcmp(ew_cpu_level_str(EW_CPU_SCALAR), "scalar") == 0);
    CHECK(strcmp(ew_cpu_level_str(EW_CPU_AVX2), "avx2") == 0);
    CHECK(strcmp(ew_cpu_level_str(EW_CPU_AVX512), "avx512") == 0);
    CHECK(strcmp(ew_cpu_level_str(EW_CPU_NEON), "neon") == 0);
    CHECK(ew_cpu_level_supported(EW_CPU_SCALAR));
    if (ew_cpu_level_supported(EW_CPU_AVX512)) CHECK(ew_cpu_level_supported(EW_CPU_AVX2));
    ew_cpu_level l = ew_cpu_level_get();
    CHECK(ew_cpu_level_supported(l));
    for (int k = (int)l + 1; k <= (int)EW_CPU_AVX512; k++)
        if (l != EW_CPU_NEON) CHECKF(!ew_cpu_level_supported((ew_cpu_level)k), "level %d", k);
    const char *name = ew_cpu_level_name();
    CHECK(strncmp(name, ew_cpu_level_str(l), strlen(ew_cpu_level_str(l))) == 0);
    printf("level: %s\n", name);
}

/* EW_CPU=scalar forces scalar at once; an unsupported or unknown level falls back to the
 * best one with a warning (once). */
static void test_env(void) {
    unsetenv("EW_CPU");
    ew_cpu_level best = ew_cpu_level_get();
    setenv("EW_CPU", "scalar", 1);
    CHECK(ew_cpu_level_get() == EW_CPU_SCALAR);
    CHECK(strcmp(ew_cpu_level_name(), "scalar") == 0);
    if (ew_cpu_level_supported(EW_CPU_AVX2)) {
        setenv("EW_CPU", "avx2", 1);
        CHECK(ew_cpu_level_get() == EW_CPU_AVX2);
        CHECK(strncmp(ew_cpu_level_name(), "avx2", 4) == 0);
    }
    ew_set_log(count_log, NULL);
    const char *missing = ew_cpu_level_supported(EW_CPU_NEON) ? "avx512" : "neon";
    if (!ew_cpu_level_supported(strcmp(missing, "neon") == 0 ? EW_CPU_NEON : EW_CPU_AVX512)) {
        g_warnings = 0;
        setenv("EW_CPU", missing, 1);
        CHECK(ew_cpu_level_get() == best);
        CHECK(ew_cpu_level_get() == best);
        CHECK(g_warnings == 1);
    }
    g_warnings = 0;
    setenv("EW_CPU", "sse9", 1);
    CHECK(ew_cpu_level_get() == best);
    CHECK(g_warnings == 1);
    ew_set_log(NULL, NULL);
    unsetenv("EW_CPU");
    CHECK(ew_cpu_level_get() == best);
}

/* Physical cores: at least 1, at most the logical CPUs online. */
static void test_cores(void) {
    int cores = ew_cpu_physical_cores();
    long logical = sysconf(_SC_NPROCESSORS_ONLN);
    printf("physical cores: %d (logical online: %ld)\n", cores, logical);
    CHECK(cores >= 1);
    if (logical > 0) CHECK(cores <= logical);
}

int main(void) {
    test_consistency();
    test_levels();
    test_env();
    test_cores();
    return ew_test_end();
}
