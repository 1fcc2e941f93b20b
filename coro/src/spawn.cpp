#include <opensocket/log.hpp>
#include <opensocket/spawn.hpp>

#include <stdexcept>

namespace opensocket {
namespace {

std::coroutine_handle<> root_finished(void* ctx, std::coroutine_handle<> self,
                                      detail::promise_base& p) noexcept {
    auto* ex = static_cast<executor*>(ctx);
    if (p.exception()) {
        try {
            std::rethrow_exception(p.exception());
        } catch (const std::exception& e) {
            log_error("spawned task ended with an exception: {}", e.what());
        } catch (...) {
            log_error("spawned task ended with a non-standard exception");
        }
    }
    self.destroy();
    ex->task_finished();
    return std::noop_coroutine();
}

void start_root(executor& ex, std::coroutine_handle<task<>::promise_type> h) {
    h.promise().default_stop_token(ex.stop_token());
    h.promise().set_finish_hook(&root_finished, &ex);
    ex.task_started();
    if (executor::current() == &ex)
        ex.schedule(h);
    else
        ex.post([h] { executor::current()->schedule(h); });
}

}  // namespace

void spawn(task<> t) {
    executor* ex = executor::current();
    if (ex == nullptr) throw std::logic_error("opensocket::spawn called outside an executor");
    start_root(*ex, t.release());
}

void spawn_on(executor& ex, task<> t) { start_root(ex, t.release()); }

task_scope::~task_scope() {
    if (active() != 0) {
        log_error("task_scope destroyed with {} running tasks (join it first)", active());
        std::terminate();
    }
}

std::coroutine_handle<> task_scope::on_finish(void* ctx, std::coroutine_handle<> self,
                                              detail::promise_base& p) noexcept {
    auto* scope = static_cast<task_scope*>(ctx);
    executor* ex = executor::current();
    if (p.exception() && !scope->error_claimed_.exchange(true)) scope->error_ = p.exception();
    self.destroy();
    scope->finished_one();  // may resume the joiner, which may destroy the scope: touch it no more
    ex->task_finished();
    return std::noop_coroutine();
}

void task_scope::prepare(executor& ex, task<>::promise_type& p) noexcept {
    p.default_stop_token(stop_.get_token());
    p.set_finish_hook(&task_scope::on_finish, this);
    state_.fetch_add(2, std::memory_order_relaxed);
    ex.task_started();  // the executor it runs on does not exit under it
}

void task_scope::spawn(task<> t) {
    executor* ex = executor::current();
    if (ex == nullptr) throw std::logic_error("task_scope::spawn called outside an executor");
    auto h = t.release();
    prepare(*ex, h.promise());
    ex->schedule(h);
}

void task_scope::spawn_on(executor& ex, task<> t) {
    auto h = t.release();
    prepare(ex, h.promise());
    if (executor::current() == &ex)
        ex.schedule(h);
    else
        ex.post([h] { executor::current()->schedule(h); });
}

void task_scope::finished_one() noexcept {
    if (state_.fetch_sub(2, std::memory_order_acq_rel) != (2 | joiner_bit)) return;
    // The last task is done and join() is waiting: clear its bit (so a later round starts clean)
    // and resume it on its own executor.
    state_.fetch_and(~joiner_bit, std::memory_order_acq_rel);
    executor* ex = joiner_ex_;
    if (executor::current() == ex) {
        ex->schedule(joiner_);
        return;
    }
    joiner_node_.scope = this;
    joiner_node_.run = [](detail::remote_node* n) noexcept {
        task_scope* scope = static_cast<joiner_node*>(n)->scope;
        scope->joiner_ex_->schedule(scope->joiner_);
    };
    ex->post(&joiner_node_);
}

bool task_scope::join_awaiter::suspend(std::coroutine_handle<> h, std::stop_token token) {
    scope_.joiner_ = h;
    scope_.joiner_ex_ = executor::current();
    if (scope_.joiner_ex_ == nullptr)
        throw std::logic_error("task_scope::join outside an executor");
    if (token.stop_possible()) link_.emplace(token, forward_stop{&scope_});
    std::size_t s = scope_.state_.load(std::memory_order_acquire);
    do {
        if ((s >> 1) == 0) return false;  // nothing running: continue without suspending
    } while (!scope_.state_.compare_exchange_weak(s, s | joiner_bit, std::memory_order_acq_rel));
    return true;
}

void task_scope::join_awaiter::await_resume() {
    link_.reset();
    if (scope_.error_) {
        auto e = std::exchange(scope_.error_, nullptr);
        scope_.error_claimed_.store(false);
        std::rethrow_exception(e);
    }
}

}  // namespace opensocket
