#include <opensocket/sleep.hpp>

#include <cerrno>

namespace opensocket {

bool sleep_awaiter::suspend(std::coroutine_handle<> h, const std::stop_token& token) noexcept {
    if (token.stop_requested()) {
        canceled_ = true;
        return false;
    }
    ex = executor::current();
    waiter = h;
    fire = [](timer_node* n) noexcept { static_cast<sleep_awaiter*>(n)->complete(); };
    cancel_fn = [](op_base* op) noexcept {
        auto* self = static_cast<sleep_awaiter*>(op);
        if (self->ex->remove_timer(*self)) {
            self->canceled_ = true;
            self->complete();
        }
    };
    ex->add_timer(*this);
    arm_cancellation(token);
    return true;
}

result<void> sleep_awaiter::await_resume() noexcept {
    disarm();
    if (canceled_) return fail(std::errc::operation_canceled);
    return {};
}

}  // namespace opensocket
