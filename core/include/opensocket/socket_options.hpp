#pragma once
/// \file socket_options.hpp
/// Socket options as small typed functions. Each returns the `setsockopt(2)` errno on failure;
/// an option the platform lacks fails with `std::errc::operation_not_supported`.

#include <opensocket/result.hpp>
#include <opensocket/socket_handle.hpp>

#include <chrono>
#include <optional>

namespace opensocket {

/// TCP_NODELAY: send small segments at once (disable Nagle).
result<void> set_nodelay(native_handle fd, bool on) noexcept;
/// SO_KEEPALIVE, and optionally the idle time, probe interval and probe count (TCP_KEEP*).
/// Windows has the TCP_KEEP* options from Windows 10 1709 on; older versions (and wine) refuse
/// them with operation_not_supported (SO_KEEPALIVE itself is then already set).
result<void> set_keepalive(native_handle fd, bool on,
                           std::optional<std::chrono::seconds> idle = std::nullopt,
                           std::optional<std::chrono::seconds> interval = std::nullopt,
                           std::optional<int> count = std::nullopt) noexcept;
/// SO_REUSEADDR. A no-op that succeeds on Windows, where SO_REUSEADDR would let other sockets
/// steal the port and a listener may rebind over TIME_WAIT connections without it.
result<void> set_reuse_address(native_handle fd, bool on) noexcept;
/// SO_REUSEPORT (several sockets bound to one port; the kernel spreads connections).
/// operation_not_supported on Windows (tcp_server then uses the hand-off mode).
result<void> set_reuse_port(native_handle fd, bool on) noexcept;
/// SO_RCVBUF / SO_SNDBUF in bytes (the kernel may double or clamp them).
result<void> set_recv_buffer_size(native_handle fd, int bytes) noexcept;
result<void> set_send_buffer_size(native_handle fd, int bytes) noexcept;
/// SO_LINGER: `std::nullopt` turns it off; zero makes close() send RST (abortive close).
result<void> set_linger(native_handle fd, std::optional<std::chrono::seconds> timeout) noexcept;
/// IPV6_V6ONLY: true = IPv6 only, false = dual-stack (IPv4-mapped peers accepted).
result<void> set_v6_only(native_handle fd, bool on) noexcept;

/// Reads an integer option back (for tests and diagnostics).
result<int> get_int_option(native_handle fd, int level, int name) noexcept;

}  // namespace opensocket
