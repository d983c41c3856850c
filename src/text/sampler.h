/*
 * sampler.h - internals of the sampler (src/text/sampler.c) shared with tests.
 * The public API (ew_sampler_*) is in edgewatt.h.
 */
#ifndef EW_SAMPLER_H
#define EW_SAMPLER_H

#include "core/core.h"

/* Run the filter part of the chain (repetition penalty -> top-k -> top-p -> min-p) on logits
 * without sampling or recording anything, and write the ids that ew_sampler_sample could
 * return to ids (at most cap of them): best first when a filter sorted them, in id order
 * otherwise. With temperature <= 0 that is the single greedy token. Returns the number of
 * candidates (which may exceed cap), or -1 if s or logits is NULL. Does not allocate. */
int ew_sampler_candidates(ew_sampler *s, const float *logits, int32_t *ids, int cap);

#endif
