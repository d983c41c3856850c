#!/usr/bin/env bash
# `edgewatt bench --like` on the smallest preset, in md, json and csv: exit 0, the output
# parses, the llama-bench columns and edgewatt's are there, one pp and one tg row per thread
# count; bad flags give one clear line and exit 1. Kept short (-p 16 -n 8 -r 2, one thread).
set -u
BIN=${EW_BIN:?}
fail=0; tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }
ARGS=(--like smollm2-135m -p 16 -n 8 -r 2 -t 1)

# markdown: llama-bench's columns + ours, a pp16 and a tg8 row, the footer
"$BIN" bench "${ARGS[@]}" >"$tmp/md" 2>"$tmp/md.err"; rc=$?
cat "$tmp/md"
check "md: exit 0" "[ $rc -eq 0 ]"
for col in model size params backend threads test t/s 'CPU s/tok' 'roofline %' 'peak RSS'; do
  check "md: column '$col'" "head -1 '$tmp/md' | tr '|' '\\n' | sed 's/^ *//; s/ *\$//' | grep -qxF '$col'"
done
check "md: pp16 row" "grep -q '^| smollm2-135m Q8_0 .*| *pp16 | *[0-9.]* ± [0-9.]* |' '$tmp/md'"
check "md: tg8 row with a roofline %" "grep -q '^| smollm2-135m Q8_0 .*| *tg8 | *[0-9.]* ± [0-9.]* | *[0-9.]* | *[0-9.]* |' '$tmp/md'"
check "md: load time and bandwidth" "grep -q '^load: smollm2-135m Q8_0 [0-9.]* ms' '$tmp/md' && grep -q '^read bandwidth (measured): 1 thread [0-9.]* GB/s' '$tmp/md'"

# json: an array of 2 objects with llama-bench's keys and edgewatt's
"$BIN" bench "${ARGS[@]}" -o json >"$tmp/json" 2>/dev/null; rc=$?
check "json: exit 0" "[ $rc -eq 0 ]"
KEYS="model_filename model_type model_size model_n_params n_threads n_prompt n_gen avg_ts stddev_ts samples_ts cpu_s_per_token roofline_pct bandwidth_gbs peak_rss_bytes load_ms"
if command -v python3 >/dev/null; then
  check "json: parses, 2 records, keys present, tg has a roofline" "python3 - '$tmp/json' $KEYS <<'EOF'
import json, sys
rows = json.load(open(sys.argv[1]))
assert isinstance(rows, list) and len(rows) == 2, rows
for r in rows:
    for k in sys.argv[2:]:
        assert k in r, k
    assert r['avg_ts'] > 0 and len(r['samples_ts']) == 2 and r['n_threads'] == 1
assert rows[0]['n_prompt'] == 16 and rows[0]['roofline_pct'] is None
assert rows[1]['n_gen'] == 8 and rows[1]['roofline_pct'] > 0 and rows[1]['bandwidth_gbs'] > 0
EOF"
elif command -v jq >/dev/null; then
  check "json: parses, 2 records" "[ \"\$(jq length '$tmp/json')\" = 2 ] && jq -e '.[1].roofline_pct > 0' '$tmp/json' >/dev/null"
  for k in $KEYS; do check "json: key $k" "jq -e 'all(.[]; has(\"$k\"))' '$tmp/json' >/dev/null"; done
else
  check "json: array of 2 objects (no python3/jq: structural check)" "head -1 '$tmp/json' | grep -qx '\\[' && tail -1 '$tmp/json' | grep -qx '\\]' && [ \$(grep -c '\"avg_ts\"' '$tmp/json') -eq 2 ]"
  for k in $KEYS; do check "json: key $k" "[ \$(grep -c '\"$k\":' '$tmp/json') -eq 2 ]"; done
fi

# csv: a header with the same keys, 2 rows with as many fields as the header
"$BIN" bench "${ARGS[@]}" -o csv >"$tmp/csv" 2>/dev/null; rc=$?
check "csv: exit 0, header + 2 rows" "[ $rc -eq 0 ] && [ \$(wc -l <'$tmp/csv') -eq 3 ]"
for k in $KEYS; do check "csv: column $k" "head -1 '$tmp/csv' | tr , '\\n' | grep -qx '$k'"; done
nf=$(head -1 "$tmp/csv" | awk -F, '{ print NF }')
check "csv: every row has $nf fields" "sed 1d '$tmp/csv' | sed 's/\"[^\"]*\"/x/g' | awk -F, -v n=$nf 'NF != n { bad = 1 } END { exit bad }'"

# bad input: one line naming the problem, exit 1
bad() {  # $1 = description, $2 = expected text, rest = args
  local what=$1 want=$2; shift 2
  "$BIN" bench "$@" >/dev/null 2>"$tmp/e"; local rc=$?
  check "$what -> exit 1, one line" "[ $rc -eq 1 ] && grep -q -- '$want' '$tmp/e' && [ \$(wc -l <'$tmp/e') -eq 1 ]"
}
bad "no model" "no model" -p 16
bad "unknown flag" "unknown flag .--frob" --like smollm2-135m --frob 1
bad "bad -o" "md, json or csv" --like smollm2-135m -o xml
bad "bad thread list" "\-t expects" --like smollm2-135m -t 1,x
bad "-p 0 -n 0" "nothing to run" --like smollm2-135m -p 0 -n 0
bad "missing value" "\-r needs a value" --like smollm2-135m -r
bad "unknown preset" "unknown preset .nosuch" --like nosuch
bad "unknown type" "unknown type .Q9_9" --like smollm2-135m:Q9_9
bad "missing file" "missing.gguf" -m "$tmp/missing.gguf"
exit $fail
