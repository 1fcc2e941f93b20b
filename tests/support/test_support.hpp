#pragma once
// Helpers for the suites: run a coroutine test body on a fresh executor with the engine under
// test, and loopback listeners on port 0.

#include <opensocket/backends/engine_select.hpp>
#include <opensocket/sync_wait.hpp>
#include <opensocket/tcp.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace opensocket::testing {

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

/// The engine this run of the suite tests (for test names and skips).
inline std::string engine_under_test() {
    const char* e = std::getenv("OPENSOCKET_ENGINE");
    return e != nullptr && *e != '\0' ? e : "auto";
}

}  // namespace opensocket::testing
