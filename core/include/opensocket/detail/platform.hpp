#pragma once
/// \file detail/platform.hpp
/// The platform seam for sockets: the one header that includes the OS socket API (Winsock 2 on
/// Windows, the BSD socket headers elsewhere), the native handle type, and the few calls whose
/// spelling differs. Everything above it speaks POSIX: errno values (Winsock errors are mapped
/// to them), SHUT_WR, sockaddr/socklen_t.
///
/// Windows: every target linking opensocket_core is built with FD_SETSIZE=4096,
/// WIN32_LEAN_AND_MEAN and NOMINMAX (core/CMakeLists.txt), so that all translation units agree
/// on the size of fd_set whichever of them includes <winsock2.h> first.

#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <winsock2.h>
#include <ws2tcpip.h>
// The POSIX spellings, so that portable code needs no #ifdef: shutdown() directions; no
// MSG_NOSIGNAL (Windows has no SIGPIPE) and no MSG_DONTWAIT (OpenSocket's sockets are
// non-blocking anyway).
#ifndef SHUT_RD
#define SHUT_RD SD_RECEIVE
#define SHUT_WR SD_SEND
#define SHUT_RDWR SD_BOTH
#endif
#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif
#ifndef MSG_DONTWAIT
#define MSG_DONTWAIT 0
#endif
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#endif

#include <cerrno>
#include <system_error>

namespace opensocket {

#ifdef _WIN32
/// The OS socket type: a Winsock `SOCKET` (pointer-sized; never truncate it to `int`).
using native_handle = SOCKET;
inline constexpr native_handle invalid_native_handle = INVALID_SOCKET;
#else
/// The OS socket type: an `int` descriptor.
using native_handle = int;
inline constexpr native_handle invalid_native_handle = -1;
#endif

namespace detail {

/// True where SO_REUSEPORT spreads connections over several listeners (not Windows).
#if defined(_WIN32) || !defined(SO_REUSEPORT)
inline constexpr bool have_reuse_port = false;
#else
inline constexpr bool have_reuse_port = true;
#endif

/// Winsock error (WSAE*) -> the POSIX errno value with the same meaning; other values pass
/// through unchanged (so do all values on POSIX).
int errno_from_socket_error(int native) noexcept;

/// The error of the calling thread's last failed socket call, as an errno value
/// (`WSAGetLastError()` mapped on Windows, `errno` elsewhere).
#ifdef _WIN32
inline int last_socket_errno() noexcept { return errno_from_socket_error(::WSAGetLastError()); }
#else
inline int last_socket_errno() noexcept { return errno; }
#endif

/// `last_socket_errno()` as an error code (see `errno_code`).
std::error_code last_socket_error_code() noexcept;

/// Starts the socket library once per process (WSAStartup on Windows; nothing on POSIX).
/// Thread-safe. Returns the startup error, if any (then every socket call will fail too).
std::error_code init_sockets() noexcept;

/// closesocket / close. Never retried on EINTR (Linux closes the descriptor anyway).
void close_socket(native_handle h) noexcept;

/// Switches blocking mode (FIONBIO on Windows, O_NONBLOCK elsewhere).
std::error_code set_blocking(native_handle h, bool blocking) noexcept;

/// Pins the calling thread to CPU `cpu` (best effort: false if the system refused).
bool pin_current_thread(unsigned cpu) noexcept;

}  // namespace detail
}  // namespace opensocket
