/* attention.h - RoPE + KV cache store + causal grouped-query attention for one layer, and
 * the shared output head. */
#ifndef EW_ATTENTION_H
#define EW_ATTENTION_H

#include "model/model_internal.h"

/* Rotate s->q and s->k of n tokens (positions n_past + t), append k/v to layer l's cache,
 * and write softmax(q k^T / sqrt(D)) v for every head into s->att_out. */
void ew_attention(ew_session *s, int l, int n, bool neox);
/* Final RMSNorm + output projection of tokens [first, n) into out. */
void ew_output_logits(ew_session *s, int first, int n, float *out);

#endif
