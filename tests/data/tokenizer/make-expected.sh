#!/usr/bin/env bash
# make-expected.sh - regenerate the reference token ids in this directory with the reference
# llama.cpp (../shared/tools/llamacpp-ref.sh, llama-tokenize). Run from the repository root:
#
#   BUILD=build tests/data/tokenizer/make-expected.sh
#
# Vocabularies without a GGUF at hand are written as vocab-only GGUFs by tests/tools/vocab_gguf.c
# (edgewatt's importer + GGUF writer), so llama.cpp reads exactly the metadata edgewatt makes.
# For every vocabulary V and input I (mixed.txt, invalid-utf8.dat, special.txt) it writes
#   V.I.ids          llama-tokenize defaults: BOS as the metadata asks, special tokens parsed
#   V.I.nospecial.ids  (special.txt only) the same with --no-parse-special
# Each .ids file is llama-tokenize's --ids output: one line "[id, id, ...]".
set -euo pipefail
ROOT=$(pwd)
DIR=tests/data/tokenizer
SHARED=${EW_SHARED:-$ROOT/../shared}
REF=${LLAMACPP_REF:-$SHARED/tools/llamacpp-ref.sh}
BUILD=${BUILD:-build}
TMP=$(mktemp -d /tmp/ew-tok-expected.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# the vocab-only GGUF writer (linked against the built library)
VOCAB_GGUF=${VOCAB_GGUF:-}
if [ -z "$VOCAB_GGUF" ]; then
  VOCAB_GGUF=$TMP/vocab_gguf
  cc -std=c11 -D_GNU_SOURCE -O2 -Iinclude -Isrc tests/tools/vocab_gguf.c "$BUILD/libedgewatt.a" \
     $(pkg-config --libs libpcre2-8 jansson) -lm -lpthread -o "$VOCAB_GGUF"
fi

T=$SHARED/data/tokenizers
declare -A GGUF=(
  [stories260k]=$SHARED/models/stories260K/stories260K.gguf
  [gpt2]=$T/llamacpp-vocab-tests/ggml-vocab-gpt-2.gguf
  [smollm2]=$TMP/smollm2.gguf
  [llama3]=$TMP/llama3.gguf
  [qwen3]=$TMP/qwen3.gguf
)
"$VOCAB_GGUF" --import "$T/smollm2-135m-instruct/tokenizer.json" -o "$TMP/smollm2.gguf"
"$VOCAB_GGUF" --import "$T/llama3/tokenizer.model" -o "$TMP/llama3.gguf"
"$VOCAB_GGUF" --import "$T/qwen3" -o "$TMP/qwen3.gguf"

"$REF" version 2>&1 | head -1 > "$DIR/llamacpp-version.txt"
for v in "${!GGUF[@]}"; do
  for input in mixed.txt invalid-utf8.dat special.txt; do
    base=${input%.*}
    "$REF" run llama-tokenize -m "${GGUF[$v]}" -f "$DIR/$input" --ids --log-disable --no-escape 2>/dev/null \
      | tail -n 1 > "$DIR/$v.$base.ids"
    if [ "$input" = special.txt ]; then
      "$REF" run llama-tokenize -m "${GGUF[$v]}" -f "$DIR/$input" --ids --log-disable --no-escape \
        --no-parse-special 2>/dev/null | tail -n 1 > "$DIR/$v.$base.nospecial.ids"
    fi
  done
  echo "$v: $(wc -c < "$DIR/$v.mixed.ids") bytes of ids for mixed.txt"
done
