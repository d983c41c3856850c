/* alloc.c - allocation through a pluggable allocator (Lua-style), so tests can inject OOM.
 * Each block carries a 16-byte header with its size, so the allocator sees osize. */
#include "core.h"
#include <stdlib.h>
#include <string.h>

static void *default_alloc(void *user, void *ptr, size_t osize, size_t nsize) {
    (void)user; (void)osize;
    if (nsize == 0) { free(ptr); return NULL; }
    return realloc(ptr, nsize);
}

static ew_alloc_fn g_alloc = default_alloc;
static void *g_alloc_user;

void ew_set_allocator(ew_alloc_fn fn, void *user) {
    g_alloc = fn ? fn : default_alloc;
    g_alloc_user = fn ? user : NULL;
}

#define HDR 16

void *ew_malloc(size_t size) {
    size_t total;
    if (!ew_add_size(size, HDR, &total)) return NULL;
    unsigned char *p = g_alloc(g_alloc_user, NULL, 0, total);
    if (!p) return NULL;
    memcpy(p, &size, sizeof size);
    return p + HDR;
}

void *ew_calloc(size_t n, size_t size) {
    size_t total;
    if (!ew_mul_size(n, size, &total)) return NULL;
    void *p = ew_malloc(total);
    if (p) memset(p, 0, total);
    return p;
}

void *ew_realloc(void *ptr, size_t size) {
    if (!ptr) return ew_malloc(size);
    unsigned char *base = (unsigned char *)ptr - HDR;
    size_t old, total;
    memcpy(&old, base, sizeof old);
    if (!ew_add_size(size, HDR, &total)) return NULL;
    unsigned char *p = g_alloc(g_alloc_user, base, old + HDR, total);
    if (!p) return NULL;
    memcpy(p, &size, sizeof size);
    return p + HDR;
}

void ew_free(void *ptr) {
    if (!ptr) return;
    unsigned char *base = (unsigned char *)ptr - HDR;
    size_t old;
    memcpy(&old, base, sizeof old);
    g_alloc(g_alloc_user, base, old + HDR, 0);
}

char *ew_strndup(const char *s, size_t n) {
    char *p = ew_malloc(n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *ew_strdup(const char *s) { return ew_strndup(s, strlen(s)); }

/* Aligned blocks: over-allocate by 64 and keep the original pointer just before the
 * aligned address. */
void *ew_malloc_aligned(size_t size) {
    size_t total;
    if (!ew_add_size(size, 64 + sizeof(void *), &total)) return NULL;
    unsigned char *raw = ew_malloc(total);
    if (!raw) return NULL;
    uintptr_t a = ((uintptr_t)raw + sizeof(void *) + 63) & ~(uintptr_t)63;
    memcpy((void *)(a - sizeof(void *)), &raw, sizeof raw);
    return (void *)a;
}

void ew_free_aligned(void *p) {
    if (!p) return;
    void *raw;
    memcpy(&raw, (unsigned char *)p - sizeof(void *), sizeof raw);
    ew_free(raw);
}
