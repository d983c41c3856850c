#!/usr/bin/env bash
# `edgewatt perplexity` on the real stories260K model agrees with the reference llama.cpp.
# Expected value made with (llama.cpp build 11669, Debian):
#   ../shared/tools/llamacpp-ref.sh run llama-perplexity -m ../shared/models/stories260K/stories260K.gguf \
#     -f ../shared/data/tinystories/cs336_tinystories_sample.txt -c 128 -t 2
#   -> [1]4.0932,[2]3.7352,... 14 chunks, Final estimate: PPL = 6.8458 +/- 0.74221
set -u
BIN=${EW_BIN:?}; SHARED=${EW_SHARED:?}
M=$SHARED/models/stories260K/stories260K.gguf
T=$SHARED/data/tinystories/cs336_tinystories_sample.txt
[ -f "$M" ] && [ -f "$T" ] || { echo "skipped: shared files absent"; exit 77; }
out=$("$BIN" perplexity -m "$M" -f "$T" --ctx 128 -t 2 2>/dev/null) || { echo "FAIL: perplexity exited $?"; exit 1; }
echo "$out"
ppl=$(echo "$out" | sed -n 's/^Final estimate: PPL = \([0-9.]*\) +\/- [0-9.]*$/\1/p')
chunks=$(echo "$out" | grep -o '\[[0-9]*\]' | wc -l)
[ -n "$ppl" ] || { echo "FAIL: no 'Final estimate' line"; exit 1; }
[ "$chunks" -eq 14 ] || { echo "FAIL: $chunks chunks, expected 14"; exit 1; }
awk -v p="$ppl" 'BEGIN { d = (p - 6.8458) / 6.8458; if (d < 0) d = -d; if (d > 0.005) { printf "FAIL: PPL %s vs llama.cpp 6.8458 (%.3f%%)\n", p, d * 100; exit 1 } printf "ok: PPL %s vs llama.cpp 6.8458 (%.4f%%)\n", p, d * 100 }'
