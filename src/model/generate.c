/*
 * generate.c - the generation loop every front end shares: tokenize the prompt, prefill,
 * then sample -> decode -> detokenize -> stop-string filter -> stream. Everything it needs
 * is allocated before the loop starts; the loop itself does not allocate.
 */
#include "model/model_internal.h"
#include <string.h>

ew_gen_params ew_gen_default_params(void) {
    ew_gen_params p = {-1, NULL, 0, true, false, false};
    return p;
}

const char *ew_stop_reason_name(ew_stop_reason r) {
    switch (r) {
    case EW_STOP_LENGTH: return "length";
    case EW_STOP_EOG: return "eog";
    case EW_STOP_STRING: return "stop string";
    case EW_STOP_CONTEXT: return "context full";
    case EW_STOP_CALLBACK: return "callback";
    }
    return "?";
}

/* Text held back because it may be the start of a stop string. */
typedef struct outbuf {
    char *buf;
    size_t len, cap;
    const char *const *stop;
    int n_stop;
    bool strip_space;      /* drop one leading space of the first text (SPM after BOS) */
    ew_text_fn fn;
    void *user;
} outbuf;

/* Longest suffix of b[0..n) that is a proper prefix of some stop string. */
static size_t held_suffix(const outbuf *o) {
    size_t best = 0;
    for (int i = 0; i < o->n_stop; i++) {
        size_t sl = strlen(o->stop[i]);
        for (size_t k = EW_MIN(sl - 1, o->len); k > best; k--)
            if (memcmp(o->buf + o->len - k, o->stop[i], k) == 0) { best = k; break; }
    }
    return best;
}

/* Append text; emit what can no longer be part of a stop string. Returns EW_STOP_STRING,
 * EW_STOP_CALLBACK, or -1 to go on. */
static int out_push(outbuf *o, const char *text) {
    size_t n = strlen(text);
    if (o->strip_space && n) {
        if (text[0] == ' ') { text++; n--; }
        o->strip_space = false;
    }
    if (n == 0) return -1;
    if (o->n_stop == 0) return o->fn(text, n, o->user) ? -1 : EW_STOP_CALLBACK;
    if (o->len + n > o->cap) { /* held text is < longest stop string; pieces are small */
        size_t keep = held_suffix(o);
        if (o->len - keep && !o->fn(o->buf, o->len - keep, o->user)) return EW_STOP_CALLBACK;
        memmove(o->buf, o->buf + o->len - keep, keep);
        o->len = keep;
        if (o->len + n > o->cap) n = o->cap - o->len; /* a single absurd piece: truncate */
    }
    memcpy(o->buf + o->len, text, n);
    o->len += n;
    for (int i = 0; i < o->n_stop; i++) {
        const char *hit = memmem(o->buf, o->len, o->stop[i], strlen(o->stop[i]));
        if (hit) {
            if (hit > o->buf) o->fn(o->buf, (size_t)(hit - o->buf), o->user);
            o->len = 0;
            return EW_STOP_STRING;
        }
    }
    size_t keep = held_suffix(o);
    if (o->len > keep) {
        if (!o->fn(o->buf, o->len - keep, o->user)) return EW_STOP_CALLBACK;
        memmove(o->buf, o->buf + o->len - keep, keep);
        o->len = keep;
    }
    return -1;
}

/* Emit what is held (at the end of generation). */
static void out_flush(outbuf *o, const char *tail) {
    if (tail && *tail) {
        size_t n = strlen(tail);
        if (o->len + n <= o->cap) { memcpy(o->buf + o->len, tail, n); o->len += n; }
    }
    if (o->len) o->fn(o->buf, o->len, o->user);
    o->len = 0;
}

/* Tokenize the prompt into a fresh array (*ids, *n). */
static ew_status tokenize_prompt(ew_session *s, const char *prompt, const ew_gen_params *p, int32_t **ids, size_t *n) {
    const ew_model *m = s->m;
    size_t len = strlen(prompt), cap = len + 8, need = 0;
    *ids = ew_malloc(cap * sizeof(int32_t));
    if (!*ids) return ew_error(EW_ERR_NOMEM, "out of memory for the prompt");
    ew_status st = ew_tokenize(m, prompt, len, p->add_special, p->parse_special, *ids, cap, &need);
    if (st == EW_ERR_RANGE && need > cap) {
        ew_free(*ids);
        *ids = ew_malloc(need * sizeof(int32_t));
        if (!*ids) return ew_error(EW_ERR_NOMEM, "out of memory for the prompt");
        st = ew_tokenize(m, prompt, len, p->add_special, p->parse_special, *ids, need, &need);
    }
    if (st) { ew_free(*ids); *ids = NULL; return st; }
    *n = need;
    return EW_OK;
}

ew_status ew_generate(ew_session *s, ew_sampler *smp, const char *prompt, const ew_gen_params *pp,
                      ew_text_fn on_text, void *user, ew_gen_stats *stats) {
    if (!s || !smp || !prompt || !on_text) return ew_error(EW_ERR_INVALID_ARG, "generate: NULL argument");
    ew_gen_params p = pp ? *pp : ew_gen_default_params();
    ew_gen_stats st_local;
    ew_gen_stats *gs = stats ? stats : &st_local;
    memset(gs, 0, sizeof *gs);
    for (int i = 0; i < p.n_stop; i++)
        if (!p.stop[i] || !p.stop[i][0]) return ew_error(EW_ERR_INVALID_ARG, "generate: stop string %d is empty", i);

    int32_t *ids = NULL;
    size_t n_ids = 0;
    ew_status st = tokenize_prompt(s, prompt, &p, &ids, &n_ids);
    if (st) return st;
    if (n_ids == 0) { ew_free(ids); return ew_error(EW_ERR_INVALID_ARG, "generate: the prompt is empty and the model adds no BOS"); }
    if ((int64_t)n_ids > s->n_ctx - s->n_past) {
        ew_free(ids);
        return ew_error(EW_ERR_RANGE, "the prompt is %zu tokens but the context has room for %d (use a larger --ctx)",
                        n_ids, s->n_ctx - s->n_past);
    }
    ew_detok *dt = NULL;
    outbuf o = {0};
    size_t maxstop = 0;
    for (int i = 0; i < p.n_stop; i++) maxstop = EW_MAX(maxstop, strlen(p.stop[i]));
    o.cap = 4 * maxstop + 4096;
    o.buf = ew_malloc(o.cap);
    if (!o.buf) { ew_free(ids); return ew_error(EW_ERR_NOMEM, "out of memory"); }
    o.stop = p.stop;
    o.n_stop = p.n_stop;
    o.fn = on_text;
    o.user = user;
    o.strip_space = prompt[0] == 0 && s->n_past == 0 && ew_tokenizer_add_space_prefix(ew_model_tokenizer(s->m));
    if ((st = ew_detok_new(s->m, &dt))) { ew_free(o.buf); ew_free(ids); return st; }

    const double cpu0 = ew_cpu_time_s(), t0 = ew_time_s();
    for (size_t i = 0; i < n_ids; i++) ew_sampler_accept(smp, ids[i]);
    st = ew_session_eval(s, ids, (int)n_ids, false);
    gs->n_prompt = (int)n_ids;
    const double t1 = ew_time_s();
    gs->prefill_s = t1 - t0;
    int reason = st ? -1 : EW_STOP_LENGTH;
    while (st == EW_OK) {
        if (p.n_predict >= 0 && gs->n_gen >= p.n_predict) { reason = EW_STOP_LENGTH; break; }
        int32_t tok = ew_sampler_sample(smp, ew_session_logits(s, -1));
        if (!p.ignore_eos && ew_token_is_eog(s->m, tok)) { reason = EW_STOP_EOG; break; }
        gs->n_gen++;
        int r = out_push(&o, ew_detok_push(dt, tok));
        if (r >= 0) { reason = r; break; }
        if (p.n_predict >= 0 && gs->n_gen >= p.n_predict) { reason = EW_STOP_LENGTH; break; }
        if (ew_session_n_past(s) >= s->n_ctx) { reason = EW_STOP_CONTEXT; break; }
        st = ew_session_eval(s, &tok, 1, false);
    }
    gs->decode_s = ew_time_s() - t1;
    gs->cpu_s = ew_cpu_time_s() - cpu0;
    if (st == EW_OK) {
        gs->stop = (ew_stop_reason)reason;
        if (reason != EW_STOP_STRING && reason != EW_STOP_CALLBACK) out_flush(&o, ew_detok_flush(dt));
    }
    ew_detok_free(dt);
    ew_free(o.buf);
    ew_free(ids);
    return st;
}
