#!/usr/bin/env bash
# Speed against the reference llama.cpp, on the same files in one run: synthesize each model
# (`edgewatt synth`), run `edgewatt bench` and llama-bench on it back to back, and print a
# markdown table of the ratios with the project's targets (docs/BENCHMARKS.md):
#   tg: >= 1.15x llama-bench, >= 80% of the measured roofline, CPU s/token <= 0.8x llama.cpp's
#   pp: >= 1.0x;  load (mmap) < 50 ms for a 135M model
#
#   bench/compare-llamacpp.sh [PRESET...]
# Environment (defaults): PRESETS ("smollm2-135m smollm2-360m"; or the arguments), TYPES
# ("Q8_0 Q4_0 Q4_K_M"), THREADS (2), N_PROMPT (512), N_GEN (128), REPS (3), EW_BIN
# (build/edgewatt), MODEL_DIR (/tmp/ew-bench-models: synthesized files are kept and reused),
# LLAMACPP_REF (../shared/tools/llamacpp-ref.sh). Raw outputs go to $MODEL_DIR/raw/.
#
# llama.cpp's CPU s/token: llama-bench reports none, so its CPU time (user + sys of the whole
# process, bash `time`) is measured around a tg-only and a pp-only run, minus a baseline run
# (load + 2 tokens), divided by the tokens those runs processed beyond the baseline (warmup
# included); this cancels process start, model load and weight repacking. edgewatt's figure
# is getrusage over its timed runs. Without the reference, the llama.cpp columns say n/a.
set -euo pipefail
cd "$(dirname "$0")/.."
PRESETS=${*:-${PRESETS:-smollm2-135m smollm2-360m}}
TYPES=${TYPES:-Q8_0 Q4_0 Q4_K_M}
THREADS=${THREADS:-2}; P=${N_PROMPT:-512}; N=${N_GEN:-128}; R=${REPS:-3}
BIN=${EW_BIN:-build/edgewatt}
REF=${LLAMACPP_REF:-../shared/tools/llamacpp-ref.sh}
DIR=${MODEL_DIR:-/tmp/ew-bench-models}; RAW=$DIR/raw; mkdir -p "$RAW"
[ -x "$BIN" ] || { echo "compare-llamacpp: $BIN not found (build first, or set EW_BIN)" >&2; exit 1; }
HAVE_REF=0
if [ -x "$REF" ] && "$REF" version >/dev/null 2>&1; then HAVE_REF=1; fi

# csv_get FILE KIND KEY: KEY of the first row of a llama-bench/edgewatt CSV whose test is
# KIND (pp: n_prompt > 0, tg: n_gen > 0); quoted fields with commas are handled.
csv_get() {
  awk -v kind="$2" -v key="$3" '
    function split_csv(line, arr,   n, i, c, f, q) {
      n = 0; f = ""; q = 0
      for (i = 1; i <= length(line); i++) {
        c = substr(line, i, 1)
        if (q) { if (c == "\"") { if (substr(line, i + 1, 1) == "\"") { f = f c; i++ } else q = 0 } else f = f c }
        else if (c == "\"") q = 1
        else if (c == ",") { arr[++n] = f; f = "" }
        else f = f c
      }
      arr[++n] = f
      return n
    }
    NR == 1 { n = split_csv($0, h); for (i = 1; i <= n; i++) col[h[i]] = i; next }
    { split_csv($0, v)
      if ((kind == "pp" && v[col["n_prompt"]] > 0) || (kind == "tg" && v[col["n_gen"]] > 0)) { print v[col[key]]; exit } }' "$1"
}

# cpu_of CMD...: run CMD (stdout to $OUT), print its user + sys CPU seconds.
cpu_of() {
  local TIMEFORMAT='%U %S' t
  t=$( { time "$@" >"$OUT" 2>>"$RAW/llama.err"; } 2>&1 ) || { echo "compare-llamacpp: failed: $*" >&2; return 1; }
  awk -v t="$t" 'BEGIN { split(t, a, " "); printf "%.3f", a[1] + a[2] }'
}

# per_token CPU BASELINE TOKENS: (CPU - BASELINE) / TOKENS; n/a when noise makes it <= 0
per_token() { awk -v c="$1" -v b="$2" -v n="$3" 'BEGIN { if (c - b <= 0 || n <= 0) print "n/a"; else printf "%.5f", (c - b) / n }'; }
fmt() { awk -v x="$1" -v f="$2" 'BEGIN { if (x == "" || x == "n/a") print "n/a"; else printf f, x }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a == "n/a" || b == "n/a" || b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "n/a") print "n/a"; else print (a + 0 >= b + 0 ? "yes" : "NO") }'; }
# a decode above the roofline cannot be right (weights in cache, or kernels skipping work)
roofmark() { awk -v a="$1" 'BEGIN { if (a == "" || a == "n/a") print "n/a"; else if (a + 0 > 110) print "SUSPECT: above the roofline"; else print (a + 0 >= 80 ? "yes" : "NO") }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "n/a") print "n/a"; else print (a + 0 <= b + 0 ? "yes" : "NO") }'; }

echo "## edgewatt vs llama.cpp: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "- machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs ($(lscpu | sed -n 's/^Core(s) per socket: *//p' | head -1) cores/socket), $(free -g | awk '/^Mem:/ { print $2 }') GiB RAM, L3 $(lscpu | sed -n 's/^L3 cache: *//p' | head -1)"
echo "- edgewatt $("$BIN" --version | sed 's/^edgewatt //'); llama.cpp: $([ $HAVE_REF = 1 ] && "$REF" version 2>&1 | head -1 || echo 'not installed (llama.cpp columns n/a)')"
echo "- -t $THREADS -p $P -n $N -r $R; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

ROWS=(); LOADS=()
for preset in $PRESETS; do
  for type in $TYPES; do
    f=$DIR/$preset-$type.gguf; tag=$preset-$type
    [ -f "$f" ] || "$BIN" synth --like "$preset" --type "$type" -o "$f" >/dev/null
    echo "compare-llamacpp: $tag ..." >&2
    "$BIN" bench -m "$f" -p "$P" -n "$N" -r "$R" -t "$THREADS" -o csv >"$RAW/$tag.ew.csv" 2>"$RAW/$tag.ew.err" ||
      { echo "compare-llamacpp: edgewatt bench failed on $f: $(tail -1 "$RAW/$tag.ew.err")" >&2; exit 1; }
    e=$RAW/$tag.ew.csv
    ew_pp=$(csv_get "$e" pp avg_ts); ew_tg=$(csv_get "$e" tg avg_ts)
    ew_pp_cpu=$(csv_get "$e" pp cpu_s_per_token); ew_tg_cpu=$(csv_get "$e" tg cpu_s_per_token)
    roof=$(csv_get "$e" tg roofline_pct); bpt=$(csv_get "$e" tg bytes_per_token); bw=$(csv_get "$e" tg bandwidth_gbs)
    load=$(csv_get "$e" tg load_ms)
    ll_pp=n/a; ll_tg=n/a; ll_pp_cpu=n/a; ll_tg_cpu=n/a; ll_roof=n/a
    if [ $HAVE_REF = 1 ]; then
      OUT=$RAW/$tag.ll-base.csv; base=$(cpu_of "$REF" run llama-bench -m "$f" -p 0 -n 1 -r 1 -t "$THREADS" -o csv)
      OUT=$RAW/$tag.ll-pp.csv; cpp=$(cpu_of "$REF" run llama-bench -m "$f" -p "$P" -n 0 -r "$R" -t "$THREADS" -o csv)
      OUT=$RAW/$tag.ll-tg.csv; ctg=$(cpu_of "$REF" run llama-bench -m "$f" -p 0 -n "$N" -r "$R" -t "$THREADS" -o csv)
      ll_pp=$(csv_get "$RAW/$tag.ll-pp.csv" pp avg_ts); ll_tg=$(csv_get "$RAW/$tag.ll-tg.csv" tg avg_ts)
      # tokens beyond the baseline's 2 (its warmup + 1): pp warmup + R runs; tg warmup 1 + R runs
      ll_pp_cpu=$(per_token "$cpp" "$base" $(( (R + 1) * P - 2 )))
      ll_tg_cpu=$(per_token "$ctg" "$base" $(( R * N + 1 - 2 )))
      ll_roof=$(awk -v t="$ll_tg" -v b="$bpt" -v w="$bw" 'BEGIN { printf "%.1f", 100 * t * b / (w * 1e9) }')
    fi
    r_pp=$(ratio "$ew_pp" "$ll_pp"); r_tg=$(ratio "$ew_tg" "$ll_tg")
    c_pp=$(ratio "$ew_pp_cpu" "$ll_pp_cpu"); c_tg=$(ratio "$ew_tg_cpu" "$ll_tg_cpu")
    ROWS+=("| $preset $type | pp$P | $(fmt "$ew_pp" %.1f) | $(fmt "$ll_pp" %.1f) | $r_pp | >= 1.0x | $(ge "$r_pp" 1.0) | $(fmt "$ew_pp_cpu" %.5f) | $(fmt "$ll_pp_cpu" %.5f) | $c_pp | - | - |")
    ROWS+=("| $preset $type | tg$N | $(fmt "$ew_tg" %.1f) | $(fmt "$ll_tg" %.1f) | $r_tg | >= 1.15x | $(ge "$r_tg" 1.15) | $(fmt "$ew_tg_cpu" %.5f) | $(fmt "$ll_tg_cpu" %.5f) | $c_tg ($(le "$c_tg" 0.8)) | $(fmt "$roof" %.1f) ($(roofmark "$roof")) | $ll_roof |")
    lt="-"; lm="-"
    case $preset in *-135m) lt="< 50 ms"; lm=$(awk -v x="$load" 'BEGIN { print (x < 50 ? "yes" : "NO") }') ;; esac
    LOADS+=("| $preset $type | $(fmt "$load" %.1f) | $(fmt "$bw" %.1f) | $(awk -v b="$bpt" 'BEGIN { printf "%.1f", b / 1048576 }') | $lt | $lm |")
  done
done

echo "| model | test | edgewatt t/s | llama.cpp t/s | ratio | target | met? | edgewatt CPU s/tok | llama.cpp CPU s/tok | CPU ratio (target <= 0.8) | edgewatt roofline % (target >= 80) | llama.cpp roofline % |"
echo "|---|---|---:|---:|---:|---|---|---:|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
echo
echo "| model | load (mmap) ms | read bandwidth GB/s (-t $THREADS) | MiB read per token | target | met? |"
echo "|---|---:|---:|---:|---|---|"
printf '%s\n' "${LOADS[@]}"
echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine makes every figure noisy)"
