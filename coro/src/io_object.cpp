#include <opensocket/io_object.hpp>
#include <opensocket/log.hpp>

namespace opensocket::detail {

io_object::io_object(io_object&& o) noexcept
    : fd_(std::move(o.fd_)),
      read_ahead_(o.read_ahead_),
      ex_(std::exchange(o.ex_, nullptr)),
      ex_id_(std::exchange(o.ex_id_, 0)),
      token_(o.token_) {}

bool io_object::owned_by_current() const noexcept {
    executor* cur = executor::current();
    return cur != nullptr && cur == ex_ && cur->id() == ex_id_;
}

io_object& io_object::operator=(io_object&& o) noexcept {
    if (this != &o) {
        close();
        fd_ = std::move(o.fd_);
        read_ahead_ = o.read_ahead_;
        ex_ = std::exchange(o.ex_, nullptr);
        ex_id_ = std::exchange(o.ex_id_, 0);
        token_ = o.token_;
    }
    return *this;
}

result<void> io_object::ensure_attached() noexcept {
    executor* cur = executor::current();
    if (ex_ != nullptr) {
        if (!owned_by_current()) return fail(error::not_on_executor);
        return {};
    }
    if (cur == nullptr) return fail(error::not_on_executor);
    if (!fd_.valid()) return fail(std::errc::bad_file_descriptor);
    auto t = cur->io().attach(fd_.get());
    if (!t) return fail(t.error());
    ex_ = cur;
    ex_id_ = cur->id();
    token_ = *t;
    return {};
}

void io_object::close() noexcept {
    // Detaching touches the engine, which belongs to the owner's thread. Closing from another
    // thread is misuse: the descriptor is still closed (the poller forgets it), but the slot
    // and any op parked on it stay behind, so say so loudly.
    if (ex_ != nullptr) {
        if (owned_by_current()) {
            if (ex_->io().detach_and_close(token_, fd_.get()))
                (void)fd_.release();  // the engine closes it
            // else: the descriptor is closed just below
        } else
            log_error("socket closed off its executor's thread: its engine slot leaks");
    }
    ex_ = nullptr;
    fd_.reset();
}

bool io_awaiter_base::suspend(std::coroutine_handle<> h, const std::stop_token& token) noexcept {
    if (token.stop_requested()) {
        op_.res = -ECANCELED;
        return false;
    }
    if (auto r = obj_.ensure_attached(); !r) {
        const std::error_code& ec = r.error();
        early_ = ec.category() == error_category() ? -ec.value() : ec.value();
        return false;
    }
    op_.ex = obj_.owner();
    op_.fd = obj_.handle().get();
    op_.token = obj_.token();
    op_.ahead = obj_.reads_ahead();
    if (op_.ex->io().start(op_)) return false;
    op_.waiter = h;
    op_.cancel_fn = [](op_base* b) noexcept {
        auto* op = static_cast<io_op*>(b);
        op->ex->io().cancel(*op);
    };
    if (timer_.deadline != clock::time_point{}) {
        timer_.owner = this;
        timer_.fire = [](timer_node* n) noexcept {
            auto* t = static_cast<deadline_timer*>(n);
            t->owner->fired_ = true;
            t->owner->op_.ex->io().cancel(t->owner->op_);
        };
        op_.ex->add_timer(timer_);
    }
    op_.arm_cancellation(token);
    return true;
}

std::error_code io_awaiter_base::finish() noexcept {
    op_.disarm();
    if (timer_.queued()) op_.ex->remove_timer(timer_);
    if (early_ < 0) return make_error_code(static_cast<error>(-early_));
    if (early_ != 0) return errno_code(early_);
    if (op_.res == -ECANCELED && fired_) return std::make_error_code(std::errc::timed_out);
    if (op_.res < 0) return errno_code(static_cast<int>(-op_.res));
    return {};
}

result<void> ready_awaiter::await_resume() noexcept {
    if (auto ec = finish()) return fail(ec);
    return {};
}

result<std::size_t> bytes_awaiter::await_resume() noexcept {
    if (auto ec = finish()) return fail(ec);
    return static_cast<std::size_t>(op_.res);
}

result<std::size_t> exact_awaiter::await_resume() noexcept {
    if (auto ec = finish()) return fail(ec);
    if (static_cast<std::size_t>(op_.res) < op_.len) return fail(error::unexpected_eof);
    return static_cast<std::size_t>(op_.res);
}

}  // namespace opensocket::detail
