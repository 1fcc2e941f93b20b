#!/usr/bin/env bash
# Builds the release preset's micro benchmarks and runs them (3 repetitions, medians reported),
# then prints OpenSocket and Asio side by side. Repetitions are interleaved at random so that a
# slow spell of this shared machine hits both sides of a pair alike. Takes about a minute.
# Extra arguments go to the benchmark binary, e.g. --benchmark_filter=hop.
set -euo pipefail
cd "$(dirname "$0")/.."

cmake --preset release >/dev/null
cmake --build --preset release --target opensocket_micro

bin=build/release/bench/opensocket_micro
json=build/release/bench/micro.json
"$bin" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
    --benchmark_min_time=0.5 --benchmark_enable_random_interleaving=true \
    --benchmark_out="$json" --benchmark_out_format=json "$@"

echo
if command -v python3 >/dev/null; then
    python3 bench/micro_summary.py "$json"
else
    echo "python3 not found: no side-by-side summary (see $json)"
fi
