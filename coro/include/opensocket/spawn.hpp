#pragma once
/// \file spawn.hpp
/// Starting tasks that nobody awaits directly. Every spawned task has an owner: an executor's
/// root set (drained when the runtime stops) or a `task_scope` (joined by its creator).

#include <opensocket/executor.hpp>
#include <opensocket/task.hpp>

#include <atomic>
#include <cstddef>
#include <optional>
#include <stop_token>

namespace opensocket {

/// Starts `t` on the current executor as a root task: it observes the executor's stop token,
/// and the executor does not exit before it finishes. An exception escaping it is logged.
/// Throws std::logic_error when called outside an executor thread.
void spawn(task<> t);

/// Any thread: starts `t` as a root task of `ex` (allocates one small node when called from
/// another thread).
void spawn_on(executor& ex, task<> t);

/// A set of spawned tasks with a shared stop source, joined with `co_await scope.join()`.
/// Thread-safety: `spawn_on`, `request_stop` and `active` are safe from any thread; a scope must
/// outlive its tasks (join it before destroying it). `join()` forwards the joiner's cancellation
/// to the scope, and rethrows the first exception that escaped a task.
class task_scope {
public:
    task_scope() = default;
    task_scope(const task_scope&) = delete;
    task_scope& operator=(const task_scope&) = delete;
    ~task_scope();

    /// Starts `t` on the current executor (it runs on a later turn of the loop).
    void spawn(task<> t);
    /// Starts `t` on `ex` (any thread).
    void spawn_on(executor& ex, task<> t);

    void request_stop() noexcept { stop_.request_stop(); }
    std::stop_token stop_token() const noexcept { return stop_.get_token(); }
    /// Tasks started and not yet finished.
    std::size_t active() const noexcept { return state_.load(std::memory_order_acquire) >> 1; }

    class join_awaiter;
    /// Awaitable: completes when every task has finished. Await it once.
    join_awaiter join() noexcept;

private:
    static std::coroutine_handle<> on_finish(void* ctx, std::coroutine_handle<> self,
                                             detail::promise_base& p) noexcept;
    void prepare(executor& ex, task<>::promise_type& p) noexcept;
    void finished_one() noexcept;

    struct forward_stop {
        task_scope* scope;
        void operator()() const noexcept { scope->request_stop(); }
    };

    std::stop_source stop_;
    // Running tasks times two, plus `joiner_bit` while join() waits for them.
    static constexpr std::size_t joiner_bit = 1;
    std::atomic<std::size_t> state_{0};
    std::atomic<bool> error_claimed_{false};
    std::exception_ptr error_;
    std::coroutine_handle<> joiner_;
    executor* joiner_ex_ = nullptr;
    struct joiner_node : detail::remote_node {
        task_scope* scope = nullptr;
    };
    joiner_node joiner_node_;

public:
    class join_awaiter {
    public:
        explicit join_awaiter(task_scope& s) noexcept : scope_(s) {}
        bool await_ready() const noexcept { return false; }
        template <class Promise>
        bool await_suspend(std::coroutine_handle<Promise> h) {
            return suspend(h, detail::token_of(h));
        }
        void await_resume();

    private:
        bool suspend(std::coroutine_handle<> h, std::stop_token token);
        task_scope& scope_;
        std::optional<std::stop_callback<forward_stop>> link_;
    };
};

inline task_scope::join_awaiter task_scope::join() noexcept { return join_awaiter(*this); }

}  // namespace opensocket
