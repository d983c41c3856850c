#!/usr/bin/env bash
# The whole test suite, as CI runs it:
#   1. AddressSanitizer + UndefinedBehaviorSanitizer build, all tests;
#   2. the GGUF parser fuzzed with libFuzzer for FUZZ_SECONDS (default 60) under ASan;
#   3. the NEON kernels: aarch64 cross build, kernel tests under qemu-aarch64
#      (scripts/test-neon.sh; skipped when the cross tools are missing, NEON=0 skips it);
#   4. the release build (-Wall -Wextra -Werror), all tests — its ctest summary ends the run.
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

if [ "${NEON:-1}" != 0 ]; then
  echo "== NEON kernels (aarch64 cross build, tests under qemu-aarch64)"
  neon_rc=0
  scripts/test-neon.sh || neon_rc=$?
  if [ "$neon_rc" -eq 77 ]; then
    echo "(NEON step skipped)"
  elif [ "$neon_rc" -ne 0 ]; then
    exit "$neon_rc"
  fi
fi

echo "== release build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$JOBS" >/dev/null
ctest --test-dir build --output-on-failure -j "$JOBS"
