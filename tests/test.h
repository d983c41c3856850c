/*
 * test.h - a tiny test harness: CHECK macros that count failures and say where, and helpers
 * to find ../shared. A test program returns ew_test_end() (0 = pass, 1 = fail, 77 = skip).
 */
#ifndef EW_TEST_H
#define EW_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ew_test_failures;
static int ew_test_checks;

#define CHECK(cond)                                                                           \
    do {                                                                                      \
        ew_test_checks++;                                                                     \
        if (!(cond)) {                                                                        \
            ew_test_failures++;                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);          \
        }                                                                                     \
    } while (0)

#define CHECKF(cond, ...)                                                                     \
    do {                                                                                      \
        ew_test_checks++;                                                                     \
        if (!(cond)) {                                                                        \
            ew_test_failures++;                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);          \
            fprintf(stderr, __VA_ARGS__);                                                     \
            fputc('\n', stderr);                                                              \
        }                                                                                     \
    } while (0)

/* Check a call returns EW_OK; print ew_last_error() otherwise. */
#define CHECK_OK(call)                                                                        \
    do {                                                                                      \
        ew_status st_ = (call);                                                               \
        ew_test_checks++;                                                                     \
        if (st_ != EW_OK) {                                                                   \
            ew_test_failures++;                                                               \
            fprintf(stderr, "%s:%d: %s -> %s: %s\n", __FILE__, __LINE__, #call,               \
                    ew_status_name(st_), ew_last_error());                                    \
        }                                                                                     \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                 \
    CHECKF(fabs((double)(a) - (double)(b)) <= (tol), "%g vs %g (tol %g)", (double)(a),       \
           (double)(b), (double)(tol))

/* Path of a file under ../shared (env EW_SHARED, set by ctest); NULL if absent. */
static inline const char *ew_test_shared(const char *rel) {
    static char buf[4096];
    const char *root = getenv("EW_SHARED");
    if (!root) root = "../shared";
    snprintf(buf, sizeof buf, "%s/%s", root, rel);
    FILE *f = fopen(buf, "rb");
    if (!f) return NULL;
    fclose(f);
    return buf;
}

/* Path of a file in the source tree (env EW_SOURCE). */
static inline const char *ew_test_source(const char *rel) {
    static char buf[4096];
    const char *root = getenv("EW_SOURCE");
    if (!root) root = ".";
    snprintf(buf, sizeof buf, "%s/%s", root, rel);
    return buf;
}

static inline int ew_test_end(void) {
    if (ew_test_failures) {
        fprintf(stderr, "%d of %d checks failed\n", ew_test_failures, ew_test_checks);
        return 1;
    }
    printf("%d checks passed\n", ew_test_checks);
    return 0;
}

#define EW_TEST_SKIP(why)                                                                     \
    do {                                                                                      \
        printf("skipped: %s\n", why);                                                         \
        return 77;                                                                            \
    } while (0)

#endif
