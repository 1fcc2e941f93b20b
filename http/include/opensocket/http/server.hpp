#pragma once
/// \file server.hpp
/// The HTTP/1.1 server: a connection loop per client (one coroutine each), a tiny exact-match
/// router, and `http_server`, which serves a router on every executor of a runtime.
///
/// Per connection: requests are parsed in place (no copy of the head), pipelined requests are
/// answered in order and their responses written together, HEAD gets no body, and an idle
/// keep-alive connection holds no buffer (it waits with `wait_readable` and borrows a
/// per-executor workspace only while a request is in progress). Timeouts: a total deadline for
/// a request head (slowloris), an idle keep-alive timeout, a body timeout and a write timeout.
/// A framing error is answered with its status code and the connection is closed: a request
/// that follows it is never answered. On runtime stop, idle connections close at once and busy
/// ones finish the request in progress (with `Connection: close`).

#include <opensocket/address.hpp>
#include <opensocket/http/limits.hpp>
#include <opensocket/http/request_head.hpp>
#include <opensocket/http/response.hpp>
#include <opensocket/runtime.hpp>
#include <opensocket/task.hpp>
#include <opensocket/tcp.hpp>
#include <opensocket/tcp_server.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace opensocket::http {

/// One request as a handler sees it. Views are valid until the handler's task finishes.
struct request {
    const request_head& head;
    std::string_view body;        ///< the whole body, decoded (chunked) or as sent
    const tcp_stream& stream;     ///< the connection (for addresses and options)
    unsigned executor_index = 0;  ///< which executor serves this connection
    uint64_t sequence = 0;        ///< 1 for the first request on this connection

    /// The client's address (one `getpeername` call; nothing is cached per connection).
    result<socket_address> peer_address() const noexcept { return stream.peer_address(); }
};

/// Callables `handler` takes: a coroutine function, or a plain function returning the response.
template <class F>
concept coroutine_handler = std::is_invocable_r_v<task<response>, F&, request&>;
template <class F>
concept plain_handler = !coroutine_handler<F> && std::is_invocable_r_v<response, F&, request&>;

/// A handler, run on the connection's executor. Either a coroutine producing the response
/// (`task<response>(request&)`: it may wait for I/O, timers, other tasks), or a plain function
/// returning it (`response(request&)`): no coroutine frame and no suspension, for handlers
/// that never wait. Both may throw: the client gets 500 and the connection closes.
class handler {
public:
    handler() = default;
    template <coroutine_handler F>
    handler(F f) : waits_(std::move(f)) {}  // NOLINT(google-explicit-constructor): as std::function
    template <plain_handler F>
    handler(F f) : now_(std::move(f)) {}  // NOLINT(google-explicit-constructor)

    /// Whether it is a coroutine (else `now` answers without suspending).
    bool waits() const noexcept { return static_cast<bool>(waits_); }
    /// The response of a plain-function handler.
    response now(request& req) const { return now_(req); }
    /// The response, whichever kind the handler is (the handler must outlive the task).
    task<response> operator()(request& req) const { return waits_ ? waits_(req) : wrap(req); }
    explicit operator bool() const noexcept { return waits_ || now_; }

private:
    task<response> wrap(request& req) const { co_return now_(req); }
    std::function<task<response>(request&)> waits_;
    std::function<response(request&)> now_;
};

/// Exact path + method routing. Not thread-safe to modify; read-only once serving.
class router {
public:
    void add(method m, std::string path, handler h);
    void get(std::string path, handler h) { add(method::get, std::move(path), std::move(h)); }
    void post(std::string path, handler h) { add(method::post, std::move(path), std::move(h)); }
    /// The handler for (m, path); HEAD falls back to GET. `path_known` tells 405 from 404.
    const handler* find(method m, std::string_view path, bool& path_known) const noexcept;
    /// The same for a request: `find(head.method, head.path(), path_known)`, but an origin-form
    /// target (the usual `/path?query`) is matched in place, without scanning it for its path.
    const handler* find(const request_head& head, bool& path_known) const noexcept;
    /// The methods routed for `path`, as an `Allow` field value ("GET, HEAD, POST").
    std::string allowed_methods(std::string_view path) const;

private:
    struct route {
        method m;
        std::string path;
        handler h;
        bool has_query_mark = false;  ///< a path with '?' never matches (no path() has one)
    };
    template <class Matches>
    const handler* find_if(method m, bool& path_known, Matches matches) const noexcept;
    std::vector<route> routes_;
};

struct server_config {
    parser_limits limits;
    std::chrono::milliseconds head_timeout{10'000};   ///< first byte to end of head
    std::chrono::milliseconds idle_timeout{60'000};   ///< between keep-alive requests
    std::chrono::milliseconds body_timeout{30'000};   ///< to receive a whole body
    std::chrono::milliseconds write_timeout{30'000};  ///< to write a batch of responses
    std::string server_name = "OpenSocket";
    /// Pipelined responses are written together once this many bytes are pending.
    std::size_t output_flush_bytes = 64 * 1024;
};

/// Serves one connection until the peer closes, an error, a timeout, or a stop request (which
/// lets a request in progress finish). `r` and `cfg` must outlive the task.
task<> serve_connection(tcp_stream s, const router& r, const server_config& cfg);

/// Counters for the demo and tests (per process, any thread).
struct server_stats {
    static uint64_t requests() noexcept;
    static uint64_t connections() noexcept;
};

/// An HTTP server on every executor of a runtime (built on `tcp_server`). Keep it alive until
/// the runtime has been stopped and joined.
class http_server {
public:
    static result<http_server> bind(runtime& rt, const socket_address& addr, router r,
                                    server_config cfg = {}, server_options opts = {});
    const socket_address& local_address() const noexcept { return tcp_->local_address(); }
    std::vector<uint64_t> accept_counts() const { return tcp_->accept_counts(); }
    /// Starts accepting; returns at once.
    void start();

private:
    struct shared {
        router routes;
        server_config config;
    };
    http_server(std::unique_ptr<tcp_server> tcp, std::shared_ptr<shared> s) noexcept
        : tcp_(std::move(tcp)), shared_(std::move(s)) {}
    std::unique_ptr<tcp_server> tcp_;
    std::shared_ptr<shared> shared_;
};

}  // namespace opensocket::http
