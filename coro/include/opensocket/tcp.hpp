#pragma once
/// \file tcp.hpp
/// TCP for coroutines: `tcp_stream` (connect, read, write, shutdown, close) and `tcp_listener`
/// (bind, accept). Operations are awaitables that allocate nothing, observe the awaiting task's
/// stop token, and complete exactly once. A socket belongs to the executor that first uses it.

#include <opensocket/address.hpp>
#include <opensocket/io_object.hpp>
#include <opensocket/lent_buffer.hpp>
#include <opensocket/socket_options.hpp>
#include <opensocket/task.hpp>
#include <opensocket/timer_queue.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace opensocket {

/// Every operation below can be bounded: `co_await s.read_some(buf).before(deadline)` fails
/// with `std::errc::timed_out` at `deadline` (a timer in the awaiter; no allocation).
///
/// A connected TCP socket. Move-only. Destroying or closing it while an operation is pending
/// resumes that operation with `operation_canceled`. Use it from one executor only.
class tcp_stream {
public:
    tcp_stream() noexcept = default;
    /// Adopts a connected, non-blocking socket.
    explicit tcp_stream(socket_handle h) noexcept : io_(std::move(h)) {}

    /// Connects to `peer`. Errors: the connect errno (e.g. connection_refused), or
    /// `operation_canceled`.
    static task<result<tcp_stream>> connect(socket_address peer);
    /// As above, failing with `timed_out` after `timeout`.
    static task<result<tcp_stream>> connect(socket_address peer, clock::duration timeout);

    /// Reads what is available (at least 1 byte), or 0 at end of stream.
    detail::bytes_awaiter read_some(std::span<std::byte> buf) noexcept {
        return {io_, io_kind::recv, buf.data(), buf.size()};
    }
    /// Waits until a read would not block (data, EOF or an error is pending) without reading:
    /// an idle connection then needs no buffer while it waits.
    detail::ready_awaiter wait_readable() noexcept {
        return {io_, io_kind::wait_readable, nullptr, 0};
    }
    /// `wait_readable` failing with `timed_out` at `deadline`. Prefer these deadline overloads
    /// in long-lived frames: g++ keeps both the temporary and the result of `.before()` there.
    detail::ready_awaiter wait_readable(clock::time_point deadline) noexcept {
        return {io_, io_kind::wait_readable, nullptr, 0, deadline};
    }
    /// `read_some` failing with `timed_out` at `deadline`.
    detail::bytes_awaiter read_some(std::span<std::byte> buf, clock::time_point deadline) noexcept {
        return {io_, io_kind::recv, buf.data(), buf.size(), deadline};
    }
    /// `write_all` failing with `timed_out` at `deadline`.
    detail::bytes_awaiter write_all(std::span<const std::byte> buf,
                                    clock::time_point deadline) noexcept {
        return {io_, io_kind::send_all, const_cast<std::byte*>(buf.data()), buf.size(), deadline};
    }
    /// Reads what is available (at least 1 byte) into a buffer the engine lends, or an empty
    /// `lent_buffer` at end of stream. Nothing is allocated or pinned while it waits; the bytes
    /// are the caller's until the `lent_buffer` is destroyed (see its contract). Reads of any
    /// kind may be mixed on one stream and keep their order.
    detail::lent_awaiter read_lent() noexcept { return {io_, io_kind::recv_lent, nullptr, 0}; }
    /// `read_lent` failing with `timed_out` at `deadline`.
    detail::lent_awaiter read_lent(clock::time_point deadline) noexcept {
        return {io_, io_kind::recv_lent, nullptr, 0, deadline};
    }
    /// Lets the engine read this stream's input ahead of the application, into its own buffers.
    /// On io_uring that is one multishot recv into the provided-buffer ring, kept armed across
    /// reads: `read_some`, `read_exact` and `wait_readable` then take bytes that already arrived
    /// (a copy out of the ring buffer) instead of each submitting a poll or a recv, and a
    /// request costs one completion. An idle stream still pins no buffer; at most
    /// `uring_options::lent_readahead` buffers are filled before the application reads (TCP
    /// flow control holds the rest). Readiness engines ignore it. Once on, read this stream only
    /// through its awaitables: a raw `recv` on `native()` could miss bytes the engine holds.
    void read_ahead(bool on = true) noexcept { io_.set_read_ahead(on); }

    /// Reads exactly `buf.size()` bytes; `error::unexpected_eof` if the peer closes first.
    detail::exact_awaiter read_exact(std::span<std::byte> buf) noexcept {
        return {io_, io_kind::recv_exact, buf.data(), buf.size()};
    }
    /// Writes what fits in the socket buffer now (at least 1 byte).
    detail::bytes_awaiter write_some(std::span<const std::byte> buf) noexcept {
        return {io_, io_kind::send, const_cast<std::byte*>(buf.data()), buf.size()};
    }
    /// Writes every byte, suspending while the peer's window is full. On error or cancellation
    /// some prefix may have been sent.
    detail::bytes_awaiter write_all(std::span<const std::byte> buf) noexcept {
        return {io_, io_kind::send_all, const_cast<std::byte*>(buf.data()), buf.size()};
    }
    detail::bytes_awaiter write_all(std::string_view text) noexcept {
        return write_all(std::as_bytes(std::span(text.data(), text.size())));
    }

    /// Sends FIN: the peer reads EOF after the queued data; this side can still read.
    result<void> shutdown_write() noexcept;
    /// Closes now; queued outgoing data is still delivered by the kernel (FIN).
    void close() noexcept { io_.close(); }
    /// Closes with RST: queued data is dropped and the peer sees connection_reset.
    void abort() noexcept;
    /// Graceful close: FIN, then discard input until the peer's EOF (or `timeout`), then close.
    /// Avoids the RST that closing with unread input would send.
    task<result<void>> close_gracefully(clock::duration timeout);

    bool is_open() const noexcept { return io_.is_open(); }
    native_handle native() const noexcept { return io_.handle().get(); }
    result<socket_address> local_address() const noexcept { return io_.handle().local_address(); }
    result<socket_address> peer_address() const noexcept { return io_.handle().peer_address(); }
    result<void> set_nodelay(bool on) noexcept { return opensocket::set_nodelay(native(), on); }

private:
    detail::io_object io_;
};

/// Options for `tcp_listener::bind`.
struct listen_options {
    int backlog = 1024;
    bool reuse_address = true;
    bool reuse_port = false;      ///< SO_REUSEPORT: one listener per executor on one port
    std::optional<bool> v6_only;  ///< for IPv6 addresses; unset keeps the system default
};

/// A listening TCP socket. Move-only; use it from one executor.
class tcp_listener {
public:
    tcp_listener() noexcept = default;

    /// Creates, configures, binds and listens. Needs no executor (it attaches on first accept).
    static result<tcp_listener> bind(const socket_address& addr, const listen_options& opts = {});

    /// Accepts one connection. Transient errors (ECONNABORTED, EPROTO, ...) are retried; when
    /// descriptors or buffers run out (EMFILE, ENFILE, ENOBUFS, ENOMEM) it backs off (1 ms
    /// doubling to 100 ms) and retries, so the server neither spins nor dies. Fails only with
    /// `operation_canceled` or a non-transient error (e.g. the listener was closed).
    task<result<tcp_stream>> accept();

    result<socket_address> local_address() const noexcept { return io_.handle().local_address(); }
    native_handle native() const noexcept { return io_.handle().get(); }
    bool is_open() const noexcept { return io_.is_open(); }
    void close() noexcept { io_.close(); }
    /// Connections accepted so far.
    uint64_t accepted() const noexcept { return accepted_; }
    /// Times accept had to back off for lack of descriptors or memory.
    uint64_t backoffs() const noexcept { return backoffs_; }

private:
    explicit tcp_listener(socket_handle h) noexcept : io_(std::move(h)) {}
    detail::io_object io_;
    uint64_t accepted_ = 0;
    uint64_t backoffs_ = 0;
};

}  // namespace opensocket
