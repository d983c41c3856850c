/*
 * sampler.c - token sampling: greedy, temperature, top-k, top-p, min-p, repetition penalty.
 *
 * The chain follows llama.cpp's default order:
 *   penalties -> top-k -> top-p -> min-p -> temperature -> sample from the softmax.
 * top-p and min-p therefore see the probabilities at temperature 1 (as in llama.cpp).
 *
 * Candidates are ordered by (logit descending, id ascending), a strict total order, so every
 * "sorted" result is unique and ties always favour the lowest id.
 *
 * Cost per token over a vocabulary of n: top-k is one scan with a k-element heap (O(n) for
 * typical logits) plus O(k log k); top-p without top-k buckets the tokens by logit distance
 * from the max (1/64 nat wide, one scan) and radix-sorts only the buckets that hold the
 * nucleus - the result is the same as a full sort; min-p alone is one scan (a threshold).
 * Everything is allocated in ew_sampler_new; sampling does not allocate.
 *
 * NaN logits are treated as -inf. If the best logit is +inf or no logit is finite, the
 * sampler returns the greedy choice (the lowest id holding the maximum).
 */
#include "text/sampler.h"

#include <math.h>
#include <string.h>

#define EW_TOPP_BUCKETS 4096
#define EW_TOPP_SCALE 64.0f      /* buckets per nat of distance from the max logit */
#define EW_MAX_REPEAT_LAST_N (1 << 20)

typedef struct ew_cand {
    float v;
    int32_t id;
} ew_cand;

struct ew_sampler {
    int n_vocab;
    ew_sampler_params p;
    uint64_t rng[4];             /* xoshiro256** state */
    int32_t *hist;               /* ring of the last repeat_last_n accepted tokens */
    int hist_len, hist_pos;
    float *work;                 /* penalised copy of the logits (n_vocab) */
    uint8_t *mark;               /* n_vocab flags, all zero between calls */
    ew_cand *cand;               /* candidate buffer (n_vocab) */
    ew_cand *aux;                /* radix sort scratch (n_vocab) */
    float *w;                    /* exp weights (n_vocab) */
    uint16_t *bucket;            /* top-p bucket of each token (n_vocab) */
    double mass[EW_TOPP_BUCKETS];/* top-p: softmax mass per bucket */
    int count[EW_TOPP_BUCKETS];  /* top-p: tokens per bucket */
    int fill[EW_TOPP_BUCKETS];   /* top-p: next free slot of each bucket in cand */
};

/* ---- random numbers -------------------------------------------------------------------- */

/* splitmix64: expands a seed into well-mixed words (used to seed xoshiro). */
static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline uint64_t rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* xoshiro256** (Blackman & Vigna): next 64 random bits. */
static uint64_t rng_next(uint64_t s[4]) {
    uint64_t r = rotl64(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return r;
}

/* Uniform double in [0, 1) with 53 random bits. */
static double rng_uniform(uint64_t s[4]) { return (double)(rng_next(s) >> 11) * 0x1.0p-53; }

/* Seed the generator from a 64-bit seed (any value, 0 included). */
static void rng_seed(uint64_t s[4], uint64_t seed) {
    for (int i = 0; i < 4; i++) s[i] = splitmix64(&seed);
}

/* ---- parameters and lifetime ----------------------------------------------------------- */

/* llama.cpp's defaults: temperature 0.8, top-k 40, top-p 0.95, min-p 0.05, no repetition
 * penalty (window 64), seed 0. */
ew_sampler_params ew_sampler_default_params(void) {
    ew_sampler_params p = {.temperature = 0.8f, .top_k = 40, .top_p = 0.95f, .min_p = 0.05f,
                           .repeat_penalty = 1.0f, .repeat_last_n = 64, .seed = 0};
    return p;
}

/* EW_OK if the parameters make sense, else EW_ERR_INVALID_ARG naming the field. */
static ew_status check_params(int n_vocab, const ew_sampler_params *p) {
    const char *bad = NULL;
    if (n_vocab <= 0) return ew_error(EW_ERR_INVALID_ARG, "sampler: n_vocab = %d, expected > 0", n_vocab);
    if (!isfinite(p->temperature)) bad = "temperature must be finite (<= 0 = greedy)";
    else if (!(p->top_p >= 0)) bad = "top_p must be >= 0 (>= 1 = off)";
    else if (isnan(p->min_p) || p->min_p > 1) bad = "min_p must be <= 1 (<= 0 = off)";
    else if (!(p->repeat_penalty > 0) || !isfinite(p->repeat_penalty)) bad = "repeat_penalty must be > 0 and finite (1 = off)";
    else if (p->repeat_last_n < 0 || p->repeat_last_n > EW_MAX_REPEAT_LAST_N) bad = "repeat_last_n must be in 0..1048576 (0 = off)";
    if (!bad) return EW_OK;
    return ew_error(EW_ERR_INVALID_ARG, "sampler: %s (temperature %g, top_k %d, top_p %g, min_p %g, "
                    "repeat_penalty %g, repeat_last_n %d)", bad, (double)p->temperature, p->top_k,
                    (double)p->top_p, (double)p->min_p, (double)p->repeat_penalty, p->repeat_last_n);
}

/* Create a sampler for n_vocab tokens (p NULL = defaults). Allocates every buffer sampling
 * needs. Errors: INVALID_ARG (message names the field), NOMEM. */
ew_status ew_sampler_new(int n_vocab, const ew_sampler_params *p, ew_sampler **out) {
    if (!out) return ew_error(EW_ERR_INVALID_ARG, "sampler: out is NULL");
    *out = NULL;
    ew_sampler_params def = ew_sampler_default_params();
    if (!p) p = &def;
    ew_status st = check_params(n_vocab, p);
    if (st != EW_OK) return st;
    ew_sampler *s = ew_calloc(1, sizeof *s);
    if (!s) return ew_error(EW_ERR_NOMEM, "sampler: out of memory");
    s->n_vocab = n_vocab;
    s->p = *p;
    size_t n = (size_t)n_vocab;
    s->hist = ew_malloc(sizeof *s->hist * (size_t)p->repeat_last_n);
    s->work = ew_malloc(sizeof *s->work * n);
    s->mark = ew_calloc(n, 1);
    s->cand = ew_malloc(sizeof *s->cand * n);
    s->aux = ew_malloc(sizeof *s->aux * n);
    s->w = ew_malloc(sizeof *s->w * n);
    s->bucket = ew_malloc(sizeof *s->bucket * n);
    if (!s->hist || !s->work || !s->mark || !s->cand || !s->aux || !s->w || !s->bucket) {
        ew_sampler_free(s);
        return ew_error(EW_ERR_NOMEM, "sampler: out of memory for %d-token buffers", n_vocab);
    }
    rng_seed(s->rng, p->seed);
    *out = s;
    return EW_OK;
}

/* Free a sampler (NULL is a no-op). */
void ew_sampler_free(ew_sampler *s) {
    if (!s) return;
    ew_free(s->hist);
    ew_free(s->work);
    ew_free(s->mark);
    ew_free(s->cand);
    ew_free(s->aux);
    ew_free(s->w);
    ew_free(s->bucket);
    ew_free(s);
}

/* Forget the penalty history and restart the random sequence from the seed. */
void ew_sampler_reset(ew_sampler *s) {
    if (!s) return;
    s->hist_len = s->hist_pos = 0;
    rng_seed(s->rng, s->p.seed);
}

/* Record id in the penalty window (ids outside 0..n_vocab-1 are ignored). */
void ew_sampler_accept(ew_sampler *s, int32_t id) {
    if (!s || id < 0 || id >= s->n_vocab || s->p.repeat_last_n == 0) return;
    s->hist[s->hist_pos] = id;
    s->hist_pos = (s->hist_pos + 1) % s->p.repeat_last_n;
    if (s->hist_len < s->p.repeat_last_n) s->hist_len++;
}

/* ---- ordering helpers ------------------------------------------------------------------ */

/* A logit as the sampler sees it: NaN -> -inf. */
static inline float lv(float x) { return x == x ? x : -INFINITY; }

/* Whether a comes before b: higher logit first, then lower id. */
static inline bool better(ew_cand a, ew_cand b) { return a.v > b.v || (a.v == b.v && a.id < b.id); }

/* Restore the heap property below i in a heap whose root is the worst element. */
static void sift_down(ew_cand *c, int n, int i) {
    for (;;) {
        int l = 2 * i + 1, r = l + 1, worst = i;
        if (l < n && better(c[worst], c[l])) worst = l;
        if (r < n && better(c[worst], c[r])) worst = r;
        if (worst == i) return;
        ew_cand t = c[i];
        c[i] = c[worst];
        c[worst] = t;
        i = worst;
    }
}

/* Turn c[0..n) into a worst-at-root heap. */
static void heapify(ew_cand *c, int n) {
    for (int i = n / 2 - 1; i >= 0; i--) sift_down(c, n, i);
}

/* Sort c[0..n) best first (heapsort: in place, O(n log n), no allocation, no recursion). */
static void sort_cands(ew_cand *c, int n) {
    heapify(c, n);
    for (int end = n - 1; end > 0; end--) {
        ew_cand t = c[0];
        c[0] = c[end];
        c[end] = t;
        sift_down(c, end, 0);
    }
}

/* ---- the chain ------------------------------------------------------------------------- */

/* The logits after the repetition penalty: the input itself when no penalty applies, else a
 * copy in s->work where each distinct token of the window is penalised once (llama.cpp:
 * logit > 0 ? logit / penalty : logit * penalty). */
static const float *apply_penalties(ew_sampler *s, const float *logits) {
    if (s->p.repeat_penalty == 1.0f || s->hist_len == 0) return logits;
    float pen = s->p.repeat_penalty;
    memcpy(s->work, logits, sizeof *s->work * (size_t)s->n_vocab);
    for (int j = 0; j < s->hist_len; j++) {
        int32_t id = s->hist[j];
        if (s->mark[id]) continue;
        s->mark[id] = 1;
        float x = s->work[id];
        s->work[id] = x > 0 ? x / pen : x * pen;
    }
    for (int j = 0; j < s->hist_len; j++) s->mark[s->hist[j]] = 0;
    return s->work;
}

/* Index of the largest logit (lowest id among ties; NaN never wins unless all are NaN). */
static int32_t argmax(const float *v, int n) {
    int32_t best = 0;
    float bv = lv(v[0]);
    for (int i = 1; i < n; i++) {
        float x = lv(v[i]);
        if (x > bv) { bv = x; best = i; }
    }
    return best;
}

/* The k best tokens into cand, sorted best first (0 < k < n). A k-heap over one scan:
 * scanning ids upwards, a token enters only if its logit beats the current k-th. */
static int select_top_k(ew_cand *cand, const float *v, int n, int k) {
    for (int i = 0; i < k; i++) cand[i] = (ew_cand){lv(v[i]), i};
    heapify(cand, k);
    for (int i = k; i < n; i++) {
        float x = lv(v[i]);
        if (x > cand[0].v) {
            cand[0] = (ew_cand){x, i};
            sift_down(cand, k, 0);
        }
    }
    sort_cands(cand, k);
    return k;
}

/* top-p over sorted candidates: the shortest prefix whose softmax mass reaches top_p
 * (at least 1). Mass = expf(v - max), sums in double in sorted order. */
static int top_p_sorted(ew_sampler *s, const ew_cand *cand, int n, float top_p) {
    float m = cand[0].v;
    double z = 0, cum = 0;
    for (int i = 0; i < n; i++) z += (s->w[i] = expf(cand[i].v - m));
    double target = (double)top_p * z;
    for (int i = 0; i < n; i++) {
        cum += s->w[i];
        if (cum >= target) return i + 1;
    }
    return n;
}

/* A key whose ascending order is the descending order of logit x (-0 ranks as +0). */
static inline uint32_t desc_key(float x) {
    x += 0.0f;
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
    return ~u;
}

/* Sort c[0..n) best first by a stable LSD radix sort on the logit (4 passes of 8 bits, a pass
 * skipped when every key shares that byte), using aux[0..n) as scratch. Equal logits must
 * already be in id order (stability keeps them so). */
static void radix_sort(ew_cand *c, ew_cand *aux, int n) {
    ew_cand *src = c, *dst = aux;
    for (int shift = 0; shift < 32; shift += 8) {
        int cnt[256] = {0};
        for (int i = 0; i < n; i++) cnt[(desc_key(src[i].v) >> shift) & 255]++;
        if (cnt[(desc_key(src[0].v) >> shift) & 255] == n) continue;
        for (int b = 0, sum = 0; b < 256; b++) {
            int t = cnt[b];
            cnt[b] = sum;
            sum += t;
        }
        for (int i = 0; i < n; i++) dst[cnt[(desc_key(src[i].v) >> shift) & 255]++] = src[i];
        ew_cand *t = src;
        src = dst;
        dst = t;
    }
    if (src != c) memcpy(c, src, sizeof *c * (size_t)n);
}

/* Sort c[0..n) best first, equal logits already in id order: insertion sort for short runs,
 * radix sort otherwise. */
static void sort_id_ordered(ew_sampler *s, ew_cand *c, int n) {
    if (n > 32) { radix_sort(c, s->aux, n); return; }
    for (int i = 1; i < n; i++) {
        ew_cand x = c[i];
        int j = i;
        for (; j > 0 && better(x, c[j - 1]); j--) c[j] = c[j - 1];
        c[j] = x;
    }
}

/* Bucket every token (s->bucket, s->w = expf(v - m), s->mass, s->count); returns the
 * total mass, summed in id order. */
static double bucket_tokens(ew_sampler *s, const float *v, float m) {
    memset(s->mass, 0, sizeof s->mass);
    memset(s->count, 0, sizeof s->count);
    const float range = (float)EW_TOPP_BUCKETS / EW_TOPP_SCALE;
    double z = 0;
    for (int i = 0; i < s->n_vocab; i++) {
        float x = lv(v[i]), d = m - x, e = expf(x - m);
        int b = d < range ? (int)(d * EW_TOPP_SCALE) : EW_TOPP_BUCKETS - 1;
        s->w[i] = e;
        s->bucket[i] = (uint16_t)b;
        s->mass[b] += e;
        s->count[b]++;
        z += e;
    }
    return z;
}

/* Place the tokens of buckets lo..hi at s->cand[n..) grouped by bucket (in bucket order,
 * id order inside); returns the new n. Equal logits share a bucket, so they stay in id
 * order. */
static int place_buckets(ew_sampler *s, const float *v, int n, int lo, int hi) {
    for (int b = lo; b <= hi; b++) {
        s->fill[b] = n;
        n += s->count[b];
    }
    for (int i = 0; i < s->n_vocab; i++) {
        int b = s->bucket[i];
        if (b >= lo && b <= hi) s->cand[s->fill[b]++] = (ew_cand){lv(v[i]), i};
    }
    return n;
}

/* top-p over the whole vocabulary (max logit m, finite): the same prefix a full sort would
 * give, written sorted to s->cand; returns its length. Tokens are bucketed by (m - v) * 64,
 * so every token of a bucket ranks above every token of a later one; the bucket masses
 * locate the bucket where the cumulative mass reaches top_p, the buckets up to it are placed
 * (ties stay in id order) and radix-sorted. The exact cumulative sum (in sorted order, as a full sort
 * would add it) decides the cut; if rounding puts it past the placed buckets, the next
 * non-empty bucket is added. */
static int top_p_full(ew_sampler *s, const float *v, float m, float top_p) {
    double z = bucket_tokens(s, v, m);
    double target = (double)top_p * z, cum = 0;
    int hi = 0;
    for (; hi < EW_TOPP_BUCKETS - 1; hi++) {
        cum += s->mass[hi];
        if (cum >= target) break;
    }
    int n = 0, lo = 0;
    cum = 0;
    for (;;) {
        int start = n;
        n = place_buckets(s, v, n, lo, hi);
        sort_id_ordered(s, s->cand + start, n - start);
        for (int j = start; j < n; j++) {
            cum += s->w[s->cand[j].id];
            if (cum >= target) return j + 1;
        }
        if (hi == EW_TOPP_BUCKETS - 1) return n;
        lo = ++hi;
        while (hi < EW_TOPP_BUCKETS - 1 && s->count[hi] == 0) hi++;
    }
}

/* min-p over sorted candidates: keep those with logit >= max + log(min_p) (p >= min_p * p_max),
 * at least the first. */
static int min_p_sorted(const ew_cand *cand, int n, float min_p) {
    float thr = cand[0].v + logf(min_p);
    int i = 1;
    while (i < n && cand[i].v >= thr) i++;
    return i;
}

/* min-p over the whole vocabulary (max logit m): the survivors into s->cand in id order. */
static int min_p_full(ew_sampler *s, const float *v, float m, float min_p) {
    float thr = m + logf(min_p);
    int n = 0;
    for (int i = 0; i < s->n_vocab; i++) {
        float x = lv(v[i]);
        if (x >= thr) s->cand[n++] = (ew_cand){x, i};
    }
    return n;
}

/* The filters after the penalty (top-k -> top-p -> min-p) given the max logit m (finite).
 * Returns the candidate count in s->cand, or -1 when no filter ran (all tokens remain);
 * *sorted says whether s->cand is best-first. */
static int run_filters(ew_sampler *s, const float *v, float m, bool *sorted) {
    const ew_sampler_params *p = &s->p;
    int n = -1;
    *sorted = false;
    if (p->top_k > 0 && p->top_k < s->n_vocab) {
        n = select_top_k(s->cand, v, s->n_vocab, p->top_k);
        *sorted = true;
    }
    if (p->top_p < 1.0f) {
        n = n < 0 ? top_p_full(s, v, m, p->top_p) : top_p_sorted(s, s->cand, n, p->top_p);
        *sorted = true;
    }
    if (p->min_p > 0.0f) {
        if (*sorted) n = min_p_sorted(s->cand, n, p->min_p);
        else n = min_p_full(s, v, m, p->min_p);
    }
    return n;
}

/* Pick the first index whose cumulative weight exceeds r = u * sum (u uniform in [0, 1));
 * the last index with positive weight if rounding runs past the end. */
static int pick_weighted(ew_sampler *s, const float *w, int n, double sum) {
    double r = rng_uniform(s->rng) * sum, cum = 0;
    int last = 0;
    for (int i = 0; i < n; i++) {
        if (w[i] <= 0) continue;
        cum += w[i];
        last = i;
        if (cum > r) return i;
    }
    return last;
}

/* Sample one of cand[0..n) from softmax(v / t). */
static int32_t sample_cands(ew_sampler *s, const ew_cand *cand, int n, float t) {
    float m = cand[0].v;
    for (int i = 1; i < n; i++) m = cand[i].v > m ? cand[i].v : m;
    double sum = 0;
    for (int i = 0; i < n; i++) sum += (s->w[i] = expf((cand[i].v - m) / t));
    return cand[pick_weighted(s, s->w, n, sum)].id;
}

/* Sample one token of the whole vocabulary (max logit m) from softmax(v / t). */
static int32_t sample_full(ew_sampler *s, const float *v, float m, float t) {
    double sum = 0;
    for (int i = 0; i < s->n_vocab; i++) sum += (s->w[i] = expf((lv(v[i]) - m) / t));
    return pick_weighted(s, s->w, s->n_vocab, sum);
}

/* Whether the chain degenerates to argmax: greedy, top-k 1, or a max logit that is not
 * finite. */
static bool is_greedy(const ew_sampler *s, float m) {
    return s->p.temperature <= 0 || s->p.top_k == 1 || !isfinite(m);
}

/* Pick the next token: penalties -> top-k -> top-p -> min-p -> temperature -> sample.
 * Records it in the penalty window. Returns -1 if s or logits is NULL. Does not allocate. */
int32_t ew_sampler_sample(ew_sampler *s, const float *logits) {
    if (!s || !logits) return -1;
    const float *v = apply_penalties(s, logits);
    int32_t best = argmax(v, s->n_vocab), id;
    float m = lv(v[best]);
    if (is_greedy(s, m)) {
        id = best;
    } else {
        bool sorted;
        int n = run_filters(s, v, m, &sorted);
        id = n < 0 ? sample_full(s, v, m, s->p.temperature)
                   : sample_cands(s, s->cand, n, s->p.temperature);
    }
    ew_sampler_accept(s, id);
    return id;
}

/* See sampler.h: the candidate set ew_sampler_sample would draw from, without drawing. */
int ew_sampler_candidates(ew_sampler *s, const float *logits, int32_t *ids, int cap) {
    if (!s || !logits) return -1;
    const float *v = apply_penalties(s, logits);
    int32_t best = argmax(v, s->n_vocab);
    float m = lv(v[best]);
    if (is_greedy(s, m)) {
        if (cap > 0) ids[0] = best;
        return 1;
    }
    bool sorted;
    int n = run_filters(s, v, m, &sorted);
    if (n < 0) {
        for (int i = 0; i < s->n_vocab && i < cap; i++) ids[i] = i;
        return s->n_vocab;
    }
    for (int i = 0; i < n && i < cap; i++) ids[i] = s->cand[i].id;
    return n;
}
