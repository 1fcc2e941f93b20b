#pragma once
/// \file operation.hpp
/// `op_base`: the part shared by every awaitable operation (I/O, timers, joins). It lives in the
/// awaiting coroutine's frame, completes exactly once, and turns a `std::stop_token` request that
/// may come from any thread into a cancellation that runs on the owning executor's thread.

#include <opensocket/detail/intrusive_mpsc.hpp>

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <optional>
#include <stop_token>

namespace opensocket {

class executor;

/// Base of an operation that a coroutine awaits. Not copyable or movable (it is referenced by
/// the engine, the timer queue and the cancellation machinery while pending).
///
/// Protocol: the awaiter sets `ex` and `waiter`, starts the operation, then calls
/// `arm_cancellation(token)`. The engine (or timer) calls `complete()` exactly once, on the
/// executor thread. A stop request from any thread posts this op to its executor, which calls
/// `cancel_fn`; that must lead to `complete()` (with a canceled result). If completion races the
/// request, the completion wins and the coroutine is resumed exactly once either way.
class op_base : protected detail::remote_node {
public:
    op_base() noexcept = default;
    /// Moving is allowed only before the operation starts (awaitables are passed by value to
    /// combinators such as `with_timeout`); nothing of the source's state carries over.
    op_base(op_base&&) noexcept : detail::remote_node() {}
    op_base& operator=(const op_base&) = delete;

    executor* ex = nullptr;
    std::coroutine_handle<> waiter{};
    void (*cancel_fn)(op_base*) noexcept = nullptr;

    /// Executor thread, while pending. Registers a stop callback on `token` (no-op when the token
    /// can never be stopped). If stop was already requested, the cancellation is posted at once.
    void arm_cancellation(const std::stop_token& token) noexcept;

    /// Executor thread: the operation finished; resume the waiter (through the run queue).
    void complete() noexcept;

    /// Awaiter, after resumption: unregisters the stop callback (waits for one that is running).
    void disarm() noexcept { stop_cb_.reset(); }

private:
    enum state : uint8_t { pending, cancel_posted, completed_while_posted, done };
    struct canceller {
        op_base* op;
        void operator()() const noexcept { op->on_stop_requested(); }
    };
    void on_stop_requested() noexcept;
    static void run_cancel(detail::remote_node* n) noexcept;

    std::optional<std::stop_callback<canceller>> stop_cb_;
    // Last, so that a derived op's small fields can use the tail padding (a smaller frame).
    std::atomic<uint8_t> state_{pending};
    bool armed_ = false;
};

}  // namespace opensocket
