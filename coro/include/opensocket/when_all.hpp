#pragma once
/// \file when_all.hpp
/// `when_all`: run several tasks concurrently on the current executor and wait for all of them.
/// Children observe the awaiter's stop token. If a child throws, the others still finish and the
/// first exception (in argument order) is rethrown.

#include <opensocket/executor.hpp>
#include <opensocket/task.hpp>

#include <array>
#include <atomic>
#include <span>
#include <tuple>
#include <variant>
#include <vector>

namespace opensocket {
namespace detail {

template <class T>
using non_void_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

template <class T>
non_void_t<T> take_non_void(promise<T>& p) {
    if constexpr (std::is_void_v<T>) {
        p.take();
        return {};
    } else {
        return p.take();
    }
}

/// Counts finished children; the last one transfers to the parent.
struct join_counter {
    std::atomic<std::size_t> remaining{0};
    std::coroutine_handle<> parent;

    static std::coroutine_handle<> on_child_done(void* ctx, std::coroutine_handle<>,
                                                 promise_base&) noexcept {
        auto* self = static_cast<join_counter*>(ctx);
        if (self->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) return self->parent;
        return std::noop_coroutine();
    }

    /// Starts every child (scheduled on the current executor) and drops the parent's reference.
    /// Returns false if all children were already done (never, in practice, as they are lazy).
    template <class Promise>
    bool start(std::coroutine_handle<Promise> parent_h, std::span<promise_base* const> kids,
               std::span<const std::coroutine_handle<>> handles) noexcept {
        parent = parent_h;
        remaining.store(kids.size() + 1, std::memory_order_relaxed);
        executor* ex = executor::current();
        for (std::size_t i = 0; i < kids.size(); ++i) {
            kids[i]->inherit_stop_token(token_of(parent_h));
            kids[i]->set_finish_hook(&on_child_done, this);
            ex->schedule(handles[i]);
        }
        return remaining.fetch_sub(1, std::memory_order_acq_rel) != 1;
    }
};

/// The promises and handles of a tuple of child tasks, for the combinators' awaiters.
template <class Tuple, std::size_t N>
void collect(Tuple& kids, std::array<promise_base*, N>& ps,
             std::array<std::coroutine_handle<>, N>& hs) noexcept {
    std::size_t i = 0;
    std::apply([&](auto&... k) { ((ps[i] = &k.handle().promise(), hs[i] = k.handle(), ++i), ...); },
               kids);
}

template <class... Ts>
struct all_awaiter {
    std::tuple<task<Ts>&...> kids;
    join_counter counter;
    bool await_ready() const noexcept { return sizeof...(Ts) == 0; }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> h) {
        std::array<promise_base*, sizeof...(Ts)> ps;
        std::array<std::coroutine_handle<>, sizeof...(Ts)> hs;
        collect(kids, ps, hs);
        return counter.start(h, ps, hs);
    }
    void await_resume() const noexcept {}
};

template <class T>
struct all_vector_awaiter {
    std::vector<task<T>>& kids;
    join_counter counter;
    bool await_ready() const noexcept { return kids.empty(); }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> h) {
        std::vector<promise_base*> ps;
        std::vector<std::coroutine_handle<>> hs;
        for (auto& k : kids) {
            ps.push_back(&k.handle().promise());
            hs.push_back(k.handle());
        }
        return counter.start(h, ps, hs);
    }
    void await_resume() const noexcept {}
};

}  // namespace detail

/// Awaits every task; the result is a tuple with `std::monostate` for `task<void>` children.
template <class... Ts>
task<std::tuple<detail::non_void_t<Ts>...>> when_all(task<Ts>... children) {
    // Named, not a temporary: g++ 12 destroys a temporary aggregate awaiter twice.
    detail::all_awaiter<Ts...> awaiter{std::tie(children...), {}};
    co_await awaiter;
    co_return std::tuple<detail::non_void_t<Ts>...>{
        detail::take_non_void(children.handle().promise())...};
}

/// Awaits every task of a vector; returns their values in order (nothing for `void`).
template <class T>
auto when_all(std::vector<task<T>> children)
    -> task<std::conditional_t<std::is_void_v<T>, void, std::vector<detail::non_void_t<T>>>> {
    detail::all_vector_awaiter<T> awaiter{children, {}};
    co_await awaiter;
    if constexpr (std::is_void_v<T>) {
        for (auto& k : children) k.handle().promise().take();
    } else {
        std::vector<T> out;
        out.reserve(children.size());
        for (auto& k : children) out.push_back(k.handle().promise().take());
        co_return out;
    }
}

}  // namespace opensocket
