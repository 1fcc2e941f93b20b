#!/usr/bin/env bash
# Installs the Debian 12 packages OpenSocket needs, if any are missing.
#   scripts/deps.sh            build + test dependencies
#   scripts/deps.sh PKG...     these packages instead (bench/deps.sh uses this)
# As root it runs apt-get; otherwise it prints the exact command to run and fails.
set -euo pipefail

packages=("$@")
[ ${#packages[@]} -eq 0 ] && packages=(cmake g++ clang-14 clang-format libclang-rt-14-dev pkg-config libfmt-dev liburing-dev
          libgtest-dev libgmock-dev libbenchmark-dev python3
          curl wrk chromium)  # clients for the http_echo integration tests

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

cmd="apt-get update && apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=300 ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "opensocket: missing packages: ${missing[*]}" >&2
    echo "opensocket: install them as root with:  $cmd" >&2
    exit 1
fi
echo "opensocket: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}" >/dev/null
