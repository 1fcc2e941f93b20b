#!/usr/bin/env bash
# Builds and runs the whole test suite, as CI does:
#   scripts/test.sh                  release (-Werror), ASan+UBSan and TSan builds, the Windows
#                                    cross build (mingw-w64, tests under wine), then the HTTP
#                                    parser fuzzer for 60 s
#   scripts/test.sh release          only some of: release asan tsan debug windows fuzz
# Installs missing Debian packages first (as root; otherwise prints the command).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
scripts/check_format.sh

presets=("$@")
[ ${#presets[@]} -eq 0 ] && presets=(ci-release asan tsan windows fuzz)

for preset in "${presets[@]}"; do
    [ "$preset" = release ] && preset=ci-release
    if [ "$preset" = fuzz ]; then
        echo "=== fuzz: HTTP parser, ${OPENSOCKET_FUZZ_SECONDS:-60} s ==="
        fuzz/run.sh "${OPENSOCKET_FUZZ_SECONDS:-60}" 2>&1 | tail -n 25
        continue
    fi
    run=()
    if [ "$preset" = windows ]; then
        # mingw-w64 (posix threads: the win32 variant has no std::thread in GCC 12) and wine to
        # run the tests; GoogleTest and fmt come from the packages above (sources, headers).
        scripts/deps.sh g++-mingw-w64-x86-64-posix wine64 wine
    fi
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
