#include <opensocket/executor.hpp>

#include <algorithm>

namespace opensocket {
namespace {

thread_local executor* current_executor = nullptr;
std::atomic<uint64_t> next_executor_id{1};

// How many coroutines run before the loop polls for I/O again: keeps I/O fair without a
// syscall per resume.
constexpr int ready_budget = 1024;

struct function_node : detail::remote_node {
    std::function<void()> fn;
};

}  // namespace

executor::executor(std::unique_ptr<engine> io, unsigned index)
    : engine_(std::move(io)), index_(index), id_(next_executor_id.fetch_add(1)) {}

executor::~executor() {
    // Work posted after the loop exited (a late spawn_on, a cancellation) still runs, as this
    // executor's: with the stop token fired, such tasks fail fast and finish here.
    executor* saved = current_executor;
    current_executor = this;
    stop_.request_stop();
    for (int round = 0; round < 1000 && (!remote_.empty() || !ready_.empty()); ++round) {
        drain_remote();
        while (!ready_.empty()) ready_.pop().resume();
    }
    current_executor = saved;
}

executor* executor::current() noexcept { return current_executor; }

void executor::post(detail::remote_node* n) noexcept {
    remote_.push(n);
    // Dekker with loop(): the loop publishes `sleeping_` before it re-checks the queue.
    if (sleeping_.load(std::memory_order_seq_cst) && sleeping_.exchange(false)) engine_->wake();
}

void executor::post(std::function<void()> fn) {
    auto* n = new function_node;
    n->fn = std::move(fn);
    n->run = [](detail::remote_node* base) noexcept {
        auto* self = static_cast<function_node*>(base);
        self->fn();
        delete self;
    };
    post(n);
}

void executor::request_stop() noexcept {
    stop_.request_stop();
    engine_->wake();
}

void executor::task_finished() noexcept {
    if (live_tasks_.fetch_sub(1, std::memory_order_acq_rel) == 1 && stop_requested())
        engine_->wake();
}

void executor::run() { loop(nullptr); }

void executor::run_until(const std::atomic<bool>& done) { loop(&done); }

bool executor::run_ready() noexcept {
    for (int i = 0; i < ready_budget && !ready_.empty(); ++i) ready_.pop().resume();
    return !ready_.empty();
}

void executor::drain_remote() noexcept {
    for (auto* n = remote_.take_all(); n != nullptr;) {
        auto* next = n->next;  // `run` may free or re-post the node
        n->run(n);
        n = next;
    }
}

int64_t executor::poll_timeout() const noexcept {
    if (!ready_.empty()) return 0;
    if (timers_.empty()) return -1;
    // Measured from the start of this turn: one clock read per turn (a timer may fire late by
    // the turn's own work, never early).
    auto left = timers_.next_deadline() - now_;
    return std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::nanoseconds>(left).count());
}

bool executor::spin_for_remote() const noexcept {
    auto until = clock::now() + std::chrono::nanoseconds(spin_ns_);
    do {
        for (int i = 0; i < 64; ++i) {
            if (!remote_.empty()) return true;
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        }
    } while (clock::now() < until);
    return false;
}

void executor::loop(const std::atomic<bool>* done) {
    executor* saved = current_executor;
    current_executor = this;
    for (;;) {
        now_ = clock::now();
        timers_.fire_due(now_);
        drain_remote();
        run_ready();
        if (done != nullptr ? done->load(std::memory_order_acquire)
                            : (stop_requested() && live_tasks() == 0))
            break;
        int64_t timeout = poll_timeout();
        if (timeout != 0 && spin_ns_ > 0 && spin_for_remote()) timeout = 0;
        if (timeout != 0) {
            sleeping_.store(true, std::memory_order_seq_cst);
            if (!remote_.empty()) timeout = 0;
        }
        engine_->poll(timeout);
        sleeping_.store(false, std::memory_order_relaxed);
    }
    engine_->flush();
    if (done == nullptr) exited_.store(true, std::memory_order_release);
    current_executor = saved;
}

void resume_on::await_suspend(std::coroutine_handle<> h) noexcept {
    if (&target_ == executor::current()) {
        target_.schedule(h);
        return;
    }
    node_.h = h;
    node_.target = &target_;
    node_.run = [](detail::remote_node* n) noexcept {
        auto* self = static_cast<node*>(n);
        self->target->schedule(self->h);
    };
    executor& target = target_;  // `this` may be gone once the node is posted
    target.post(&node_);
}

}  // namespace opensocket
