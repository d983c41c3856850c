#!/usr/bin/env bash
# Numerics check against the reference llama.cpp: synthesize a model in several types, run
# `edgewatt perplexity` and `llama-perplexity` on the same file, same text, same ctx, and
# print both PPLs and their relative difference (the target is < 0.5%).
#
#   bench/ppl-vs-llamacpp.sh [PRESET] [CHUNKS] [TYPES...]
# Needs ../shared/tools/llamacpp-ref.sh installed (a dev tool, not a CI dependency).
set -euo pipefail
cd "$(dirname "$0")/.."
PRESET=${1:-smollm2-135m}; CHUNKS=${2:-4}; shift 2 2>/dev/null || true
TYPES=${*:-F16 Q8_0 Q4_0 Q4_K_M}
BIN=${EW_BIN:-build/edgewatt}
REF=../shared/tools/llamacpp-ref.sh
TEXT=$(cd ../shared/data/wikitext2 && pwd)/wiki.test.raw
THREADS=${THREADS:-$(nproc)}
tmp=${TMPDIR:-/tmp}/ew-ppl; mkdir -p "$tmp"
printf '| model | type | edgewatt PPL | llama.cpp PPL | diff |\n|---|---|---|---|---|\n'
for t in $TYPES; do
  f=$tmp/$PRESET-$t.gguf
  [ -f "$f" ] || "$BIN" synth --like "$PRESET" --type "$t" -o "$f" >/dev/null 2>&1
  ew=$("$BIN" perplexity -m "$f" -f "$TEXT" --ctx 512 --chunks "$CHUNKS" -t "$THREADS" 2>/dev/null | sed -n 's/^Final estimate: PPL = \([0-9.]*\).*/\1/p')
  ll=$("$REF" run llama-perplexity -m "$f" -f "$TEXT" -c 512 --chunks "$CHUNKS" -t "$THREADS" 2>&1 | sed -n 's/.*Final estimate: PPL = \([0-9.]*\).*/\1/p')
  d=$(awk -v a="$ew" -v b="$ll" 'BEGIN { printf "%+.3f%%", (a - b) / b * 100 }')
  printf '| %s | %s | %s | %s | %s |\n' "$PRESET" "$t" "$ew" "$ll" "$d"
done
