#pragma once
/// \file tcp_server.hpp
/// Accepting on every executor of a runtime. Two modes: one SO_REUSEPORT listener per executor
/// (the kernel spreads connections), or the original OpenSocket's portable hand-off, where
/// executor 0 accepts and passes each connection round-robin to the others.

#include <opensocket/runtime.hpp>
#include <opensocket/tcp.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

namespace opensocket {

enum class accept_mode {
    reuse_port,  ///< one listener per executor, same port (Linux, BSD, macOS)
    handoff,     ///< one acceptor hands sockets to the executors in turn (works everywhere)
};

struct server_options {
    listen_options listen;
    accept_mode mode = accept_mode::reuse_port;
};

/// Serves TCP connections on all executors of a runtime. Each connection runs `handler` as a
/// root task on the executor that owns it, so `runtime::stop()` cancels and drains them all.
/// Thread-safety: all members are safe from any thread. Keep the server alive until the runtime
/// has been stopped and joined.
class tcp_server {
public:
    using handler = std::function<task<>(tcp_stream, executor&)>;

    /// Binds every listener now (so a busy port or a bad address fails here, not later).
    static result<tcp_server> bind(runtime& rt, const socket_address& addr,
                                   server_options opts = {});

    /// The bound address (with the port the kernel chose for port 0).
    const socket_address& local_address() const noexcept { return state_->local; }

    /// Starts the accept loops as root tasks; returns at once. Call once.
    void start(handler h);

    /// Connections served per executor so far.
    std::vector<uint64_t> accept_counts() const;

private:
    struct state {
        runtime* rt = nullptr;
        accept_mode mode = accept_mode::reuse_port;
        socket_address local;
        std::vector<tcp_listener> listeners;
        handler on_connection;
        std::unique_ptr<std::atomic<uint64_t>[]> counts;
    };
    static task<> accept_loop(std::shared_ptr<state> st, std::size_t index);

    explicit tcp_server(std::shared_ptr<state> s) noexcept : state_(std::move(s)) {}
    std::shared_ptr<state> state_;
};

}  // namespace opensocket
