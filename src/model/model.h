/*
 * model.h - internal view of a loaded model (see model.c for loading and arch_*.c for the
 * forward passes).
 */
#ifndef EW_MODEL_H
#define EW_MODEL_H

#include "core/core.h"
#include "gguf/gguf.h"
#include "text/tokenizer.h"

/* The tokenizer built from the model's metadata (never NULL for a loaded model). */
const ew_tokenizer *ew_model_tokenizer(const ew_model *m);

#endif
