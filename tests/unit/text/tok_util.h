/*
 * tok_util.h - helpers shared by the tokenizer tests: loading tokenizers from GGUF files or
 * from imported vocabularies (through the GGUF writer and reader, as a model would get
 * them), reading expected-id files, comparing id lists.
 */
#ifndef EW_TOK_UTIL_H
#define EW_TOK_UTIL_H

#include "test.h"
#include "text/tokenizer.h"

#include <stdint.h>

/* Path of a file under ../shared copied out of ew_test_shared's static buffer (NULL if absent). */
static inline char *tu_shared(const char *rel) {
    const char *p = ew_test_shared(rel);
    return p ? ew_strdup(p) : NULL;
}

/* A tokenizer from a GGUF file (NULL + message on failure). */
static inline ew_tokenizer *tu_from_gguf(const char *path) {
    gguf_file *f = NULL;
    ew_tokenizer *t = NULL;
    if (gguf_open(path, &f) != EW_OK) {
        fprintf(stderr, "gguf_open(%s): %s\n", path, ew_last_error());
        return NULL;
    }
    if (ew_tokenizer_load(f, &t) != EW_OK) fprintf(stderr, "ew_tokenizer_load(%s): %s\n", path, ew_last_error());
    gguf_close(f);
    return t;
}

/* Writes v's tokenizer keys to an in-memory GGUF and loads a tokenizer from it, as a model
 * file made by synth would be read. */
static inline ew_tokenizer *tu_from_vocab(const ew_vocab_data *v) {
    gguf_writer *w = gguf_writer_new();
    void *buf = NULL;
    size_t size = 0;
    gguf_file *f = NULL;
    ew_tokenizer *t = NULL;
    if (!w) return NULL;
    if (ew_vocab_write_gguf(v, w) != EW_OK || gguf_writer_write_mem(w, &buf, &size) != EW_OK) {
        fprintf(stderr, "writing vocab GGUF: %s\n", ew_last_error());
        gguf_writer_free(w);
        return NULL;
    }
    gguf_writer_free(w);
    if (gguf_open_memory(buf, size, true, "vocab.gguf", &f) != EW_OK) {
        fprintf(stderr, "gguf_open_memory: %s\n", ew_last_error());
        return NULL;
    }
    if (ew_tokenizer_load(f, &t) != EW_OK) fprintf(stderr, "ew_tokenizer_load: %s\n", ew_last_error());
    gguf_close(f);
    return t;
}

/* Imports ../shared/<rel> (pre may be NULL) and loads it through GGUF; NULL if absent. */
static inline ew_tokenizer *tu_from_import(const char *rel, const char *pre) {
    char *path = tu_shared(rel);
    if (!path) return NULL;
    ew_vocab_data *v = NULL;
    ew_tokenizer *t = NULL;
    if (ew_vocab_import(path, pre, &v) != EW_OK) fprintf(stderr, "ew_vocab_import(%s): %s\n", path, ew_last_error());
    else t = tu_from_vocab(v);
    ew_vocab_data_free(v);
    ew_free(path);
    return t;
}

/* Parses integers out of s[0..n) ("[1, 2, 3]" or " 1 2 3"); returns the count (may exceed
 * cap, then only cap were stored). */
static inline size_t tu_parse_ids(const char *s, size_t n, int32_t *ids, size_t cap) {
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        if ((s[i] >= '0' && s[i] <= '9') || (s[i] == '-' && i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '9')) {
            long v = 0;
            int neg = s[i] == '-';
            if (neg) i++;
            while (i < n && s[i] >= '0' && s[i] <= '9') v = v * 10 + (s[i++] - '0');
            if (k < cap) ids[k] = (int32_t)(neg ? -v : v);
            k++;
        } else i++;
    }
    return k;
}

/* Encodes text into a fresh array (*n ids); NULL on failure. */
static inline int32_t *tu_encode(const ew_tokenizer *t, const char *text, size_t len, bool add_special,
                                 bool parse_special, size_t *n) {
    size_t need = 0;
    ew_status st = ew_tokenizer_encode(t, text, len, add_special, parse_special, NULL, 0, &need);
    if (st != EW_OK && st != EW_ERR_RANGE) {
        fprintf(stderr, "encode: %s\n", ew_last_error());
        return NULL;
    }
    int32_t *ids = ew_malloc((need ? need : 1) * sizeof *ids);
    if (!ids) return NULL;
    if (ew_tokenizer_encode(t, text, len, add_special, parse_special, ids, need, n) != EW_OK) {
        fprintf(stderr, "encode: %s\n", ew_last_error());
        ew_free(ids);
        return NULL;
    }
    return ids;
}

/* Compares got[0..ng) with exp[0..ne); prints the first difference with context. */
static inline bool tu_same_ids(const char *label, const int32_t *got, size_t ng, const int32_t *exp, size_t ne) {
    size_t i = 0;
    while (i < ng && i < ne && got[i] == exp[i]) i++;
    if (i == ng && i == ne) return true;
    fprintf(stderr, "%s: ids differ at %zu (got %zu ids, expected %zu)\n  got:", label, i, ng, ne);
    for (size_t j = i > 3 ? i - 3 : 0; j < ng && j < i + 8; j++) fprintf(stderr, " %d", got[j]);
    fprintf(stderr, "\n  exp:");
    for (size_t j = i > 3 ? i - 3 : 0; j < ne && j < i + 8; j++) fprintf(stderr, " %d", exp[j]);
    fprintf(stderr, "\n");
    return false;
}

#endif
