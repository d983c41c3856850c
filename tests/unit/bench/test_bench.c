/*
 * test_bench.c - the bandwidth measurement (core/membw.h) and the bench library
 * (bench/bench.h): argument checks, bytes read per decoded token against the synthetic
 * model's plan, and a short pp/tg run whose figures are sane.
 */
#include "bench/bench.h"
#include "core/membw.h"
#include "model/synth.h"
#include "quant/quant.h"
#include "test.h"

/* A small buffer, one thread: a positive figure; bad arguments are refused. */
static void test_membw(void) {
    ew_membw_result r;
    CHECK_OK(ew_membw_measure(1, 8u << 20, 2, &r));
    CHECK(r.gbs > 0 && r.gbs_median > 0 && r.gbs >= r.gbs_median);
    CHECK(r.bytes == 8u << 20 && r.n_threads == 1 && r.n_passes == 2);
    CHECK_OK(ew_membw_measure(2, (8u << 20) + 3, 1, &r));
    CHECK(r.bytes % 64 == 0 && r.gbs > 0);
    CHECK(ew_membw_measure(0, 0, 0, &r) == EW_ERR_INVALID_ARG);
    CHECK(ew_membw_measure(1, 0, 65, &r) == EW_ERR_INVALID_ARG);
    CHECK(ew_membw_default_bytes() >= (256u << 20));
    CHECK(ew_membw_default_bytes() >= 4 * ew_membw_llc_bytes() || ew_membw_default_bytes() == (2048u << 20));
}

/* Tied embeddings: every weight byte is read per token, plus the KV cache. */
static void test_decode_bytes(ew_model *m, const ew_synth_plan *pl) {
    ew_model_info info;
    ew_model_get_info(m, &info);
    CHECK(pl->tied_embeddings);
    CHECK(info.weight_bytes == pl->data_bytes);
    const double kv_pos = 2.0 * pl->n_layer * pl->n_head_kv * pl->head_dim; /* elements per position */
    CHECK_NEAR(ew_bench_decode_bytes(m, EW_KV_F16, 0), (double)pl->data_bytes, 0.5);
    CHECK_NEAR(ew_bench_decode_bytes(m, EW_KV_F16, 10), (double)pl->data_bytes + 10 * 2 * kv_pos, 0.5);
    CHECK_NEAR(ew_bench_decode_bytes(m, EW_KV_F32, 3.5), (double)pl->data_bytes + 3.5 * 4 * kv_pos, 0.5);
}

/* Name, type string, size and params of the description. */
static void test_describe(const ew_model *m, const ew_synth_plan *pl) {
    ew_bench_model_desc d;
    ew_bench_describe(m, "synth:x", &d);
    CHECKF(!strcmp(d.name, "smollm2-135m Q4_0"), "%s", d.name);
    CHECKF(!strcmp(d.type, "llama 135M Q4_0"), "%s", d.type);
    CHECK(!strcmp(d.filename, "synth:x"));
    CHECK(d.size_bytes == pl->data_bytes && d.n_params == pl->n_params);
    char buf[32];
    ew_bench_fmt_size(143025408, buf, sizeof buf);
    CHECK(!strcmp(buf, "136.40 MiB"));
    ew_bench_fmt_size(3ull << 30, buf, sizeof buf);
    CHECK(!strcmp(buf, "3.00 GiB"));
    ew_bench_fmt_params(134515008, buf, sizeof buf);
    CHECK(!strcmp(buf, "134.52 M"));
    ew_bench_fmt_params(1100048384, buf, sizeof buf);
    CHECK(!strcmp(buf, "1.10 B"));
}

/* Bad tests are refused; a pp and a tg test give sane figures. */
static void test_run(ew_model *m) {
    ew_bench_test t = ew_bench_default_test();
    ew_bench_result r;
    CHECK(ew_bench_run(m, &t, &r) == EW_ERR_INVALID_ARG);          /* neither pp nor tg */
    t.n_prompt = 4, t.n_gen = 4;
    CHECK(ew_bench_run(m, &t, &r) == EW_ERR_INVALID_ARG);          /* both */
    t.n_gen = 0, t.reps = 0;
    CHECK(ew_bench_run(m, &t, &r) == EW_ERR_INVALID_ARG);
    t.reps = 2, t.n_threads = 2, t.n_batch = 3, t.bandwidth_gbs = 10;
    CHECK_OK(ew_bench_run(m, &t, &r));
    CHECK(r.n_samples == 2 && r.avg_ts > 0 && r.cpu_s_per_token > 0 && r.roofline_pct == -1);
    CHECK(r.peak_rss_bytes > 0 && strlen(r.test_time) == 20);
    CHECK_NEAR(r.avg_ts, (r.samples_ts[0] + r.samples_ts[1]) / 2, 1e-6 * r.avg_ts);
    t.n_prompt = 0, t.n_gen = 3, t.n_threads = 1;
    CHECK_OK(ew_bench_run(m, &t, &r));
    CHECK(r.bytes_per_token == ew_bench_decode_bytes(m, EW_KV_F16, 2.0));
    CHECK_NEAR(r.roofline_pct, 100.0 * r.avg_ts * r.bytes_per_token / 10e9, 1e-9);
    char name[16];
    ew_bench_test_name(&t, name, sizeof name);
    CHECK(!strcmp(name, "tg3"));
}

int main(void) {
    test_membw();
    ew_synth *s;
    ew_model *m = NULL;
    CHECK_OK(ew_synth_new("smollm2-135m", "Q4_0", 1, &s));
    if (s) {
        ew_model_params mp = ew_model_default_params();
        mp.n_threads = 1;
        CHECK_OK(ew_synth_load(s, &mp, &m));
        if (m) {
            test_decode_bytes(m, ew_synth_get_plan(s));
            test_describe(m, ew_synth_get_plan(s));
            test_run(m);
        }
        ew_model_free(m);
        ew_synth_free(s);
    }
    return ew_test_end();
}
