#!/usr/bin/env bash
# `edgewatt run` on the real stories260K model: greedy output byte-identical to llama2.c's,
# and bad input gives one clear line and exit code 1.
set -u
BIN=${EW_BIN:?}; SHARED=${EW_SHARED:?}
M=$SHARED/models/stories260K/stories260K.gguf
[ -f "$M" ] || { echo "skipped: $M absent"; exit 77; }
fail=0; tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }

"$BIN" run -m "$M" -n 200 --temp 0 -t 2 >"$tmp/out" 2>"$tmp/err"
check "greedy 200 from BOS matches llama2.c" "cmp -s '$tmp/out' '$SHARED/models/stories260K/expected-greedy-200.txt'"
# "Once upon a time": 120 positions in total as llama2.c counts them (BOS + 4 prompt tokens here)
"$BIN" run -m "$M" -p "Once upon a time" -n 116 --temp 0 -t 1 >"$tmp/out2" 2>/dev/null
check "greedy with prompt matches llama2.c" "cmp -s '$tmp/out2' '$SHARED/models/stories260K/expected-greedy-prompt-once-upon-a-time-120.txt'"
check "summary line on stderr" "grep -q 'tok/s' '$tmp/err' && grep -q 'peak RSS' '$tmp/err'"

# bad input: one line naming the problem, exit 1
"$BIN" run -m "$tmp/missing.gguf" -p hi >/dev/null 2>"$tmp/e1"; rc=$?
check "missing file -> exit 1" "[ $rc -eq 1 ] && grep -q 'missing.gguf' '$tmp/e1' && [ \$(wc -l <'$tmp/e1') -eq 1 ]"
echo "hello, not a model" >"$tmp/bad.gguf"
"$BIN" run -m "$tmp/bad.gguf" -p hi >/dev/null 2>"$tmp/e2"; rc=$?
check "not a GGUF -> exit 1" "[ $rc -eq 1 ] && grep -qi 'magic\|gguf' '$tmp/e2' && [ \$(wc -l <'$tmp/e2') -eq 1 ]"
"$BIN" run -m "$M" -p "$(printf 'Once upon a time %.0s' $(seq 1 200))" -c 64 -n 4 >/dev/null 2>"$tmp/e3"; rc=$?
check "prompt longer than the context -> exit 1" "[ $rc -eq 1 ] && grep -q 'context' '$tmp/e3'"
"$BIN" run -m "$M" --temp abc >/dev/null 2>"$tmp/e4"; rc=$?
check "bad flag value -> exit 1" "[ $rc -eq 1 ] && grep -q -- '--temp' '$tmp/e4'"
"$BIN" frobnicate >/dev/null 2>&1; rc=$?
check "unknown command -> exit 1" "[ $rc -eq 1 ]"
exit $fail
