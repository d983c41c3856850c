/*
 * tokenizer.h - tokenizers built from a GGUF's tokenizer.ggml.* metadata.
 *
 *   tokenizer.ggml.model = "llama": SentencePiece-style BPE over scores, byte fallback
 *                                    (<0xNN> tokens), U+2581 for spaces, a space prefix.
 *   tokenizer.ggml.model = "gpt2":  byte-level BPE with merge ranks; the pre-tokenizer
 *                                    regexes chosen by tokenizer.ggml.pre (PCRE2, UTF-8,
 *                                    Unicode properties).
 * Special/control tokens are kept intact when parse_special is set. BOS/EOS follow
 * tokenizer.ggml.add_bos_token / add_eos_token (defaults as llama.cpp: spm adds BOS).
 */
#ifndef EW_TOKENIZER_H
#define EW_TOKENIZER_H

#include "core/core.h"
#include "gguf/gguf.h"

typedef struct ew_tokenizer ew_tokenizer;

/* Build from metadata. The tokenizer copies what it keeps (f may be closed afterwards).
 * Errors name the key: "tokenizer.ggml.scores has 511 entries, tokens has 512". */
ew_status ew_tokenizer_load(const gguf_file *f, ew_tokenizer **out);
void ew_tokenizer_free(ew_tokenizer *t);

int ew_tokenizer_n_vocab(const ew_tokenizer *t);
int32_t ew_tokenizer_bos(const ew_tokenizer *t); /* -1 if none */
int32_t ew_tokenizer_eos(const ew_tokenizer *t); /* -1 if none */
bool ew_tokenizer_is_eog(const ew_tokenizer *t, int32_t id);
/* True when the tokenizer adds a space prefix (SPM): a decoder strips the leading space
 * of the first piece it prints after BOS, as sentencepiece does. */
bool ew_tokenizer_add_space_prefix(const ew_tokenizer *t);
/* True when encoding with add_special puts BOS first (tokenizer.ggml.add_bos_token). */
bool ew_tokenizer_add_bos(const ew_tokenizer *t);
/* The token's text as stored in the vocabulary (not decoded), or NULL for a bad id. */
const char *ew_tokenizer_piece(const ew_tokenizer *t, int32_t id);

/* Same contract as the public ew_tokenize(). */
ew_status ew_tokenizer_encode(const ew_tokenizer *t, const char *text, size_t len,
                              bool add_special, bool parse_special, int32_t *ids, size_t cap,
                              size_t *n_out);
/* Same contract as the public ew_token_to_bytes(). */
int ew_tokenizer_decode_token(const ew_tokenizer *t, int32_t id, bool render_special,
                              char *buf, size_t cap);
/* The streaming detokenizer of ew_detok_new() over a tokenizer directly (tests, tools). The
 * tokenizer must outlive it. Control tokens print nothing. */
ew_status ew_detok_new_from_tokenizer(const ew_tokenizer *t, ew_detok **out);

/* ---- vocabularies from tokenizer files (for synth and tests) ---- */

typedef struct ew_vocab_data {
    char *model;          /* "llama" or "gpt2" */
    char *pre;            /* tokenizer.ggml.pre, e.g. "smollm", "llama-bpe", "qwen2", "default" */
    uint32_t n_tokens;
    char **tokens;        /* as GGUF stores them (byte-level chars for gpt2, U+2581 for spm) */
    float *scores;        /* NULL for gpt2 */
    int32_t *token_type;  /* 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte */
    uint32_t n_merges;
    char **merges;        /* "a b" */
    int32_t bos, eos, eot, unk, pad;   /* -1 if none */
    bool add_bos, add_eos;
    char *chat_template;  /* may be NULL */
} ew_vocab_data;

/* Import a tokenizer file: HF tokenizer.json (added tokens included), a directory holding
 * vocab.json + merges.txt (+ tokenizer_config.json for added tokens), or a tiktoken ranks
 * file (Llama 3 tokenizer.model; merges derived from the ranks). pre names the
 * pre-tokenizer to record (NULL: guess from the file). */
ew_status ew_vocab_import(const char *path, const char *pre, ew_vocab_data **out);
/* A generated vocabulary of n tokens when no real one is at hand: model "llama" (SPM with
 * 256 byte tokens + <unk>,<s>,</s> + generated pieces) or "gpt2" (256 byte tokens +
 * generated merges). Deterministic for a given seed. */
ew_status ew_vocab_generate(const char *model, uint32_t n, uint64_t seed, ew_vocab_data **out);
void ew_vocab_data_free(ew_vocab_data *v);
/* Write tokenizer.ggml.* keys (model, pre, tokens, scores, token_type, merges, special ids,
 * add_bos/eos, chat_template). */
ew_status ew_vocab_write_gguf(const ew_vocab_data *v, gguf_writer *w);

#endif
