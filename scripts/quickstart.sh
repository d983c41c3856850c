#!/usr/bin/env bash
# Install dependencies, build, and run the real stories260K model from ../shared (no download).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
./build/edgewatt run -m ../shared/models/stories260K/stories260K.gguf -p "Once upon a time" -n 100 --temp 0
./build/edgewatt bench --like smollm2-135m:Q8_0 -p 128 -n 32 -r 3
