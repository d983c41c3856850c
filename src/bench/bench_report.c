/*
 * bench_report.c - `edgewatt bench` output: a llama-bench-style markdown table with
 * edgewatt's extra columns, or one record per test as JSON (an array) or CSV. JSON and CSV
 * share one field list (the JSON object, in insertion order), so they always agree.
 */
#include "bench/bench.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int ew_bench_format_from_name(const char *s) {
    if (!s) return -1;
    if (!strcmp(s, "md")) return EW_BENCH_MD;
    if (!strcmp(s, "json")) return EW_BENCH_JSON;
    if (!strcmp(s, "csv")) return EW_BENCH_CSV;
    return -1;
}

/* "pp512" / "tg128". */
void ew_bench_test_name(const ew_bench_test *t, char *buf, size_t cap) {
    if (t->n_prompt > 0) snprintf(buf, cap, "pp%d", t->n_prompt);
    else snprintf(buf, cap, "tg%d", t->n_gen);
}

/* llama-bench's size column: MiB below 1 GiB, else GiB, two decimals. */
void ew_bench_fmt_size(uint64_t bytes, char *buf, size_t cap) {
    if (bytes < (1ull << 30)) snprintf(buf, cap, "%.2f MiB", bytes / 1048576.0);
    else snprintf(buf, cap, "%.2f GiB", bytes / 1073741824.0);
}

/* llama-bench's params column: millions below 1e9, else billions, two decimals. */
void ew_bench_fmt_params(uint64_t n, char *buf, size_t cap) {
    if (n < 1000000000ull) snprintf(buf, cap, "%.2f M", n / 1e6);
    else snprintf(buf, cap, "%.2f B", n / 1e9);
}

/* The CPU's model name from /proc/cpuinfo ("" if unknown). */
static void cpu_model_name(char *buf, size_t cap) {
    buf[0] = 0;
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) || !colon) continue;
        colon += 1 + (colon[1] == ' ');
        colon[strcspn(colon, "\n")] = 0;
        snprintf(buf, cap, "%s", colon);
        break;
    }
    if (f) fclose(f);
}

/* ---- markdown -------------------------------------------------------------------------- */

/* Display width of UTF-8 text (code points). */
static int text_width(const char *s) {
    int w = 0;
    for (; *s; s++) w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

/* " text |" padded to width, right-aligned or left-aligned. */
static void cell(FILE *f, const char *s, int width, bool right) {
    int pad = width - text_width(s);
    if (pad < 0) pad = 0;
    if (right) fprintf(f, " %*s%s |", pad, "", s);
    else fprintf(f, " %s%*s |", s, pad, "");
}

typedef struct md_col { const char *title; int width; bool right; } md_col;

static const md_col k_md_cols[] = {
    {"model", 30, false}, {"size", 10, true}, {"params", 10, true}, {"backend", 0, false},
    {"threads", 7, true}, {"test", 15, true}, {"t/s", 20, true}, {"CPU s/tok", 10, true},
    {"roofline %", 10, true}, {"peak RSS", 12, true},
};

/* Width of column i (the backend column fits the backend text). */
static int col_width(size_t i, const char *backend) {
    return i == 3 ? EW_MAX(7, text_width(backend)) : k_md_cols[i].width;
}

/* The header row and the alignment row. */
static void md_header(FILE *f, const char *backend) {
    fputc('|', f);
    for (size_t i = 0; i < EW_ARRAY_LEN(k_md_cols); i++)
        cell(f, k_md_cols[i].title, col_width(i, backend), k_md_cols[i].right);
    fputs("\n|", f);
    for (size_t i = 0; i < EW_ARRAY_LEN(k_md_cols); i++) {
        int w = col_width(i, backend);
        fputc(' ', f);
        for (int k = 0; k < w - (k_md_cols[i].right ? 1 : 0); k++) fputc('-', f);
        fputs(k_md_cols[i].right ? ": |" : " |", f);
    }
    fputc('\n', f);
}

/* One markdown row. */
static void md_row(FILE *f, const ew_bench_model_desc *d, const ew_bench_result *r, const char *backend) {
    char v[10][64];
    v[0][0] = v[3][0] = 0; /* model and backend are printed from d and backend */
    ew_bench_fmt_size(d->size_bytes, v[1], sizeof v[1]);
    ew_bench_fmt_params(d->n_params, v[2], sizeof v[2]);
    snprintf(v[4], sizeof v[4], "%d", r->t.n_threads);
    ew_bench_test_name(&r->t, v[5], sizeof v[5]);
    snprintf(v[6], sizeof v[6], "%.2f \xC2\xB1 %.2f", r->avg_ts, r->stddev_ts);
    snprintf(v[7], sizeof v[7], "%.5f", r->cpu_s_per_token);
    if (r->roofline_pct >= 0) snprintf(v[8], sizeof v[8], "%.1f", r->roofline_pct);
    else snprintf(v[8], sizeof v[8], "-");
    snprintf(v[9], sizeof v[9], "%.1f MiB", r->peak_rss_bytes / 1048576.0);
    fputc('|', f);
    for (size_t i = 0; i < EW_ARRAY_LEN(k_md_cols); i++) {
        const char *s = i == 0 ? d->name : i == 3 ? backend : v[i];
        cell(f, s, col_width(i, backend), k_md_cols[i].right);
    }
    fputc('\n', f);
}

/* ---- json / csv -------------------------------------------------------------------------- */

/* An array of n doubles, as integers when ints (samples_ns). */
static json_t *num_array(const double *v, int n, bool ints) {
    json_t *a = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(a, ints ? json_integer((json_int_t)llround(v[i])) : json_real(v[i]));
    return a;
}

/* The record of one test: llama-bench's keys first, then edgewatt's. */
static json_t *record(const ew_bench_model_desc *d, const ew_bench_result *r) {
    char cpu[256];
    cpu_model_name(cpu, sizeof cpu);
    const char *kv = r->t.kv_type == EW_KV_F32 ? "f32" : "f16";
    json_t *o = json_object();
    json_object_set_new(o, "build_commit", json_string("edgewatt " EW_VERSION_STRING));
    json_object_set_new(o, "cpu_info", json_string(cpu));
    json_object_set_new(o, "backends", json_string("CPU"));
    json_object_set_new(o, "model_filename", json_string(d->filename));
    json_object_set_new(o, "model_type", json_string(d->type));
    json_object_set_new(o, "model_size", json_integer((json_int_t)d->size_bytes));
    json_object_set_new(o, "model_n_params", json_integer((json_int_t)d->n_params));
    json_object_set_new(o, "n_batch", json_integer(r->t.n_batch));
    json_object_set_new(o, "n_ubatch", json_integer(r->t.n_batch));
    json_object_set_new(o, "n_threads", json_integer(r->t.n_threads));
    json_object_set_new(o, "type_k", json_string(kv));
    json_object_set_new(o, "type_v", json_string(kv));
    json_object_set_new(o, "use_mmap", json_boolean(d->use_mmap));
    json_object_set_new(o, "n_prompt", json_integer(r->t.n_prompt));
    json_object_set_new(o, "n_gen", json_integer(r->t.n_gen));
    json_object_set_new(o, "test_time", json_string(r->test_time));
    json_object_set_new(o, "avg_ns", json_integer((json_int_t)llround(r->avg_ns)));
    json_object_set_new(o, "stddev_ns", json_integer((json_int_t)llround(r->stddev_ns)));
    json_object_set_new(o, "avg_ts", json_real(r->avg_ts));
    json_object_set_new(o, "stddev_ts", json_real(r->stddev_ts));
    json_object_set_new(o, "samples_ns", num_array(r->samples_ns, r->n_samples, true));
    json_object_set_new(o, "samples_ts", num_array(r->samples_ts, r->n_samples, false));
    json_object_set_new(o, "model_name", json_string(d->name));
    json_object_set_new(o, "kernels", json_string(ew_cpu_level_name()));
    json_object_set_new(o, "cpu_s_per_token", json_real(r->cpu_s_per_token));
    json_object_set_new(o, "bytes_per_token", r->t.n_gen > 0 ? json_integer((json_int_t)llround(r->bytes_per_token)) : json_null());
    json_object_set_new(o, "bandwidth_gbs", r->t.bandwidth_gbs > 0 ? json_real(r->t.bandwidth_gbs) : json_null());
    json_object_set_new(o, "roofline_pct", r->roofline_pct >= 0 ? json_real(r->roofline_pct) : json_null());
    json_object_set_new(o, "peak_rss_bytes", json_integer((json_int_t)r->peak_rss_bytes));
    json_object_set_new(o, "load_ms", json_real(d->load_ms));
    return o;
}

/* A CSV field: the value as text, in double quotes (as llama-bench writes every field);
 * arrays are space-separated, null is empty. */
static void csv_field(FILE *f, json_t *v) {
    fputc('"', f);
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i) fputc(' ', f);
            json_t *e = json_array_get(v, i);
            if (json_is_integer(e)) fprintf(f, "%lld", (long long)json_integer_value(e));
            else fprintf(f, "%.6f", json_number_value(e));
        }
    } else if (json_is_string(v)) {
        for (const char *s = json_string_value(v); *s; s++) {
            if (*s == '"') fputc('"', f);
            fputc(*s, f);
        }
    } else if (json_is_integer(v)) fprintf(f, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v)) fprintf(f, "%.6f", json_real_value(v));
    else if (json_is_boolean(v)) fputs(json_is_true(v) ? "1" : "0", f);
    fputc('"', f);
}

/* The header (keys) or the values of a record, comma-separated. */
static void csv_line(FILE *f, json_t *o, bool header) {
    const char *key;
    json_t *v;
    bool first = true;
    json_object_foreach(o, key, v) {
        if (!first) fputc(',', f);
        first = false;
        if (header) fputs(key, f);
        else csv_field(f, v);
    }
    fputc('\n', f);
}

/* See bench.h. */
void ew_bench_write_row(FILE *f, ew_bench_format fmt, const ew_bench_model_desc *d, const ew_bench_result *r,
                        const char *backend, bool first) {
    if (fmt == EW_BENCH_MD) {
        if (first) md_header(f, backend);
        md_row(f, d, r, backend);
    } else {
        json_t *o = record(d, r);
        if (fmt == EW_BENCH_CSV) {
            if (first) csv_line(f, o, true);
            csv_line(f, o, false);
        } else {
            char *s = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
            fprintf(f, "%s%s", first ? "[\n" : ",\n", s ? s : "{}");
            free(s);
        }
        json_decref(o);
    }
    fflush(f);
}

/* See bench.h. */
void ew_bench_write_end(FILE *f, ew_bench_format fmt, bool any_rows) {
    if (fmt == EW_BENCH_JSON) fputs(any_rows ? "\n]\n" : "[]\n", f);
    fflush(f);
}
