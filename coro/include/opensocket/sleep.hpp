#pragma once
/// \file sleep.hpp
/// Timers for coroutines: `sleep_for`, `sleep_until`, and `with_timeout`, which bounds any
/// awaitable that returns a `result<T>` by cancelling it when the time is up.

#include <opensocket/executor.hpp>
#include <opensocket/operation.hpp>
#include <opensocket/result.hpp>
#include <opensocket/task.hpp>
#include <opensocket/timer_queue.hpp>

#include <chrono>
#include <optional>
#include <stop_token>

namespace opensocket {

/// Awaitable: completes at `deadline` with success, or early with `operation_canceled` when the
/// awaiting task's stop token fires. Executor thread only. No allocation.
class sleep_awaiter : op_base, timer_node {
public:
    explicit sleep_awaiter(clock::time_point when) noexcept { deadline = when; }
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> h) noexcept {
        return suspend(h, detail::token_of(h));
    }
    result<void> await_resume() noexcept;

private:
    bool suspend(std::coroutine_handle<> h, const std::stop_token& token) noexcept;
    bool canceled_ = false;
};

inline sleep_awaiter sleep_until(clock::time_point deadline) noexcept {
    return sleep_awaiter(deadline);
}
inline sleep_awaiter sleep_for(clock::duration d) noexcept {
    return sleep_awaiter(clock::now() + d);
}

namespace detail {

template <class A>
using await_result_t = decltype(std::declval<A>().await_resume());

template <class A>
struct awaitable_traits {
    using type = await_result_t<A>;
};
template <class T>
struct awaitable_traits<task<T>> {
    using type = T;
};

template <class R, class A>
task<R> as_task(A op) {
    co_return co_await std::move(op);
}

/// Fires once: requests stop on a source when the timeout passes.
struct timeout_timer : timer_node {
    std::stop_source* source = nullptr;
    bool fired = false;
    static void on_fire(timer_node* n) noexcept {
        auto* self = static_cast<timeout_timer*>(n);
        self->fired = true;
        self->source->request_stop();
    }
};

struct forward_stop {
    std::stop_source* src;
    void operator()() const noexcept { src->request_stop(); }
};

}  // namespace detail

/// Runs `op` (a task or an awaitable yielding `result<T>`), cancelling it if it has not finished
/// within `timeout`. A cancellation caused by the timer is reported as `std::errc::timed_out`;
/// one caused by the caller's own stop token stays `operation_canceled`.
template <class A, class R = typename detail::awaitable_traits<A>::type>
task<R> with_timeout(A op, clock::duration timeout) {
    std::stop_source source;
    std::stop_token parent = co_await get_stop_token();
    std::optional<std::stop_callback<detail::forward_stop>> link;
    if (parent.stop_possible()) link.emplace(parent, detail::forward_stop{&source});
    detail::timeout_timer timer;
    timer.source = &source;
    timer.fire = &detail::timeout_timer::on_fire;
    timer.deadline = clock::now() + timeout;
    executor* ex = executor::current();
    ex->add_timer(timer);
    R r = co_await [&]() -> task<R> {
        if constexpr (std::is_same_v<A, task<R>>)
            return std::move(op);
        else
            return detail::as_task<R>(std::move(op));
    }()
                                .with_stop_token(source.get_token());
    ex->remove_timer(timer);
    link.reset();
    if (!r && timer.fired && r.error() == std::errc::operation_canceled && !parent.stop_requested())
        co_return fail(std::errc::timed_out);
    co_return r;
}

}  // namespace opensocket
