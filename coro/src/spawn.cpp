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
    if (p.exception() && !scope->error_claimed_.exchange(true)) scope->error_ = p.exception();
    self.destroy();
    scope->finished_one();
    return std::noop_coroutine();
}

void task_scope::prepare(task<>::promise_type& p) noexcept {
    p.default_stop_token(stop_.get_token());
    p.set_finish_hook(&task_scope::on_finish, this);
    count_.fetch_add(1, std::memory_order_relaxed);
}

void task_scope::spawn(task<> t) {
    executor* ex = executor::current();
    if (ex == nullptr) throw std::logic_error("task_scope::spawn called outside an executor");
    auto h = t.release();
    prepare(h.promise());
    ex->schedule(h);
}

void task_scope::spawn_on(executor& ex, task<> t) {
    auto h = t.release();
    prepare(h.promise());
    if (executor::current() == &ex)
        ex.schedule(h);
    else
        ex.post([h] { executor::current()->schedule(h); });
}

void task_scope::finished_one() noexcept {
    if (count_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    // Last one out: join() is waiting (it dropped its +1). Resume it on its own executor.
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
    // Drop join's own reference; if every task is already done, continue without suspending.
    return scope_.count_.fetch_sub(1, std::memory_order_acq_rel) != 1;
}

void task_scope::join_awaiter::await_resume() {
    link_.reset();
    scope_.count_.store(1, std::memory_order_release);  // ready for another round
    if (scope_.error_) {
        auto e = std::exchange(scope_.error_, nullptr);
        scope_.error_claimed_.store(false);
        std::rethrow_exception(e);
    }
}

}  // namespace opensocket
