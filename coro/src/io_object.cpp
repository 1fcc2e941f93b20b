#include <opensocket/io_object.hpp>

namespace opensocket::detail {

io_object::io_object(io_object&& o) noexcept
    : fd_(std::move(o.fd_)), ex_(std::exchange(o.ex_, nullptr)), token_(o.token_) {}

io_object& io_object::operator=(io_object&& o) noexcept {
    if (this != &o) {
        close();
        fd_ = std::move(o.fd_);
        ex_ = std::exchange(o.ex_, nullptr);
        token_ = o.token_;
    }
    return *this;
}

result<void> io_object::ensure_attached() noexcept {
    executor* cur = executor::current();
    if (ex_ != nullptr) {
        if (cur != ex_) return fail(error::not_on_executor);
        return {};
    }
    if (cur == nullptr) return fail(error::not_on_executor);
    if (!fd_.valid()) return fail(std::errc::bad_file_descriptor);
    auto t = cur->io().attach(fd_.get());
    if (!t) return fail(t.error());
    ex_ = cur;
    token_ = *t;
    return {};
}

void io_object::close() noexcept {
    // Detaching touches the engine, which belongs to the owner's thread. Closing from another
    // thread (misuse) still closes the descriptor; the engine drops the stale slot's events.
    if (ex_ != nullptr && executor::current() == ex_) ex_->io().detach(token_);
    ex_ = nullptr;
    fd_.reset();
}

bool io_awaiter_base::suspend(std::coroutine_handle<> h, const std::stop_token& token) noexcept {
    if (token.stop_requested()) {
        op_.res = -ECANCELED;
        return false;
    }
    if (auto r = obj_.ensure_attached(); !r) {
        early_ = r.error();
        return false;
    }
    op_.ex = obj_.owner();
    op_.fd = obj_.handle().get();
    op_.token = obj_.token();
    if (op_.ex->io().start(op_)) return false;
    op_.waiter = h;
    op_.cancel_fn = [](op_base* b) noexcept {
        auto* op = static_cast<io_op*>(b);
        op->ex->io().cancel(*op);
    };
    op_.arm_cancellation(token);
    return true;
}

std::error_code io_awaiter_base::finish() noexcept {
    op_.disarm();
    if (early_) return early_;
    if (op_.res < 0) return errno_code(static_cast<int>(-op_.res));
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
