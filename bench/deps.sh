#!/usr/bin/env bash
# Installs the Debian 12 packages that only the side-by-side benchmarks need (bench/run), if any
# are missing. The build and test dependencies are scripts/deps.sh's business.
#   wrk          the HTTP load generator
#   nginx-light  the widely known HTTP reference peer
#   libasio-dev  standalone Asio 1.22 for the Asio peers (header only)
#   gnuplot      the charts in docs/img/bench_*.png
#   linux-perf   profiles of the server under load (optional for bench/run, used when present)
# As root it runs apt-get; otherwise it prints the exact command to run and fails.
set -euo pipefail

packages=(wrk nginx-light libasio-dev gnuplot-nox linux-perf)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

cmd="apt-get update && apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=300 ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "opensocket bench: missing packages: ${missing[*]}" >&2
    echo "opensocket bench: install them as root with:  $cmd" >&2
    exit 1
fi
echo "opensocket bench: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}" >/dev/null
