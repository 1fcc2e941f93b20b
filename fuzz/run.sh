#!/usr/bin/env bash
# Builds the HTTP parser fuzz target with clang 14 (libFuzzer + ASan + UBSan) and runs it for a
# bounded time, starting from the checked-in seed corpus:
#   fuzz/run.sh [seconds]          default 60
# New inputs go to $build/corpus (the seeds stay untouched); a crash is saved under
# $build/artifacts/ and makes the script fail (libFuzzer exits non-zero). The build directory is
# build/fuzz unless OPENSOCKET_FUZZ_BUILD names another. Needs clang-14 and libclang-rt-14-dev.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
build=${OPENSOCKET_FUZZ_BUILD:-build/fuzz}
cxx=${OPENSOCKET_FUZZ_CXX:-clang++-14}

cmake -S fuzz -B "$build" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target http_parser_fuzz

mkdir -p "$build/corpus" "$build/artifacts"
exec "$build/http_parser_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=8192 -print_final_stats=1 -dict=fuzz/http_parser.dict \
    -artifact_prefix="$build/artifacts/" "$build/corpus" fuzz/corpus/http_parser
