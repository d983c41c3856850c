#!/usr/bin/env bash
# Build the libFuzzer targets (tests/fuzz/fuzz_*.c) with clang + ASan/UBSan and run each for
# N seconds on its seed corpus.
#
#   tests/fuzz/run.sh [SECONDS] [TARGET...]     default: 60 seconds, every fuzz_* target
#
# Environment:
#   EW_FUZZ_BUILD   build directory (default <repo>/build-fuzz)
#   EW_FUZZ_JOBS    parallel fuzzing jobs per target (default 1)
#   EW_FUZZ_ARGS    extra libFuzzer flags
# The whole library is built with -fsanitize=fuzzer-no-link so libFuzzer sees coverage of the
# code under test, not only of the target file. A target may write its own seeds: run with
# EW_FUZZ_WRITE_SEEDS=<dir> it writes a few valid inputs there and exits (fuzz_gguf does).
# A crash leaves its input in <build>/artifacts/ and makes the script fail.
set -euo pipefail
SECS=${1:-60}
shift || true
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${EW_FUZZ_BUILD:-$ROOT/build-fuzz}
JOBS=${EW_FUZZ_JOBS:-1}

command -v clang >/dev/null || { echo "run.sh: clang not found" >&2; exit 77; }

CC=clang cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DEW_FUZZ=ON \
  -DEW_SANITIZE=address,undefined -DEW_WERROR=OFF \
  -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link -O1" >/dev/null

if [ $# -gt 0 ]; then
  TARGETS=("$@")
else
  TARGETS=()
  for f in "$ROOT"/tests/fuzz/fuzz_*.c; do TARGETS+=("$(basename "$f" .c)"); done
fi
cmake --build "$BUILD" --target "${TARGETS[@]}" -j"$(nproc)" >/dev/null

mkdir -p "$BUILD/artifacts"
status=0
for t in "${TARGETS[@]}"; do
  corpus="$BUILD/corpus/$t"
  mkdir -p "$corpus"
  # seeds (targets that do not know the variable just run the empty input once)
  EW_FUZZ_WRITE_SEEDS="$corpus" "$BUILD/$t" -runs=0 "$corpus" >/dev/null 2>&1 || true
  dict=()
  jobs=()
  [ "$JOBS" -gt 1 ] && jobs=(-jobs="$JOBS" -workers="$JOBS")
  name=${t#fuzz_}
  [ -f "$ROOT/tests/fuzz/$name.dict" ] && dict=(-dict="$ROOT/tests/fuzz/$name.dict")
  echo "== $t: ${SECS}s, corpus $corpus ($(ls "$corpus" | wc -l) files)"
  if ! "$BUILD/$t" -max_total_time="$SECS" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=1 "${jobs[@]}" \
       -artifact_prefix="$BUILD/artifacts/$t-" "${dict[@]}" ${EW_FUZZ_ARGS:-} "$corpus" 2>"$BUILD/$t.log"; then
    status=1
    echo "!! $t failed; see $BUILD/$t.log and $BUILD/artifacts/" >&2
    tail -40 "$BUILD/$t.log" >&2
  else
    grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb)|DONE" "$BUILD/$t.log" | tail -3
  fi
done
exit $status
