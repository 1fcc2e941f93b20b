#pragma once
/// \file executor.hpp
/// An executor: one thread's event loop. It owns an engine, a local run queue, a timer queue and
/// a cross-thread queue with a wake-up. Shared-nothing: coroutines started on an executor stay
/// on it unless they hop explicitly (`co_await resume_on(other)`).

#include <opensocket/detail/intrusive_mpsc.hpp>
#include <opensocket/detail/ring_queue.hpp>
#include <opensocket/engine.hpp>
#include <opensocket/timer_queue.hpp>

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>

namespace opensocket {

/// Thread-safety: `post`, `request_stop`, `wake` and the accessors marked so are safe from any
/// thread; everything else belongs to the thread running `run()`.
class executor {
public:
    /// Takes ownership of `io`. `index` is this executor's position in its runtime.
    explicit executor(std::unique_ptr<engine> io, unsigned index = 0);
    ~executor();
    executor(const executor&) = delete;
    executor& operator=(const executor&) = delete;

    /// The executor running on the calling thread, or nullptr.
    static executor* current() noexcept;

    engine& io() noexcept { return *engine_; }
    unsigned index() const noexcept { return index_; }  ///< any thread
    /// Unique for the process lifetime (an executor at a reused address gets a new id), so a
    /// socket can tell its own executor from a later one at the same address.
    uint64_t id() const noexcept { return id_; }

    /// Latency mode: before blocking for I/O, spin up to `d` waiting for cross-thread work
    /// (cross-executor hops then cost well under a microsecond instead of a thread wake-up, at
    /// the price of CPU burnt while idle; I/O that arrives meanwhile waits at most `d`).
    /// Zero (the default) never spins. Set it before `run()`.
    void set_spin_before_sleep(std::chrono::nanoseconds d) noexcept { spin_ns_ = d.count(); }

    /// Runs the loop on the calling thread until `request_stop()` was called and every task
    /// counted by `task_started` has finished.
    void run();
    /// Runs the loop until `done` becomes true (checked after every batch of work).
    void run_until(const std::atomic<bool>& done);

    /// Resumes `h` on a later turn of this loop. Executor thread only.
    void schedule(std::coroutine_handle<> h) { ready_.push(h); }
    /// Any thread: runs `n->run(n)` on this executor's thread soon.
    void post(detail::remote_node* n) noexcept;
    /// Any thread: runs `fn` on this executor's thread soon (allocates).
    void post(std::function<void()> fn);

    void add_timer(timer_node& t) { timers_.insert(t); }
    bool remove_timer(timer_node& t) noexcept { return timers_.remove(t); }
    /// The time at the start of this loop turn (cheap; refreshed every turn).
    clock::time_point now() const noexcept { return now_; }

    /// Any thread: asks the root tasks to stop (their stop token fires) and the loop to exit
    /// once they have finished.
    void request_stop() noexcept;
    /// Any thread.
    bool stop_requested() const noexcept { return stop_.stop_requested(); }
    /// Any thread: `run()` has returned after a stop (work posted now runs only at destruction).
    bool exited() const noexcept { return exited_.load(std::memory_order_acquire); }
    /// The executor's root stop token: spawned root tasks observe it.
    std::stop_token stop_token() const noexcept { return stop_.get_token(); }

    /// Root-task accounting for a clean drain (any thread).
    void task_started() noexcept { live_tasks_.fetch_add(1, std::memory_order_relaxed); }
    void task_finished() noexcept;
    std::size_t live_tasks() const noexcept { return live_tasks_.load(std::memory_order_acquire); }

private:
    void loop(const std::atomic<bool>* done);
    bool run_ready() noexcept;
    bool spin_for_remote() const noexcept;
    void drain_remote() noexcept;
    int64_t poll_timeout() const noexcept;

    std::unique_ptr<engine> engine_;
    unsigned index_;
    uint64_t id_;
    detail::ring_queue<std::coroutine_handle<>> ready_;
    timer_queue timers_;
    clock::time_point now_ = clock::now();
    detail::intrusive_mpsc remote_;
    std::atomic<bool> sleeping_{false};
    int64_t spin_ns_ = 0;
    std::atomic<std::size_t> live_tasks_{0};
    std::atomic<bool> exited_{false};
    std::stop_source stop_;
};

/// Awaitable: resume the awaiting coroutine on `target`'s thread (a cross-executor hop, or a
/// yield when `target` is the current executor). Never fails.
class resume_on {
public:
    explicit resume_on(executor& target) noexcept : target_(target) {}
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) noexcept;
    void await_resume() const noexcept {}

private:
    struct node : detail::remote_node {
        std::coroutine_handle<> h;
        executor* target;
    };
    executor& target_;
    node node_;
};

/// Awaitable: yield to the other ready coroutines of the current executor.
struct yield_now {
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) const { executor::current()->schedule(h); }
    void await_resume() const noexcept {}
};

}  // namespace opensocket
