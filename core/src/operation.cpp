#include <opensocket/executor.hpp>
#include <opensocket/operation.hpp>

namespace opensocket {

void op_base::arm_cancellation(const std::stop_token& token) noexcept {
    if (!token.stop_possible()) return;
    armed_ = true;
    // If stop was already requested, the callback runs here and posts the cancellation.
    stop_cb_.emplace(token, canceller{this});
}

void op_base::on_stop_requested() noexcept {
    uint8_t expected = pending;
    if (!state_.compare_exchange_strong(expected, cancel_posted, std::memory_order_acq_rel))
        return;  // already completed
    // On the owning thread, cancel at once: the completion then keeps its place among the
    // others of this loop turn (a timeout fires in deadline order with plain timers).
    if (executor::current() == ex) {
        run_cancel(this);
        return;
    }
    run = &op_base::run_cancel;
    // After this push the op may be resumed and destroyed: touch nothing of `this`.
    executor* target = ex;
    target->post(this);
}

void op_base::run_cancel(detail::remote_node* n) noexcept {
    auto* self = static_cast<op_base*>(n);
    if (self->state_.load(std::memory_order_acquire) == completed_while_posted) {
        self->state_.store(done, std::memory_order_relaxed);
        self->ex->schedule(self->waiter);
        return;
    }
    self->state_.store(pending, std::memory_order_relaxed);
    self->cancel_fn(self);  // leads to complete()
}

void op_base::complete() noexcept {
    if (!armed_) {
        ex->schedule(waiter);
        return;
    }
    uint8_t expected = pending;
    if (state_.compare_exchange_strong(expected, done, std::memory_order_acq_rel)) {
        ex->schedule(waiter);
        return;
    }
    // A cancellation is in flight to this executor; it will resume the waiter when it arrives.
    state_.store(completed_while_posted, std::memory_order_release);
}

}  // namespace opensocket
