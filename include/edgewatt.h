/*
 * edgewatt.h - the one public API of libedgewatt.
 *
 * An on-device LLM runtime: load a GGUF model, tokenize, run prefill/decode on the CPU,
 * sample, detokenize. Every handle is opaque; every fallible call returns an ew_status and,
 * on failure, leaves a message in ew_last_error() that names the problem (file, offset,
 * field, expected vs found). No function of this library calls exit() or abort().
 */
#ifndef EDGEWATT_H
#define EDGEWATT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EW_VERSION_MAJOR 0
#define EW_VERSION_MINOR 1
#define EW_VERSION_PATCH 0
#define EW_VERSION_STRING "0.1.0"

/* ---- status codes ------------------------------------------------------------------------- */

typedef enum ew_status {
    EW_OK = 0,
    EW_ERR_INVALID_ARG,   /* a caller passed a bad value */
    EW_ERR_IO,            /* open/read/write/mmap failed (message carries errno text) */
    EW_ERR_FORMAT,        /* a file or request is malformed (message names offset/field) */
    EW_ERR_UNSUPPORTED,   /* well-formed but not supported: architecture, tensor type, ... */
    EW_ERR_NOMEM,         /* an allocation failed */
    EW_ERR_RANGE,         /* a value is out of range: prompt longer than the context, ... */
    EW_ERR_NOT_FOUND,     /* a key, tensor, token or file is absent */
    EW_ERR_INTERNAL       /* a bug: an invariant did not hold */
} ew_status;

/* Name of a status code, e.g. "format error". Never NULL. */
const char *ew_status_name(ew_status s);

/* The message of the last failing call on this thread ("" if none). Valid until the next
 * failing call on the same thread. */
const char *ew_last_error(void);

/* ---- logging and allocation ------------------------------------------------------------- */

typedef enum ew_log_level { EW_LOG_DEBUG = 0, EW_LOG_INFO, EW_LOG_WARN, EW_LOG_ERROR } ew_log_level;
typedef void (*ew_log_fn)(ew_log_level level, const char *msg, void *user);

/* Route library log lines to fn (NULL restores the default: WARN and above to stderr). */
void ew_set_log(ew_log_fn fn, void *user);
/* Minimum level passed to the callback (default EW_LOG_WARN). */
void ew_set_log_level(ew_log_level level);

/* A pluggable allocator (as in Lua): realloc semantics, free when nsize == 0.
 * Returns NULL on failure. Tests use it to inject out-of-memory at every allocation. */
typedef void *(*ew_alloc_fn)(void *user, void *ptr, size_t osize, size_t nsize);
/* Install an allocator; NULL restores the default (malloc/realloc/free). Not thread-safe:
 * call before creating any handle. */
void ew_set_allocator(ew_alloc_fn fn, void *user);

/* ---- CPU ------------------------------------------------------------------------------------ */

/* Physical core count (best effort; falls back to logical CPUs). */
int ew_cpu_physical_cores(void);
/* Human-readable description of the kernel level in use, e.g. "avx512 (vnni, bf16)". */
const char *ew_cpu_level_name(void);

/* ---- model ---------------------------------------------------------------------------------- */

typedef struct ew_model ew_model;

typedef struct ew_model_params {
    int n_threads;      /* 0 = physical cores */
    bool use_mmap;      /* true (default): weights are mmap'ed read-only */
} ew_model_params;

ew_model_params ew_model_default_params(void);

/* Load a GGUF model from path. On failure *out is NULL and ew_last_error() says why. */
ew_status ew_model_load(const char *path, const ew_model_params *params, ew_model **out);
/* Load from a GGUF image in memory. The buffer must outlive the model; if take_ownership,
 * it was allocated by the library (e.g. by synth) and passes to the model at the call: the
 * model frees it, and so does this function when it fails. */
ew_status ew_model_load_memory(void *data, size_t size, bool take_ownership, const char *name,
                               const ew_model_params *params, ew_model **out);
void ew_model_free(ew_model *m);

typedef struct ew_model_info {
    const char *arch;        /* "llama", ... */
    const char *name;        /* general.name or "" */
    int n_vocab, n_ctx_train, n_embd, n_layer, n_head, n_head_kv, n_ff, head_dim;
    uint64_t n_params;       /* parameters in weight tensors */
    uint64_t weight_bytes;   /* bytes of weight tensors in the file */
    const char *ftype_name;  /* dominant tensor type, e.g. "Q8_0" */
} ew_model_info;
void ew_model_get_info(const ew_model *m, ew_model_info *info);

/* ---- tokenizer (owned by the model) ------------------------------------------------------ */

/* Tokenize text. add_special: add BOS/EOS as the model's metadata asks. parse_special:
 * recognise special/control token text (e.g. "<|im_start|>") as single tokens.
 * Writes at most cap ids; *n_out receives the count needed (so a too-small cap returns
 * EW_ERR_RANGE with *n_out set). */
ew_status ew_tokenize(const ew_model *m, const char *text, size_t len, bool add_special,
                      bool parse_special, int32_t *ids, size_t cap, size_t *n_out);
/* The raw bytes a token stands for (after byte-fallback / byte-level decoding), written to
 * buf; returns the byte count (may exceed cap: then only cap bytes were written), or -1 for
 * an invalid id. Control tokens give their text only if render_special. */
int ew_token_to_bytes(const ew_model *m, int32_t id, bool render_special, char *buf, size_t cap);
int32_t ew_token_bos(const ew_model *m);
int32_t ew_token_eos(const ew_model *m);
/* True when ew_tokenize(add_special) puts BOS first (the model's add_bos_token). */
bool ew_token_add_bos(const ew_model *m);
/* True for end-of-generation tokens (EOS, EOT, <|im_end|> ...). */
bool ew_token_is_eog(const ew_model *m, int32_t id);
int ew_n_vocab(const ew_model *m);

/* ---- session: KV cache + forward pass ------------------------------------------------------ */

typedef struct ew_session ew_session;

typedef enum ew_kv_type { EW_KV_F16 = 0, EW_KV_F32 = 1 } ew_kv_type;

typedef struct ew_session_params {
    int n_ctx;          /* 0 = min(model's trained context, 4096) */
    int n_batch;        /* max tokens per prefill step (default 512) */
    ew_kv_type kv_type; /* default EW_KV_F16 */
    int n_threads;      /* 0 = the model's */
    bool all_logits;    /* keep room for the logits of every token of an eval (perplexity):
                           n_ctx x n_vocab floats */
} ew_session_params;

ew_session_params ew_session_default_params(void);
ew_status ew_session_new(ew_model *m, const ew_session_params *p, ew_session **out);
void ew_session_free(ew_session *s);
int ew_session_n_ctx(const ew_session *s);
int ew_session_n_past(const ew_session *s);
/* Drop cached positions >= n_keep (n_keep=0 clears the cache). */
ew_status ew_session_rewind(ew_session *s, int n_keep);

/* Evaluate n tokens at positions n_past..n_past+n-1 (in pieces of n_batch). If logits_all
 * (needs a session made with all_logits), the logits of every token are kept; otherwise
 * only those of the last. Returns EW_ERR_RANGE when the context would overflow. */
ew_status ew_session_eval(ew_session *s, const int32_t *tokens, int n, bool logits_all);
/* Logits of the i-th token of the last eval (i = -1: the last). n_vocab floats. */
const float *ew_session_logits(const ew_session *s, int i);

/* ---- sampling ------------------------------------------------------------------------------- */

typedef struct ew_sampler ew_sampler;

typedef struct ew_sampler_params {
    float temperature;      /* <= 0: greedy */
    int top_k;              /* <= 0: off */
    float top_p;            /* >= 1: off */
    float min_p;            /* <= 0: off */
    float repeat_penalty;   /* 1: off */
    int repeat_last_n;      /* window for the penalty (default 64) */
    uint64_t seed;
} ew_sampler_params;

ew_sampler_params ew_sampler_default_params(void);
ew_status ew_sampler_new(int n_vocab, const ew_sampler_params *p, ew_sampler **out);
void ew_sampler_free(ew_sampler *s);
/* Pick the next token from logits (not modified). Records it for the repetition penalty. */
int32_t ew_sampler_sample(ew_sampler *s, const float *logits);
/* Record a token (e.g. prompt tokens) for the repetition penalty without sampling. */
void ew_sampler_accept(ew_sampler *s, int32_t id);
void ew_sampler_reset(ew_sampler *s);

/* ---- streaming detokenizer ------------------------------------------------------------------ */

typedef struct ew_detok ew_detok;
ew_status ew_detok_new(const ew_model *m, ew_detok **out);
void ew_detok_free(ew_detok *d);
/* Feed one token; returns a NUL-terminated string of the complete UTF-8 text it makes
 * printable now (possibly ""), never a broken sequence. Valid until the next call. */
const char *ew_detok_push(ew_detok *d, int32_t id);
/* Flush what is left (incomplete sequences come out as U+FFFD). */
const char *ew_detok_flush(ew_detok *d);

/* ---- generation: prompt -> prefill -> decode loop -> streamed text ----------------------- */

typedef struct ew_gen_params {
    int n_predict;                 /* tokens to generate (< 0: until EOG or context full) */
    const char *const *stop;       /* user stop strings (may be NULL) */
    int n_stop;
    bool add_special;              /* add BOS/EOS per the model's metadata (default true) */
    bool parse_special;            /* special-token text in the prompt becomes those tokens */
    bool ignore_eos;               /* keep going past end-of-generation tokens */
} ew_gen_params;

typedef enum ew_stop_reason {
    EW_STOP_LENGTH = 0,   /* n_predict reached */
    EW_STOP_EOG,          /* the model ended its turn */
    EW_STOP_STRING,       /* a user stop string appeared (it is not emitted) */
    EW_STOP_CONTEXT,      /* the context is full */
    EW_STOP_CALLBACK      /* the callback asked to stop */
} ew_stop_reason;

typedef struct ew_gen_stats {
    int n_prompt, n_gen;
    double prefill_s, decode_s;    /* wall time of prompt evaluation and of the decode loop */
    double cpu_s;                  /* process CPU time over both */
    ew_stop_reason stop;
} ew_gen_stats;

/* Receives each piece of printable UTF-8 text as soon as it is complete (never a broken
 * sequence, never part of a stop string). Return false to stop. */
typedef bool (*ew_text_fn)(const char *text, size_t len, void *user);

ew_gen_params ew_gen_default_params(void);
/* Tokenize prompt, evaluate it after what the session already holds, then sample and
 * stream up to n_predict tokens. The sampler sees the prompt (repetition penalty). */
ew_status ew_generate(ew_session *s, ew_sampler *smp, const char *prompt, const ew_gen_params *p,
                      ew_text_fn on_text, void *user, ew_gen_stats *stats);
const char *ew_stop_reason_name(ew_stop_reason r);

#ifdef __cplusplus
}
#endif
#endif /* EDGEWATT_H */
