#!/usr/bin/env bash
# Installs the Debian 12 packages that only the side-by-side benchmarks need (bench/run), if any
# are missing, through scripts/deps.sh (root: apt-get; otherwise the exact command, and failure).
#   wrk          the HTTP load generator
#   nginx-light  the widely known HTTP reference peer
#   libasio-dev  standalone Asio 1.22 for the Asio peers (header only)
#   gnuplot-nox  the charts in docs/img/bench_*.png
#   linux-perf   profiles of the server under load (used when present)
set -euo pipefail
exec "$(dirname "$0")/../scripts/deps.sh" wrk nginx-light libasio-dev gnuplot-nox linux-perf
