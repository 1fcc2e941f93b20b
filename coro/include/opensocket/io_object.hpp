#pragma once
/// \file io_object.hpp
/// The shared machinery of socket types: a descriptor lazily attached to the engine of the
/// executor that first uses it, and the allocation-free awaitable for one engine operation.

#include <opensocket/error.hpp>
#include <opensocket/executor.hpp>
#include <opensocket/socket_handle.hpp>
#include <opensocket/task.hpp>
#include <opensocket/timer_queue.hpp>

#include <cerrno>
#include <span>

namespace opensocket::detail {

/// A socket descriptor plus its registration. Not thread-safe: after the first operation it
/// belongs to that operation's executor. Before that it may be moved to any thread.
class io_object {
public:
    io_object() noexcept = default;
    explicit io_object(socket_handle h) noexcept : fd_(std::move(h)) {}
    io_object(io_object&& o) noexcept;
    io_object& operator=(io_object&& o) noexcept;
    ~io_object() { close(); }

    /// Attaches to the current executor on first use; fails with `not_on_executor` when called
    /// from a thread that is not (or not the owning) executor.
    result<void> ensure_attached() noexcept;
    /// Detaches (pending ops complete with `operation_canceled`) and closes the descriptor.
    void close() noexcept;

    bool is_open() const noexcept { return fd_.valid(); }
    const socket_handle& handle() const noexcept { return fd_; }
    executor* owner() const noexcept { return ex_; }
    io_token token() const noexcept { return token_; }
    /// Whether reads may be served from the engine's read-ahead (see `tcp_stream::read_ahead`).
    bool reads_ahead() const noexcept { return read_ahead_; }
    void set_read_ahead(bool on) noexcept { read_ahead_ = on; }

private:
    socket_handle fd_;
    bool read_ahead_ = false;  // next to fd_: in its padding on POSIX
    executor* ex_ = nullptr;
    uint64_t ex_id_ = 0;
    io_token token_{};
    bool owned_by_current() const noexcept;
};

/// Awaitable for one engine operation; lives in the awaiting frame (no allocation). Its
/// `await_resume` yields the raw `io_op` result; the socket types map it to typed results.
class io_awaiter_base {
public:
    io_awaiter_base(io_object& obj, io_kind kind, std::byte* buf, std::size_t len,
                    clock::time_point deadline = {}) noexcept
        : obj_(obj) {
        op_.kind = kind;
        op_.buf = buf;
        op_.len = len;
        timer_.deadline = deadline;
    }
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> h) noexcept {
        return suspend(h, token_of(h));
    }

protected:
    bool suspend(std::coroutine_handle<> h, const std::stop_token& token) noexcept;
    /// After resumption: the error, if any (ECANCELED maps to operation_canceled, or to
    /// timed_out when the deadline cancelled it).
    std::error_code finish() noexcept;

    /// Fires at the deadline and cancels the pending op (no allocation, no stop source).
    struct deadline_timer : timer_node {
        io_awaiter_base* owner = nullptr;
    };

    io_object& obj_;
    io_op op_;
    deadline_timer timer_;
    // Kept small (this object lives in long-lived frames): an error found before starting is an
    // errno (> 0) or minus an `opensocket::error` (< 0: not_on_executor, descriptor_too_large).
    int32_t early_ = 0;
    bool fired_ = false;
};

/// Adds `.before(deadline)` to an awaiter type: the op fails with `std::errc::timed_out` if it
/// has not completed by then. Cheaper than `with_timeout` (no task, no stop source).
template <class Derived>
class deadline_mixin : public io_awaiter_base {
public:
    using io_awaiter_base::io_awaiter_base;
    /// Returns the same awaiter (an rvalue reference to the temporary): returning a moved copy
    /// would make the coroutine frame hold two awaiters across the suspension.
    Derived&& before(clock::time_point deadline) && noexcept {
        timer_.deadline = deadline;
        return std::move(static_cast<Derived&>(*this));
    }
};

/// Byte-count result: read_some, write_some, write_all.
class bytes_awaiter : public deadline_mixin<bytes_awaiter> {
public:
    using deadline_mixin::deadline_mixin;
    result<std::size_t> await_resume() noexcept;
};

/// read_exact: fails with `error::unexpected_eof` if the peer closes early.
class exact_awaiter : public deadline_mixin<exact_awaiter> {
public:
    using deadline_mixin::deadline_mixin;
    result<std::size_t> await_resume() noexcept;
};

/// wait_readable: success once a read would not block.
class ready_awaiter : public deadline_mixin<ready_awaiter> {
public:
    using deadline_mixin::deadline_mixin;
    result<void> await_resume() noexcept;
};

}  // namespace opensocket::detail
