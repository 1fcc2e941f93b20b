#pragma once
/// \file when_any.hpp
/// `when_any`: run tasks concurrently; the first to finish wins, the others are cancelled through
/// their stop token, and `when_any` waits for all of them before it returns (no task outlives it).

#include <opensocket/executor.hpp>
#include <opensocket/task.hpp>
#include <opensocket/when_all.hpp>

#include <array>
#include <atomic>
#include <optional>
#include <utility>
#include <variant>
#include <vector>

namespace opensocket {
namespace detail {

/// Shared state of one when_any: who won, the children's stop source, the join counter.
struct any_state {
    join_counter counter;
    std::stop_source stop;
    std::size_t winner = static_cast<std::size_t>(-1);

    struct forward_stop {
        std::stop_source* src;
        void operator()() const noexcept { src->request_stop(); }
    };
    std::optional<std::stop_callback<forward_stop>> link;

    /// A finish hook per child index (the index is recovered from the context pointer).
    struct child_ctx {
        any_state* state;
        std::size_t index;
    };
    static std::coroutine_handle<> on_child_done(void* ctx, std::coroutine_handle<> self,
                                                 promise_base& p) noexcept {
        auto* c = static_cast<child_ctx*>(ctx);
        any_state* st = c->state;
        if (st->winner == static_cast<std::size_t>(-1)) {
            st->winner = c->index;
            st->stop.request_stop();  // cancel the losers; they still run to completion
        }
        return join_counter::on_child_done(&st->counter, self, p);
    }

    template <class Promise>
    bool start(std::coroutine_handle<Promise> parent, std::span<promise_base* const> kids,
               std::span<const std::coroutine_handle<>> handles, std::span<child_ctx> ctxs) {
        auto parent_token = token_of(parent);
        if (parent_token.stop_possible()) link.emplace(parent_token, forward_stop{&stop});
        counter.parent = parent;
        counter.remaining.store(kids.size() + 1, std::memory_order_relaxed);
        executor* ex = executor::current();
        for (std::size_t i = 0; i < kids.size(); ++i) {
            ctxs[i] = {this, i};
            kids[i]->set_stop_token(stop.get_token());
            kids[i]->set_finish_hook(&on_child_done, &ctxs[i]);
            ex->schedule(handles[i]);
        }
        return counter.remaining.fetch_sub(1, std::memory_order_acq_rel) != 1;
    }
};

template <class... Ts>
struct any_awaiter {
    std::tuple<task<Ts>&...> kids;
    any_state state;
    std::array<any_state::child_ctx, sizeof...(Ts)> ctxs{};
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> h) {
        std::array<promise_base*, sizeof...(Ts)> ps;
        std::array<std::coroutine_handle<>, sizeof...(Ts)> hs;
        collect(kids, ps, hs);
        return state.start(h, ps, hs, ctxs);
    }
    std::size_t await_resume() noexcept {
        state.link.reset();
        return state.winner;
    }
};

template <class T>
struct any_vector_awaiter {
    std::vector<task<T>>& kids;
    any_state state;
    std::vector<any_state::child_ctx> ctxs;
    bool await_ready() const noexcept { return kids.empty(); }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> h) {
        std::vector<promise_base*> ps;
        std::vector<std::coroutine_handle<>> hs;
        for (auto& k : kids) {
            ps.push_back(&k.handle().promise());
            hs.push_back(k.handle());
        }
        ctxs.resize(kids.size());
        return state.start(h, ps, hs, ctxs);
    }
    std::size_t await_resume() noexcept {
        state.link.reset();
        return state.winner;
    }
};

}  // namespace detail

/// Each child gets when_any's own stop token (linked to the awaiter's), replacing one set with
/// `with_stop_token`, so that when_any can always cancel the losers.
/// The first task to finish wins. Returns a variant whose `index()` is the winner's position
/// (void children give `std::monostate`). The winner's exception is rethrown; losers' results
/// and exceptions are discarded.
template <class... Ts>
requires(sizeof...(Ts) >
         0) task<std::variant<detail::non_void_t<Ts>...>> when_any(task<Ts>... children) {
    using result_t = std::variant<detail::non_void_t<Ts>...>;
    // Named, not a temporary: g++ 12 destroys a temporary aggregate awaiter twice.
    detail::any_awaiter<Ts...> awaiter{std::tie(children...), {}, {}};
    std::size_t winner = co_await awaiter;
    std::optional<result_t> out;
    auto pick = [&]<std::size_t... I>(std::index_sequence<I...>) {
        ((I == winner ? (void)out.emplace(std::in_place_index<I>,
                                          detail::take_non_void(children.handle().promise()))
                      : (void)0),
         ...);
    };
    pick(std::index_sequence_for<Ts...>{});
    co_return std::move(*out);
}

/// Result of `when_any` over a vector: the winner's index and value.
template <class T>
struct when_any_result {
    std::size_t index;
    detail::non_void_t<T> value;
};

/// The first task of the vector to finish wins; the rest are cancelled and awaited.
template <class T>
task<when_any_result<T>> when_any(std::vector<task<T>> children) {
    if (children.empty()) throw std::invalid_argument("when_any of no tasks");
    detail::any_vector_awaiter<T> awaiter{children, {}, {}};
    std::size_t winner = co_await awaiter;
    co_return when_any_result<T>{winner,
                                 detail::take_non_void(children[winner].handle().promise())};
}

}  // namespace opensocket
