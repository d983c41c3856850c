/*
 * synth_internal.h - the parsed form of one data/presets.json entry, shared by
 * synth_preset.c (finding and parsing the file) and synth.c (planning and writing).
 */
#ifndef EW_SYNTH_INTERNAL_H
#define EW_SYNTH_INTERNAL_H

#include "model/synth.h"

/* One hyper-parameter, written as "<arch>.<key>". */
typedef struct synth_kv {
    char *key;
    bool is_float;
    uint32_t u;
    float f;
} synth_kv;

typedef struct synth_preset {
    char *name, *display_name, *hf_repo, *license, *arch;
    synth_kv *kv;
    size_t n_kv;
    bool tied;
    uint64_t n_params;
    /* llama3 rope scaling (rope_freqs.weight) */
    bool rope_llama3;
    double rope_factor, rope_low, rope_high, rope_orig_ctx;
    /* tokenizer */
    char *tok_file;           /* relative to the shared data dir; NULL: generate */
    char *tok_pre;            /* tokenizer.ggml.pre to record for the file (NULL: guess) */
    char *tok_generate;       /* "gpt2" or "llama": the kind generated when no file */
    int32_t bos, eos, pad;    /* -1: keep what the vocabulary says */
    int add_bos, add_eos;     /* -1: keep; 0/1 */
    char *chat_template;      /* inline text, or NULL */
    char *chat_template_file; /* relative to the shared data dir, or NULL */
} synth_preset;

/* Load data/presets.json and parse the entry called name into *out (fields ew_malloc'ed;
 * free with synth_preset_clear). Unknown name: EW_ERR_NOT_FOUND listing the valid ones. */
ew_status synth_preset_load(const char *name, synth_preset *out);
void synth_preset_clear(synth_preset *p);
/* The value of hparam key (without the arch prefix); false if absent. */
bool synth_preset_u32(const synth_preset *p, const char *key, uint32_t *out);
bool synth_preset_f32(const synth_preset *p, const char *key, float *out);

#endif
