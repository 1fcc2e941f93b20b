#pragma once
/// \file sync_wait.hpp
/// Blocking bridges from ordinary code into coroutines.

#include <opensocket/backends/engine_select.hpp>
#include <opensocket/executor.hpp>
#include <opensocket/task.hpp>

#include <atomic>
#include <semaphore>
#include <stdexcept>
#include <system_error>

namespace opensocket {

namespace detail {
inline std::coroutine_handle<> set_flag_on_finish(void* ctx, std::coroutine_handle<>,
                                                  promise_base&) noexcept {
    static_cast<std::atomic<bool>*>(ctx)->store(true, std::memory_order_release);
    return std::noop_coroutine();
}
struct blocking_wait {
    std::binary_semaphore finished{0};
    executor* ex = nullptr;
    static std::coroutine_handle<> on_finish(void* ctx, std::coroutine_handle<>,
                                             promise_base&) noexcept {
        auto* self = static_cast<blocking_wait*>(ctx);
        self->ex->task_finished();
        self->finished.release();
        return std::noop_coroutine();
    }
};
}  // namespace detail

/// Runs `t` to completion on `ex`, driving `ex`'s loop on the calling thread (which must not be
/// running any executor), and returns its value or rethrows its exception. For an executor
/// built by hand, e.g. over a particular engine.
template <class T>
T sync_wait_here(executor& ex, task<T> t) {
    if (executor::current() != nullptr)
        throw std::logic_error("sync_wait on an executor thread would deadlock it");
    std::atomic<bool> done{false};
    auto h = t.handle();
    h.promise().set_finish_hook(&detail::set_flag_on_finish, &done);
    ex.schedule(h);
    ex.run_until(done);
    return h.promise().take();
}

/// Runs `t` to completion on a private executor on the calling thread (with the default engine)
/// and returns its value or rethrows its exception. Must not be called on an executor thread.
/// Throws std::system_error if no engine can be created.
template <class T>
T sync_wait(task<T> t, engine_kind kind = engine_kind::automatic) {
    if (executor::current() != nullptr)
        throw std::logic_error("sync_wait on an executor thread would deadlock it");
    auto io = make_engine(kind);
    if (!io) throw std::system_error(io.error(), "sync_wait: no I/O engine");
    executor ex(std::move(*io));
    return sync_wait_here(ex, std::move(t));
}

/// Runs `t` on `ex` (which is running on another thread) and blocks until it finishes. The task
/// observes `ex`'s stop token.
template <class T>
T sync_wait_on(executor& ex, task<T> t) {
    if (executor::current() == &ex)
        throw std::logic_error("sync_wait_on the calling thread's own executor would deadlock");
    if (ex.exited()) throw std::logic_error("sync_wait_on an executor that has stopped");
    detail::blocking_wait wait;
    wait.ex = &ex;
    auto h = t.handle();
    h.promise().default_stop_token(ex.stop_token());
    h.promise().set_finish_hook(&detail::blocking_wait::on_finish, &wait);
    ex.task_started();  // the executor does not exit under a pending block_on
    ex.post([h] { executor::current()->schedule(h); });
    wait.finished.acquire();
    return h.promise().take();
}

}  // namespace opensocket
