// Asio (standalone, C++20 coroutines) equivalents of the OpenSocket micro benchmarks, built only
// when asio.hpp is found. Names end in /asio so that each pairs with its /opensocket twin in one
// run on the same machine: compare ratios, not absolute numbers.

#include "bench_util.hpp"

#include <asio/awaitable.hpp>
#include <asio/bind_executor.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/version.hpp>

#include <benchmark/benchmark.h>

#include <cstddef>
#include <exception>
#include <string>
#include <thread>
#include <utility>

namespace opensocket::bench {
namespace {

using asio::awaitable;
using asio::use_awaitable;

/// Runs `body` on `ctx` from the calling thread until it finishes; rethrows its exception.
void run_on(asio::io_context& ctx, awaitable<void> body) {
    std::exception_ptr error;
    asio::co_spawn(ctx, std::move(body), [&error](std::exception_ptr e) { error = e; });
    ctx.run();
    if (error) std::rethrow_exception(error);
}

// ---- child await
// ------------------------------------------------------------------------------------

awaitable<int> ready_child() { co_return 1; }

awaitable<void> child_await_loop(benchmark::State& state) {
    int sum = 0;
    for (auto _ : state) sum += co_await ready_child();
    benchmark::DoNotOptimize(sum);
}

void bm_child_await(benchmark::State& state) {
    asio::io_context ctx(1);
    run_on(ctx, child_await_loop(state));
    report_per_op(state);
}
BENCHMARK(bm_child_await)->Name("BM_child_await/asio");

// ---- post + resume
// ------------------------------------------------------------------------------------

awaitable<void> post_loop(benchmark::State& state) {
    auto ex = co_await asio::this_coro::executor;
    for (auto _ : state) co_await asio::post(ex, use_awaitable);
}

void bm_post_resume(benchmark::State& state) {
    asio::io_context ctx(1);
    run_on(ctx, post_loop(state));
    report_per_op(state);
}
BENCHMARK(bm_post_resume)->Name("BM_post_resume/asio");

// ---- co_spawn
// ----------------------------------------------------------------------------------------- As
// BM_spawn/opensocket: a batch of detached trivial coroutines, then yield until all have run.

awaitable<void> count_down(std::size_t& remaining) {
    --remaining;
    co_return;
}

awaitable<void> spawn_loop(benchmark::State& state, std::size_t batch) {
    auto ex = co_await asio::this_coro::executor;
    std::size_t remaining = 0;
    for (auto _ : state) {
        remaining = batch;
        for (std::size_t i = 0; i < batch; ++i)
            asio::co_spawn(ex, count_down(remaining), asio::detached);
        while (remaining != 0) co_await asio::post(ex, use_awaitable);
    }
}

void bm_spawn(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    asio::io_context ctx(1);
    run_on(ctx, spawn_loop(state, batch));
    report_per_op(state, static_cast<double>(batch));
}
BENCHMARK(bm_spawn)->Name("BM_spawn/asio")->Arg(256);

// ---- when_all of two (awaitable_operators &&; Asio 1.22 has no ranged parallel group)
// ------------

awaitable<void> nothing() { co_return; }

awaitable<void> when_all_pair_loop(benchmark::State& state) {
    using namespace asio::experimental::awaitable_operators;
    for (auto _ : state) co_await (nothing() && nothing());
}

void bm_when_all_pair(benchmark::State& state) {
    asio::io_context ctx(1);
    run_on(ctx, when_all_pair_loop(state));
    report_per_op(state);
}
BENCHMARK(bm_when_all_pair)->Name("BM_when_all_variadic/asio/2");

// ---- cross-thread hop
// --------------------------------------------------------------------------------- Two
// io_contexts, each on its own thread (the calling thread only waits, as in block_on); the
// coroutine hops with post(bind_executor(other)), the closest analogue of resume_on. Every hop
// is checked to have landed on the right thread.

awaitable<void> hop_loop(benchmark::State& state, asio::io_context& home, asio::io_context& away,
                         std::size_t& misplaced) {
    auto home_ex = home.get_executor();
    auto away_ex = away.get_executor();
    for (auto _ : state) {
        co_await asio::post(asio::bind_executor(away_ex, use_awaitable));
        if (!away_ex.running_in_this_thread()) ++misplaced;
        co_await asio::post(asio::bind_executor(home_ex, use_awaitable));
        if (!home_ex.running_in_this_thread()) ++misplaced;
    }
}

void bm_cross_executor_hop(benchmark::State& state, placement where) {
    auto cpus = placement_cpus(where);
    if (!cpus) {
        state.SkipWithError("not enough CPUs for this placement");
        return;
    }
    asio::io_context home(1);
    asio::io_context away(1);
    auto keep_away_running = asio::make_work_guard(away);
    bool away_pinned = false;
    std::thread away_thread([&] {
        away_pinned = pin_current_thread(cpus->second);
        away.run();
    });
    bool home_pinned = false;
    std::size_t misplaced = 0;
    std::exception_ptr error;
    std::thread home_thread([&] {
        home_pinned = pin_current_thread(cpus->first);
        try {
            run_on(home, hop_loop(state, home, away, misplaced));
        } catch (...) {
            error = std::current_exception();
        }
    });
    home_thread.join();
    keep_away_running.reset();
    away_thread.join();
    if (error) std::rethrow_exception(error);
    if (!home_pinned || !away_pinned) state.SkipWithError("pthread_setaffinity_np failed");
    if (misplaced != 0) state.SkipWithError("post(bind_executor) resumed on the wrong thread");
    report_per_op(state, 2.0);
}
BENCHMARK_CAPTURE(bm_cross_executor_hop, os, placement::os)
    ->Name("BM_cross_executor_hop/asio/os_placed")
    ->UseRealTime();
BENCHMARK_CAPTURE(bm_cross_executor_hop, same_cpu, placement::same_cpu)
    ->Name("BM_cross_executor_hop/asio/same_cpu")
    ->UseRealTime();
BENCHMARK_CAPTURE(bm_cross_executor_hop, two_cpus, placement::two_cpus)
    ->Name("BM_cross_executor_hop/asio/two_cpus")
    ->UseRealTime();

// Records the Asio version in the context block of the report.
[[maybe_unused]] const bool asio_context_added = [] {
    benchmark::AddCustomContext("asio_version", std::to_string(ASIO_VERSION / 100000) + "." +
                                                    std::to_string(ASIO_VERSION / 100 % 1000) +
                                                    "." + std::to_string(ASIO_VERSION % 100));
    return true;
}();

}  // namespace
}  // namespace opensocket::bench
