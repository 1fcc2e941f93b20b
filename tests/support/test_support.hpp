#pragma once
// Helpers for the suites: run a coroutine test body on a fresh executor with the engine under
// test, and loopback listeners on port 0.

#include <opensocket/backends/engine_select.hpp>
#include <opensocket/sync_wait.hpp>
#include <opensocket/tcp.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <string>

namespace opensocket::testing {

/// Burns roughly `n` loop iterations without sleeping (skews two racing actions a little).
inline void spin_briefly(unsigned n) noexcept {
    std::atomic<unsigned> sink{0};
    for (unsigned i = 0; i < n; ++i) sink.fetch_add(1, std::memory_order_relaxed);
}

/// Runs `t` to completion on a private executor (engine from OPENSOCKET_ENGINE, else automatic).
template <class T>
T run(task<T> t) {
    return sync_wait(std::move(t));
}

/// A listener on 127.0.0.1 with a kernel-chosen port.
inline tcp_listener loopback_listener(const listen_options& opts = {}) {
    auto l = tcp_listener::bind(socket_address::loopback_v4(0), opts);
    if (!l) throw std::system_error(l.error(), "bind 127.0.0.1:0");
    return std::move(*l);
}

inline socket_address address_of(const tcp_listener& l) {
    auto a = l.local_address();
    if (!a) throw std::system_error(a.error(), "getsockname");
    return *a;
}

/// True when this Windows build runs under wine (which exports wine_get_version from ntdll), for
/// skipping the few behaviours where wine differs from Windows.
inline bool running_under_wine() {
#ifdef _WIN32
    HMODULE ntdll = ::GetModuleHandleA("ntdll.dll");
    return ntdll != nullptr && ::GetProcAddress(ntdll, "wine_get_version") != nullptr;
#else
    return false;
#endif
}

/// The engine this run of the suite tests (for test names and skips).
inline std::string engine_under_test() {
    const char* e = std::getenv("OPENSOCKET_ENGINE");
    return e != nullptr && *e != '\0' ? e : "auto";
}

}  // namespace opensocket::testing

#include <opensocket/when_all.hpp>

namespace opensocket::testing {

/// A connected pair over loopback: `client` connected to `server` (accepted).
struct stream_pair {
    tcp_stream client;
    tcp_stream server;
};

/// Connects a pair on the current executor (IPv4 loopback, or IPv6 with `v6`).
inline task<result<stream_pair>> connected_pair(bool v6 = false) {
    auto l =
        tcp_listener::bind(v6 ? socket_address::loopback_v6(0) : socket_address::loopback_v4(0));
    if (!l) co_return fail(l.error());
    auto addr = l->local_address();
    if (!addr) co_return fail(addr.error());
    auto [c, s] = co_await when_all(tcp_stream::connect(*addr), l->accept());
    if (!c) co_return fail(c.error());
    if (!s) co_return fail(s.error());
    co_return stream_pair{std::move(*c), std::move(*s)};
}

/// Byte `i` of a deterministic test pattern (detects loss, duplication and reordering).
inline std::byte pattern_byte(std::size_t i) noexcept {
    return static_cast<std::byte>((i * 131 + (i >> 8) * 7 + 1) & 0xff);
}

// ---- plain sockets, outside any executor (portable: POSIX and Winsock) ------------------------

/// Sends up to `n` bytes with one send(); returns its result (-1: see last_socket_errno()).
inline long raw_send(native_handle h, const void* data, std::size_t n) {
    return static_cast<long>(::send(h, static_cast<const char*>(data), static_cast<int>(n), 0));
}
/// One recv() of up to `n` bytes; returns its result.
inline long raw_recv(native_handle h, void* data, std::size_t n) {
    return static_cast<long>(::recv(h, static_cast<char*>(data), static_cast<int>(n), 0));
}

/// A connected loopback TCP pair of plain non-blocking sockets (`client`, `server`), made without
/// an executor. Throws std::system_error on failure.
struct raw_socket_pair {
    socket_handle client;
    socket_handle server;
};
inline raw_socket_pair raw_loopback_pair(const tcp_listener& l) {
    auto to = address_of(l);
    auto c = socket_handle::open(AF_INET, SOCK_STREAM);
    if (!c) throw std::system_error(c.error(), "socket");
    if (auto ec = detail::set_blocking(c->get(), true)) throw std::system_error(ec, "blocking");
    if (::connect(c->get(), to.native(), to.native_size()) != 0)
        throw std::system_error(detail::last_socket_error_code(), "connect");
    (void)detail::set_blocking(c->get(), false);
    // The listener is non-blocking; the connection is already queued (connect returned).
    for (;;) {
        socket_handle s(::accept(l.native(), nullptr, nullptr));
        if (s.valid()) {
            (void)detail::set_blocking(s.get(), false);
            return {std::move(*c), std::move(s)};
        }
        auto ec = detail::last_socket_error_code();
        if (ec != std::errc::resource_unavailable_try_again &&
            ec != std::errc::operation_would_block && ec != std::errc::interrupted)
            throw std::system_error(ec, "accept");
    }
}

}  // namespace opensocket::testing
