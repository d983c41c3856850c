#!/usr/bin/env bash
# Install the Debian packages edgewatt builds and tests with (skips what is installed).
# Why each one: see README.md, "Dependencies".
set -euo pipefail
PKGS="cmake make gcc pkg-config libpcre2-dev libjansson-dev clang libclang-rt-14-dev valgrind"
# NEON kernels, tested on x86 (scripts/test-neon.sh): aarch64 cross compiler + static libc,
# qemu user-mode emulation.
PKGS="$PKGS gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing:$missing" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
