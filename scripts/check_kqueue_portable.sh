#!/usr/bin/env bash
# The kqueue poller must build on macOS/iOS/FreeBSD, which have no Linux headers, yet it is only
# ever compiled on Linux here. This check (ctest: kqueue.portable_check) fails if
#  1. backends/src/kqueue_poller.cpp or its header includes a Linux-only header or names a
#     Linux-only API (epoll, eventfd, accept4, SOCK_NONBLOCK, MSG_NOSIGNAL, ...), or if any header
#     of ours they pull in includes a Linux-only header outside an `#if ... __linux__` block
#     (backends/src/kqueue_abi.h is exempt: it stands in for <sys/event.h> and is never used
#     where that exists);
#  2. kqueue_poller.cpp does not compile (-fsyntax-only -Werror) against kqueue_abi.h with the
#     FreeBSD layout and with the macOS one (-DOPENSOCKET_KQUEUE_ABI_MACOS), or its header does
#     not compile on its own.
# Usage: scripts/check_kqueue_portable.sh [C++ compiler]   (default: $CXX, else c++)
set -euo pipefail
cd "$(dirname "$0")/.."
cxx=${1:-${CXX:-c++}}

roots=(backends/src/kqueue_poller.cpp backends/include/opensocket/backends/kqueue_poller.hpp)
include_dirs=(core/include backends/include coro/include http/include)

linux_headers='^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"](linux/|asm/|asm-generic/|sys/epoll\.h|sys/eventfd\.h|sys/signalfd\.h|sys/timerfd\.h|sys/inotify\.h|sys/fanotify\.h|sys/sendfile\.h|sys/prctl\.h|sys/sysinfo\.h|sys/vfs\.h|sys/syscall\.h|sys/personality\.h|liburing|features\.h|bits/|gnu/|mntent\.h|malloc\.h|execinfo\.h)'
linux_apis='\b(epoll_[a-z0-9_]+|EPOLL[A-Z_]*|eventfd|EFD_[A-Z_]+|signalfd|timerfd_[a-z]+|io_uring_[a-z_]+|accept4|pipe2|dup3|SOCK_NONBLOCK|SOCK_CLOEXEC|MSG_NOSIGNAL|SO_REUSEPORT_LB|TCP_CORK|splice|sendfile|syscall|__linux__|__gnu_linux__)\b'

# Prints the lines of $1 that match $2 outside `#if` blocks conditioned on __linux__ (an #else or
# #elif branch of such a block counts as outside).
unguarded_matches() {
    awk -v pat="$2" '
        function linux_active(   i) { for (i = 1; i <= depth; ++i) if (guard[i]) return 1; return 0 }
        /^[[:space:]]*#[[:space:]]*if/ {
            ++depth
            guard[depth] = ($0 ~ /__linux__/ && $0 !~ /!/ && $0 !~ /ifndef/)
            next
        }
        /^[[:space:]]*#[[:space:]]*(elif|else)/ { if (depth) guard[depth] = 0; next }
        /^[[:space:]]*#[[:space:]]*endif/ { if (depth) --depth; next }
        { if (!linux_active() && $0 ~ pat) printf "%s:%d: %s\n", FILENAME, FNR, $0 }
    ' "$1"
}

# Our headers reachable from the roots (#include <opensocket/...> and "local.h"), transitively.
declare -A seen=()
queue=("${roots[@]}")
while ((${#queue[@]})); do
    f=${queue[0]}
    queue=("${queue[@]:1}")
    [[ -n ${seen[$f]:-} ]] && continue
    seen[$f]=1
    while read -r inc; do
        for dir in "${include_dirs[@]}"; do
            [[ -f $dir/$inc ]] && queue+=("$dir/$inc")
        done
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*<\(opensocket\/[^>]*\)>.*/\1/p' "$f")
    while read -r inc; do
        [[ $inc == kqueue_abi.h ]] && continue
        [[ -f $(dirname "$f")/$inc ]] && queue+=("$(dirname "$f")/$inc")
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done

status=0
for f in $(printf '%s\n' "${!seen[@]}" | sort); do
    hits=$(unguarded_matches "$f" "$linux_headers")
    if [[ " ${roots[*]} " == *" $f "* ]]; then
        # The kqueue files themselves: no Linux API either (comments aside).
        hits+=$(sed 's|//.*||' "$f" | grep -nE "$linux_apis" | sed "s|^|$f:|" || true)
    fi
    if [[ -n $hits ]]; then
        echo "kqueue portability: Linux-only code reachable from the kqueue poller:" >&2
        echo "$hits" >&2
        status=1
    fi
done
echo "kqueue portability: ${#seen[@]} files scanned: ${!seen[*]}"

flags=(-std=c++20 -fsyntax-only -Wall -Wextra -Wpedantic -Wshadow -Wold-style-cast -Werror)
incs=()
for dir in "${include_dirs[@]}"; do incs+=(-I"$dir"); done
incs+=(-Ibackends/src)
for abi in freebsd macos; do
    defs=()
    [[ $abi == macos ]] && defs=(-DOPENSOCKET_KQUEUE_ABI_MACOS=1)
    if "$cxx" "${flags[@]}" "${defs[@]}" "${incs[@]}" backends/src/kqueue_poller.cpp; then
        echo "kqueue portability: kqueue_poller.cpp compiles with the $abi kevent layout"
    else
        echo "kqueue portability: kqueue_poller.cpp does not compile with the $abi layout" >&2
        status=1
    fi
done
if echo '#include <opensocket/backends/kqueue_poller.hpp>' |
    "$cxx" "${flags[@]}" "${incs[@]}" -x c++ -; then
    echo "kqueue portability: kqueue_poller.hpp is self-contained"
else
    echo "kqueue portability: kqueue_poller.hpp does not compile on its own" >&2
    status=1
fi
exit $status
