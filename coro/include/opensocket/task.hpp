#pragma once
/// \file task.hpp
/// `task<T>`: a lazy, move-only coroutine that produces a `T`. Awaiting it starts it by symmetric
/// transfer; when it finishes it transfers straight back to its awaiter, so a million chained
/// awaits that complete at once use constant stack. Frames come from a per-thread cache.

#include <opensocket/detail/frame_allocator.hpp>

#include <coroutine>
#include <exception>
#include <optional>
#include <stop_token>
#include <type_traits>
#include <utility>

namespace opensocket {

template <class T = void>
class task;

namespace detail {

/// What runs when a task finishes and nobody awaits it directly (spawn, when_all, sync_wait).
/// Returns the coroutine to transfer to (or `std::noop_coroutine()`); may destroy the frame.
class promise_base;
using finish_hook = std::coroutine_handle<> (*)(void* ctx, std::coroutine_handle<> self,
                                                promise_base& p) noexcept;

class promise_base {
public:
    static void* operator new(std::size_t n) { return frame_alloc(n); }
    static void operator delete(void* p, std::size_t n) noexcept { frame_free(p, n); }

    std::suspend_always initial_suspend() const noexcept { return {}; }

    struct final_awaiter {
        bool await_ready() const noexcept { return false; }
        template <class Promise>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> h) noexcept {
            promise_base& p = h.promise();
            if (p.hook_ != nullptr) return p.hook_(p.hook_ctx_, h, p);
            return p.continuation_;
        }
        void await_resume() const noexcept {}
    };
    final_awaiter final_suspend() const noexcept { return {}; }
    void unhandled_exception() noexcept { exception_ = std::current_exception(); }

    /// The token this task's operations observe: its own (set with `set_stop_token`) or, by
    /// default, borrowed from its awaiter.
    const std::stop_token& stop_token() const noexcept { return *token_; }
    /// Owns `t` from now on; `inherit_stop_token` no longer overrides it.
    void set_stop_token(std::stop_token t) noexcept {
        own_token_ = std::move(t);
        token_ = &own_token_;
        token_fixed_ = true;
    }
    /// Owns `t` unless a token was already set (spawn and scopes give their token this way).
    void default_stop_token(std::stop_token t) noexcept {
        if (!token_fixed_) set_stop_token(std::move(t));
    }
    /// Borrows the awaiter's token (no reference-count traffic): `t` must outlive this task's
    /// run, which holds for a token in the awaiting coroutine's promise.
    void inherit_stop_token(const std::stop_token& t) noexcept {
        if (!token_fixed_) token_ = &t;
    }
    void set_continuation(std::coroutine_handle<> c) noexcept { continuation_ = c; }
    void set_finish_hook(finish_hook hook, void* ctx) noexcept {
        hook_ = hook;
        hook_ctx_ = ctx;
    }
    std::exception_ptr& exception() noexcept { return exception_; }
    void rethrow_if_failed() {
        if (exception_) std::rethrow_exception(exception_);
    }

private:
    std::coroutine_handle<> continuation_ = std::noop_coroutine();
    finish_hook hook_ = nullptr;
    void* hook_ctx_ = nullptr;
    std::stop_token own_token_;
    const std::stop_token* token_ = &own_token_;
    bool token_fixed_ = false;
    std::exception_ptr exception_;
};

template <class T>
class promise final : public promise_base {
public:
    task<T> get_return_object() noexcept;
    template <class U = T>
    requires std::is_convertible_v<U&&, T>
    void return_value(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
        value_.emplace(std::forward<U>(v));
    }
    T take() {
        rethrow_if_failed();
        return std::move(*value_);
    }

private:
    std::optional<T> value_;
};

template <>
class promise<void> final : public promise_base {
public:
    task<void> get_return_object() noexcept;
    void return_void() const noexcept {}
    void take() { rethrow_if_failed(); }
};

/// True if `Promise` carries a stop token that awaited operations should observe.
template <class Promise>
concept has_stop_token = requires(const Promise& p) {
    { p.stop_token() } -> std::convertible_to<const std::stop_token&>;
};

inline const std::stop_token no_stop_token{};

/// The stop token of the awaiting coroutine, or an empty one.
template <class Promise>
const std::stop_token& token_of(std::coroutine_handle<Promise> h) noexcept {
    if constexpr (has_stop_token<Promise>)
        return h.promise().stop_token();
    else
        return no_stop_token;
}

}  // namespace detail

/// A lazy coroutine producing `T`. Move-only; destroying an unstarted or finished task frees its
/// frame. Awaiting a task that is running elsewhere is a bug. Exceptions propagate to the awaiter.
/// Cancellation: a task observes its awaiter's stop token unless one was set with
/// `with_stop_token`, and passes it to every operation it awaits.
template <class T>
class [[nodiscard]] task {
public:
    using promise_type = detail::promise<T>;
    using value_type = T;

    task() noexcept = default;
    explicit task(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
    task(task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
    task& operator=(task&& o) noexcept {
        if (this != &o) {
            if (h_) h_.destroy();
            h_ = std::exchange(o.h_, {});
        }
        return *this;
    }
    task(const task&) = delete;
    task& operator=(const task&) = delete;
    ~task() {
        if (h_) h_.destroy();
    }

    bool valid() const noexcept { return static_cast<bool>(h_); }

    /// Binds the task to `token` instead of its awaiter's.
    task&& with_stop_token(std::stop_token token) && noexcept {
        h_.promise().set_stop_token(std::move(token));
        return std::move(*this);
    }

    struct awaiter {
        std::coroutine_handle<promise_type> h;
        bool await_ready() const noexcept { return false; }
        template <class Promise>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> parent) noexcept {
            if constexpr (detail::has_stop_token<Promise>)
                h.promise().inherit_stop_token(parent.promise().stop_token());
            h.promise().set_continuation(parent);
            return h;
        }
        T await_resume() { return h.promise().take(); }
    };
    awaiter operator co_await() && noexcept { return awaiter{h_}; }

    /// Gives up ownership of the frame (for spawn and combinators).
    std::coroutine_handle<promise_type> release() noexcept { return std::exchange(h_, {}); }
    std::coroutine_handle<promise_type> handle() const noexcept { return h_; }

private:
    std::coroutine_handle<promise_type> h_;
};

namespace detail {
template <class T>
task<T> promise<T>::get_return_object() noexcept {
    return task<T>(std::coroutine_handle<promise<T>>::from_promise(*this));
}
inline task<void> promise<void>::get_return_object() noexcept {
    return task<void>(std::coroutine_handle<promise<void>>::from_promise(*this));
}
}  // namespace detail

/// Awaitable: the calling task's stop token (`auto tok = co_await get_stop_token();`).
/// (It has a constructor on purpose: g++ 12 destroys a temporary *aggregate* awaiter twice.)
struct get_stop_token {
    get_stop_token() noexcept {}
    std::stop_token token;
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> h) noexcept {
        token = detail::token_of(h);
        return false;
    }
    std::stop_token await_resume() noexcept { return std::move(token); }
};

namespace detail {
/// Awaitable: a reference to the calling task's stop token, valid until the task finishes (it
/// lives in this task's promise or in an awaiting task's). No reference-count traffic, unlike
/// copying the token; for hot paths inside the library.
struct current_stop_token {
    current_stop_token() noexcept {}
    const std::stop_token* token = nullptr;
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> h) noexcept {
        token = &token_of(h);
        return false;
    }
    const std::stop_token& await_resume() const noexcept { return *token; }
};
}  // namespace detail

}  // namespace opensocket
