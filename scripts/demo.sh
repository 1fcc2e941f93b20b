#!/usr/bin/env bash
# Builds (release) and starts the demo server on port 8888 (extra flags are passed through):
#   scripts/demo.sh [--port P] [--threads N] [--engine NAME]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake --preset release -DOPENSOCKET_BUILD_TESTS=OFF -DOPENSOCKET_BUILD_BENCH=OFF >/dev/null
cmake --build --preset release --target tcp_echo
exec build/release/examples/tcp_echo "$@"
