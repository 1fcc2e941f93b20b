#pragma once
// The socket calls of the readiness engine (io_syscalls.cpp), one spelling for every platform:
// each returns what the POSIX call returns and reports errors in errno. On Windows they wrap
// Winsock, with the Winsock error mapped to its errno value (detail/platform.hpp); accept makes
// the new socket non-blocking (no accept4), and a non-blocking connect in progress is
// EINPROGRESS as on POSIX.
//
// On Linux, recv and send skip glibc's cancellation-point wrappers. glibc's recv() and send()
// are POSIX thread-cancellation points: in a multi-threaded process each call brackets the
// syscall with two atomic compare-and-swaps on the thread's cancel state
// (__pthread_enable/disable_asynccancel). OpenSocket never uses pthread_cancel, and those two
// atomics were about 2 % of the HTTP server's CPU time under keep-alive load (perf).
// syscall(2) is not a cancellation point, so the hot path calls it directly. Sanitizer builds
// keep the libc calls: ASan checks the buffers and TSan models the descriptor synchronisation
// through its interceptors of exactly these functions.

#include <opensocket/detail/platform.hpp>

#include <cerrno>
#include <cstddef>

#if defined(__linux__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#if defined(__has_feature)
#if !__has_feature(address_sanitizer) && !__has_feature(thread_sanitizer) && \
    !__has_feature(memory_sanitizer)
#define OPENSOCKET_RAW_SOCKET_SYSCALLS 1
#endif
#else
#define OPENSOCKET_RAW_SOCKET_SYSCALLS 1
#endif
#endif

#ifdef OPENSOCKET_RAW_SOCKET_SYSCALLS
#include <sys/syscall.h>
#include <unistd.h>
#endif

#ifdef _WIN32
#include <algorithm>
#include <climits>
#endif

namespace opensocket::detail {

#ifdef _WIN32
/// errno = the calling thread's last Winsock error; returns `rc`.
template <class T>
inline T with_errno(T rc) noexcept {
    errno = last_socket_errno();
    return rc;
}

inline int clamp_len(std::size_t len) noexcept {
    return static_cast<int>(std::min<std::size_t>(len, INT_MAX));
}

inline ssize_t sys_recv(SOCKET s, void* buf, std::size_t len, int flags) noexcept {
    int n = ::recv(s, static_cast<char*>(buf), clamp_len(len), flags);
    return n < 0 ? with_errno(ssize_t{-1}) : n;
}

inline ssize_t sys_send(SOCKET s, const void* buf, std::size_t len, int flags) noexcept {
    int n = ::send(s, static_cast<const char*>(buf), clamp_len(len), flags);
    return n < 0 ? with_errno(ssize_t{-1}) : n;
}

/// accept, then non-blocking (Windows has no accept4). The handle, or invalid with errno set.
inline SOCKET sys_accept(SOCKET s, sockaddr* addr, socklen_t* len) noexcept {
    SOCKET c = ::accept(s, addr, len);
    if (c == INVALID_SOCKET) return with_errno(c);
    if (auto ec = set_blocking(c, false)) {
        ::closesocket(c);
        errno = ec.value();
        return INVALID_SOCKET;
    }
    return c;
}

/// connect: 0, or -1 with errno set. Winsock says WSAEWOULDBLOCK for a non-blocking connect in
/// progress: that is EINPROGRESS, as on POSIX.
inline int sys_connect(SOCKET s, const sockaddr* addr, socklen_t len) noexcept {
    if (::connect(s, addr, len) == 0) return 0;
    int e = last_socket_errno();
    errno = e == EWOULDBLOCK ? EINPROGRESS : e;
    return -1;
}

/// SO_ERROR as an errno value (0 = none) into `err`: 0, or -1 with errno set.
inline int sys_socket_error(SOCKET s, int& err) noexcept {
    int len = sizeof err;
    if (::getsockopt(s, SOL_SOCKET, SO_ERROR, reinterpret_cast<char*>(&err), &len) != 0)
        return with_errno(-1);
    err = errno_from_socket_error(err);
    return 0;
}
#else
/// accept4(2), non-blocking and close-on-exec: the descriptor, or -1 with errno set.
inline int sys_accept(int fd, sockaddr* addr, socklen_t* len) noexcept {
    return ::accept4(fd, addr, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

/// connect(2): 0, or -1 with errno set.
inline int sys_connect(int fd, const sockaddr* addr, socklen_t len) noexcept {
    return ::connect(fd, addr, len);
}

/// SO_ERROR into `err`: 0, or -1 with errno set.
inline int sys_socket_error(int fd, int& err) noexcept {
    socklen_t len = sizeof err;
    return ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
}

/// recv(2): the bytes read, or -1 with errno set.
inline ssize_t sys_recv(int fd, void* buf, std::size_t len, int flags) noexcept {
#ifdef OPENSOCKET_RAW_SOCKET_SYSCALLS
    return ::syscall(SYS_recvfrom, fd, buf, len, flags, nullptr, nullptr);
#else
    return ::recv(fd, buf, len, flags);
#endif
}

/// send(2): the bytes written, or -1 with errno set.
inline ssize_t sys_send(int fd, const void* buf, std::size_t len, int flags) noexcept {
#ifdef OPENSOCKET_RAW_SOCKET_SYSCALLS
    return ::syscall(SYS_sendto, fd, buf, len, flags, nullptr, 0);
#else
    return ::send(fd, buf, len, flags);
#endif
}
#endif  // _WIN32

}  // namespace opensocket::detail
