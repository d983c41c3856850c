#!/usr/bin/env bash
# The NEON kernels on an x86 host, with Debian's aarch64-linux-gnu-gcc and qemu-user:
#   1. the library cross-built for aarch64 through CMakeLists.txt (its aarch64 branch: which
#      ISA files are built, with which flags; every file -Werror). PCRE2 and jansson come
#      from the host's headers (arch-independent); nothing links them here;
#   2. the cpu, quant and kernel unit tests linked statically against it (qemu then needs no
#      sysroot) and run under qemu-aarch64 on two CPU models: "max" (dot product, i8mm: the
#      *_dotprod.c kernels) and "cortex-a53" (neither: the base NEON kernels), plus once
#      with EW_CPU=scalar.
# Exit: 0 all passed, 1 a build or test failed, 77 skipped (no cross compiler, aarch64 libc
# or qemu-aarch64; scripts/deps.sh installs them). Logs: $BUILD_NEON/logs (default
# build-neon/).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${BUILD_NEON:-build-neon}
CC_A64=${CC_A64:-aarch64-linux-gnu-gcc}
JOBS=${JOBS:-$(nproc)}

skip() { echo "test-neon: skipped: $*" >&2; exit 77; }
command -v "$CC_A64" >/dev/null 2>&1 || skip "$CC_A64 not found (apt-get install gcc-aarch64-linux-gnu)"
QEMU=$(command -v qemu-aarch64 || command -v qemu-aarch64-static || true)
[ -n "$QEMU" ] || skip "qemu-aarch64 not found (apt-get install qemu-user)"
[ -f "$("$CC_A64" -print-file-name=libc.a)" ] || skip "no static aarch64 libc (apt-get install libc6-dev-arm64-cross)"

rm -rf "$OUT"
mkdir -p "$OUT/logs"

# fail WHAT LOG: report a build step's failure with its log, exit 1.
fail() {
  echo "test-neon: $1 failed:" >&2
  tail -n 40 "$2" >&2
  exit 1
}

cmake -S . -B "$OUT/cmake" -DCMAKE_BUILD_TYPE=Release -DCMAKE_SYSTEM_NAME=Linux \
  -DCMAKE_SYSTEM_PROCESSOR=aarch64 -DCMAKE_C_COMPILER="$CC_A64" >"$OUT/logs/cmake.log" 2>&1 ||
  fail "configuring the aarch64 build" "$OUT/logs/cmake.log"
cmake --build "$OUT/cmake" -j "$JOBS" --target edgewatt >"$OUT/logs/build.log" 2>&1 ||
  fail "building the library for aarch64" "$OUT/logs/build.log"
LIB="$OUT/cmake/libedgewatt.a"

# The tests get the release build's flags (CMakeLists.txt), -std=c11 included.
CFLAGS=(-std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Wshadow -Wno-unused-parameter
        -fno-strict-aliasing -Werror -Isrc -Iinclude -Itests)
tests=()
for src in tests/unit/core/test_cpu.c tests/unit/quant/test_*.c tests/unit/kernels/test_*.c; do
  name=$(basename "${src%.c}")
  "$CC_A64" "${CFLAGS[@]}" -static -o "$OUT/$name" "$src" "$LIB" -lm -lpthread \
    >"$OUT/logs/$name.build.log" 2>&1 || fail "building $name" "$OUT/logs/$name.build.log"
  tests+=("$name")
done

failed=0
runs=0
# run LABEL CPU TEST [VAR=VALUE...]: one test under qemu, output to a log, tail on failure.
run() {
  local label=$1 cpu=$2 name=$3
  shift 3
  local log="$OUT/logs/$name.$label.log" rc=0
  env EW_SOURCE="$PWD" EW_SHARED="$PWD/../shared" "$@" "$QEMU" -cpu "$cpu" "$OUT/$name" >"$log" 2>&1 || rc=$?
  runs=$((runs + 1))
  if [ "$rc" -eq 0 ]; then
    printf '  %-22s %-10s ok\n' "$name" "$label"
  elif [ "$rc" -eq 77 ]; then
    printf '  %-22s %-10s skipped\n' "$name" "$label"
  else
    failed=$((failed + 1))
    printf '  %-22s %-10s FAILED (exit %d), last lines of %s:\n' "$name" "$label" "$rc" "$log"
    tail -n 20 "$log" | sed 's/^/    /'
  fi
}

# want_feature LABEL FLAG VALUE: test_cpu's feature line under that CPU model says FLAG=VALUE
# (so the model really exercises the kernels it is meant to).
want_feature() {
  local log="$OUT/logs/test_cpu.$1.log"
  if ! grep -q "^features:.* $2=$3" "$log"; then
    failed=$((failed + 1))
    echo "  test_cpu $1: expected $2=$3 in: $(grep '^features:' "$log" || echo 'no features line')"
  fi
}

echo "test-neon: $(basename "$QEMU") $("$QEMU" --version | head -n 1 | grep -o 'version [0-9.]*')"
for t in "${tests[@]}"; do run dotprod max "$t"; done
for t in "${tests[@]}"; do run base cortex-a53 "$t"; done
run scalar max test_kernels_simd EW_CPU=scalar
run scalar max test_cpu EW_CPU=scalar
want_feature dotprod dotprod 1
want_feature base dotprod 0
want_feature base neon 1

if [ "$failed" -ne 0 ]; then
  echo "test-neon: $failed failure(s) in $runs runs under qemu-aarch64"
  exit 1
fi
echo "test-neon: all $runs runs passed under qemu-aarch64 (cpu max: dotprod; cortex-a53: base NEON)"
