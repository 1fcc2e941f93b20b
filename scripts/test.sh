#!/usr/bin/env bash
# Builds and runs the whole test suite, as CI does:
#   scripts/test.sh                  release (-Werror), ASan+UBSan and TSan builds, then the HTTP
#                                    parser fuzzer for 60 s
#   scripts/test.sh release          only some of: release asan tsan debug fuzz
# Installs missing Debian packages first (as root; otherwise prints the command).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
scripts/check_format.sh

presets=("$@")
[ ${#presets[@]} -eq 0 ] && presets=(ci-release asan tsan fuzz)

for preset in "${presets[@]}"; do
    [ "$preset" = release ] && preset=ci-release
    if [ "$preset" = fuzz ]; then
        echo "=== fuzz: HTTP parser, ${OPENSOCKET_FUZZ_SECONDS:-60} s ==="
        fuzz/run.sh "${OPENSOCKET_FUZZ_SECONDS:-60}" 2>&1 | tail -n 25
        continue
    fi
    run=()
    if [ "$preset" = tsan ]; then
        # TSan cannot map its shadow memory with 32 bits of mmap randomisation (PLATFORMS.md).
        if [ "$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 28)" -gt 28 ]; then
            if [ "$(id -u)" -eq 0 ]; then
                sysctl -qw vm.mmap_rnd_bits=28
            else
                run=(setarch "$(uname -m)" -R)
            fi
        fi
    fi
    echo "=== $preset: configure + build ==="
    cmake --preset "$preset" >/dev/null
    cmake --build --preset "$preset"
    echo "=== $preset: test ==="
    "${run[@]}" ctest --preset "$preset" -j2
done
