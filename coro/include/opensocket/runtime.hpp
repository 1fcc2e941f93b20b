#pragma once
/// \file runtime.hpp
/// The runtime: N executors, each on its own thread with its own engine (thread-per-core,
/// shared-nothing). Root tasks spawned on an executor observe its stop token; `stop()` fires
/// them all, and each executor exits once its root tasks have drained.

#include <opensocket/backends/engine_select.hpp>
#include <opensocket/executor.hpp>
#include <opensocket/spawn.hpp>
#include <opensocket/sync_wait.hpp>
#include <opensocket/task.hpp>

#include <chrono>
#include <concepts>
#include <latch>
#include <memory>
#include <string_view>
#include <thread>
#include <vector>

namespace opensocket {

struct runtime_options {
    unsigned threads = 0;                         ///< 0 = one per core
    engine_kind engine = engine_kind::automatic;  ///< OPENSOCKET_ENGINE overrides `automatic`
    bool pin_threads = false;                     ///< pin executor i to CPU i % cores
    /// Latency mode: spin this long for cross-executor work before sleeping (see
    /// `executor::set_spin_before_sleep`). Zero: never spin.
    std::chrono::nanoseconds spin_before_sleep{0};
};

/// Owns the executors and their threads. Construct it on an ordinary thread; it starts every
/// executor immediately. Thread-safety: every member is safe from any thread. The destructor
/// calls `stop()` and joins.
class runtime {
public:
    /// Throws std::system_error (with `error::engine_unavailable` or the kernel's errno) when
    /// the engine cannot be created.
    explicit runtime(runtime_options opts = {});
    ~runtime();
    runtime(const runtime&) = delete;
    runtime& operator=(const runtime&) = delete;

    std::size_t size() const noexcept { return executors_.size(); }
    executor& at(std::size_t i) noexcept { return *executors_[i]; }
    std::string_view engine_name() const noexcept { return executors_.front()->io().name(); }

    /// Starts `t` as a root task on executor `index`.
    void spawn_on(std::size_t index, task<> t) { opensocket::spawn_on(at(index), std::move(t)); }

    /// Calls `f(executor&)` on each executor's thread; `f` returns a `task<>`. Blocks until every
    /// such task has finished (they are cancelled by `stop()`). Rethrows the first exception.
    template <class F>
    requires std::invocable<F&, executor&>
    void run_on_each_executor(F f);

    /// Runs `t` on executor `index` and blocks for its value.
    template <class T>
    T block_on(task<T> t, std::size_t index = 0) {
        return sync_wait_on(at(index), std::move(t));
    }

    /// Asks every executor to stop: root tasks' stop tokens fire, and the threads exit when their
    /// tasks are done. Idempotent. Not async-signal-safe (use a signal-waiting thread).
    void stop() noexcept;
    /// Blocks until every executor thread has exited (after `stop()`).
    void join();

private:
    std::vector<std::unique_ptr<executor>> executors_;
    std::vector<std::thread> threads_;
};

template <class F>
requires std::invocable<F&, executor&>
void runtime::run_on_each_executor(F f) {
    std::vector<std::exception_ptr> errors(size());
    std::latch done(static_cast<std::ptrdiff_t>(size()));
    for (std::size_t i = 0; i < size(); ++i) {
        opensocket::spawn_on(
            at(i), [](F& fn, executor& ex, std::latch& l, std::exception_ptr& err) -> task<> {
                try {
                    co_await fn(ex);
                } catch (...) {
                    err = std::current_exception();
                }
                l.count_down();
            }(f, at(i), done, errors[i]));
    }
    done.wait();
    for (auto& e : errors)
        if (e) std::rethrow_exception(e);
}

}  // namespace opensocket
