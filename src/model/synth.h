/*
 * synth.h - synthetic models: a GGUF with random weights and the exact tensor shapes, types,
 * vocabulary and metadata of a real model, so speed and memory can be measured before
 * downloading anything. The models are described in data/presets.json (one entry per
 * model, every figure with its source); the quantization mixture is llama-quantize's
 * (model/ftype.h).
 *
 *   ew_synth *s;
 *   ew_synth_new("smollm2-135m", "Q4_K_M", 42, &s);   parse the preset, plan the tensors
 *   ew_synth_get_plan(s)->tensors ...                   inspect without generating data
 *   ew_synth_write_file(s, "out.gguf")                  or ew_synth_write_mem(s, &buf, &n)
 *   ew_synth_free(s);
 *
 * Weights are generated tensor by tensor, row by row, at write time (a 1.1B model at F16 is
 * 2.2 GB): deterministic for a seed, independent of the thread count. 2-D weights are
 * normal with std 0.02 (HF's initializer_range), norm weights 1.0, so activations stay
 * finite through every layer and perplexity is huge but finite.
 *
 * Files: env EW_DATA_DIR (the folder of presets.json), else the compile-time EW_DATA_DIR,
 * else <exe dir>/../share/edgewatt. Tokenizers and chat templates named by a preset are
 * read from the shared data root: env EW_SHARED + "/data", else <source>/../shared/data;
 * when absent, a generated vocabulary of the same size is used (same model kind).
 */
#ifndef EW_SYNTH_H
#define EW_SYNTH_H

#include "core/core.h"
#include "gguf/gguf.h"

/* How a tensor's values are made. */
typedef enum ew_synth_init {
    EW_SYNTH_INIT_NORMAL = 0,  /* N(0, 0.02^2) */
    EW_SYNTH_INIT_ONES,        /* 1.0 (norm weights) */
    EW_SYNTH_INIT_ROPE_FREQS   /* llama3 rope scaling factors (rope_freqs.weight) */
} ew_synth_init;

typedef struct ew_synth_tensor {
    char name[64];
    uint32_t n_dims;
    int64_t ne[GGUF_MAX_DIMS];  /* GGUF order: ne[0] = row length; unused dims = 1 */
    uint32_t type;              /* ggml type id */
    bool fallback;              /* llama-quantize's fallback type (row length vs block) */
    ew_synth_init init;
    uint64_t nbytes;
} ew_synth_tensor;

/* Everything decided before any data is generated. Strings are owned by the ew_synth. */
typedef struct ew_synth_plan {
    const char *preset;        /* "smollm2-135m" */
    const char *display_name;  /* "SmolLM2 135M" */
    const char *arch;          /* "llama" */
    int ftype;                 /* llama.cpp LLAMA_FTYPE_* (general.file_type) */
    const char *ftype_name;    /* "Q4_K_M" */
    uint64_t seed;
    int n_vocab, n_ctx_train, n_embd, n_layer, n_ff, n_head, n_head_kv, head_dim;
    bool tied_embeddings;      /* no output.weight: token_embd doubles as the output */
    bool rope_freqs;           /* llama3 rope scaling: a rope_freqs.weight tensor */
    uint32_t n_tensors;
    ew_synth_tensor *tensors;  /* in file order */
    uint64_t n_params;         /* elements of the model's weights (rope_freqs excluded) */
    uint64_t n_params_preset;  /* the figure the preset file states (0 if none) */
    uint64_t data_bytes;       /* tensor data, without alignment padding */
    uint32_t n_fallback;       /* tensors that got a fallback type */
    const char *vocab_file;    /* absolute path of the tokenizer file used, NULL: generated */
    const char *vocab_kind;    /* "gpt2" or "llama" (the generated kind when no file) */
} ew_synth_plan;

typedef struct ew_synth ew_synth;

/* Parse the preset, resolve the file type and plan every tensor (names, shapes, types). No
 * weight data is generated and the vocabulary is not read yet. Unknown preset or type:
 * EW_ERR_NOT_FOUND / EW_ERR_INVALID_ARG, a file type without a quantizer yet:
 * EW_ERR_UNSUPPORTED; each with a message listing the valid names. */
ew_status ew_synth_new(const char *preset, const char *type_name, uint64_t seed, ew_synth **out);
void ew_synth_free(ew_synth *s);
const ew_synth_plan *ew_synth_get_plan(const ew_synth *s);
/* Worker threads used to generate and quantize (default: physical cores). */
void ew_synth_set_threads(ew_synth *s, int n_threads);

/* The writer with all metadata (incl. the vocabulary) and tensors added; tensor data is
 * produced by fill callbacks when the writer writes. Built on the first call, owned by s
 * (valid until ew_synth_free); callers may add keys before writing. */
ew_status ew_synth_writer(ew_synth *s, gguf_writer **out);
/* Build the writer (if needed) and write a GGUF file / a fresh ew_malloc'ed image. */
ew_status ew_synth_write_file(ew_synth *s, const char *path);
ew_status ew_synth_write_mem(ew_synth *s, void **data, size_t *size);

/* Write the synthetic model to memory and load it as a model (what `bench --like` does);
 * the model owns the image and frees it with itself. */
ew_status ew_synth_load(ew_synth *s, const ew_model_params *params, ew_model **out);

/* The presets of the data file, in file order. */
typedef struct ew_synth_preset_info {
    char *name, *display_name, *arch, *hf_repo;
    uint64_t n_params;
} ew_synth_preset_info;
ew_status ew_synth_list(ew_synth_preset_info **out, size_t *n);
void ew_synth_list_free(ew_synth_preset_info *list, size_t n);
/* "F32, F16, BF16, Q8_0, ..." - the file types synth accepts (static string). */
const char *ew_synth_type_names(void);

/* The presets.json in use (after EW_DATA_DIR / compile-time / exe-relative lookup) and the
 * shared data root; written to buf (cap bytes). EW_ERR_NOT_FOUND names the places tried. */
ew_status ew_synth_presets_path(char *buf, size_t cap);
void ew_synth_shared_data_dir(char *buf, size_t cap);

#endif
