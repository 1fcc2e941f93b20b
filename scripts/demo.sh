#!/usr/bin/env bash
# Builds (release) and starts the HTTP echo demo on port 8888 (browse http://127.0.0.1:8888) (extra flags are passed through):
#   scripts/demo.sh [--port P] [--threads N] [--engine NAME]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake --preset release -DOPENSOCKET_BUILD_TESTS=OFF -DOPENSOCKET_BUILD_BENCH=OFF >/dev/null
cmake --build --preset release --target http_echo
exec build/release/examples/http_echo "$@"
