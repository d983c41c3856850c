/* attention.h - RoPE + KV cache store + causal grouped-query attention for one layer, and
 * the shared output head. The SIMD work happens in the layer kernels (kernels/layer.h);
 * this file decides how the work is split across the session's thread pool. */
#ifndef EW_ATTENTION_H
#define EW_ATTENTION_H

#include "model/model_internal.h"

/* Decode splits a head's keys into at most this many parts (one per pool item). */
#define EW_ATTN_MAX_SPLIT 16

/* Floats of per-thread attention scratch a session of n_ctx positions needs. */
size_t ew_attention_scratch_floats(const ew_hparams *hp, int n_ctx);
/* Floats of the buffer for split-key decode parts (s->att_part). */
size_t ew_attention_part_floats(const ew_hparams *hp);

/* Once per forward call, before the layers: the RoPE cos/sin of positions n_past .. n_past
 * + n - 1 into s->rope_cs (shared by every head of every layer). */
void ew_attention_begin(ew_session *s, int n);
/* Rotate s->q and s->k of n tokens (positions n_past + t), append k/v to layer l's cache,
 * and write softmax(q k^T / sqrt(D)) v for every head into s->att_out. */
void ew_attention(ew_session *s, int l, int n, bool neox);
/* Final RMSNorm + output projection of tokens [first, n) into out. */
void ew_output_logits(ew_session *s, int first, int n, float *out);

#endif
