#!/usr/bin/env bash
# The whole test suite, as CI runs it:
#   1. AddressSanitizer + UndefinedBehaviorSanitizer build, all tests;
#   2. the GGUF parser fuzzed with libFuzzer for FUZZ_SECONDS (default 60) under ASan;
#   3. the release build (-Wall -Wextra -Werror), all tests — its ctest summary ends the run.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}

echo "== sanitizer build (address,undefined)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DEW_SANITIZE=address,undefined >/dev/null
cmake --build build-asan -j "$JOBS" >/dev/null
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --test-dir build-asan --output-on-failure -j "$JOBS" -E '^bench_'

if [ "$FUZZ_SECONDS" -gt 0 ] && [ -x tests/fuzz/run.sh ]; then
  echo "== fuzzing the GGUF reader for ${FUZZ_SECONDS}s"
  tests/fuzz/run.sh "$FUZZ_SECONDS"
fi

echo "== release build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$JOBS" >/dev/null
ctest --test-dir build --output-on-failure -j "$JOBS"
