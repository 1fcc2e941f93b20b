// Coroutine-layer micro benchmarks on one executor: bare resume, awaiting a ready child task,
// yield (schedule + resume), spawn, and when_all. The benchmark's own state loop runs inside the
// measured coroutine, so each iteration is one operation (or one batch, see `per_op`).

#include "bench_util.hpp"

#include <opensocket/executor.hpp>
#include <opensocket/spawn.hpp>
#include <opensocket/sync_wait.hpp>
#include <opensocket/task.hpp>
#include <opensocket/when_all.hpp>

#include <benchmark/benchmark.h>

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace opensocket::bench {
namespace {

// ---- 1. bare resume ---------------------------------------------------------------------------

task<> suspend_forever() {
    for (;;) co_await std::suspend_always{};
}

void bm_bare_resume(benchmark::State& state) {
    task<> t = suspend_forever();
    auto h = t.handle();
    for (auto _ : state) h.resume();  // the task object destroys the suspended frame at the end
    report_per_op(state);
}
BENCHMARK(bm_bare_resume)->Name("BM_bare_resume/opensocket");

// ---- 2. co_await of a ready child task ----------------------------------------------------------

task<int> ready_child() { co_return 1; }

task<> child_await_loop(benchmark::State& state) {
    int sum = 0;
    for (auto _ : state) sum += co_await ready_child();
    benchmark::DoNotOptimize(sum);
}

void bm_child_await(benchmark::State& state) {
    sync_wait(child_await_loop(state));
    report_per_op(state);
}
BENCHMARK(bm_child_await)->Name("BM_child_await/opensocket");

// ---- 3. post + resume on the same executor
// --------------------------------------------------------

task<> yield_loop(benchmark::State& state) {
    for (auto _ : state) co_await yield_now{};
}

void bm_post_resume(benchmark::State& state) {
    sync_wait(yield_loop(state));
    report_per_op(state);
}
BENCHMARK(bm_post_resume)->Name("BM_post_resume/opensocket");

// ---- 4. spawn
// -------------------------------------------------------------------------------------- Each
// iteration spawns a batch of trivial tasks and waits until all of them have run, so the cost
// includes frame allocation, scheduling, running and freeing. `per_op` is per spawned task.

task<> count_down(std::size_t& remaining) {
    --remaining;
    co_return;
}

task<> spawn_loop(benchmark::State& state, std::size_t batch) {
    std::size_t remaining = 0;
    for (auto _ : state) {
        remaining = batch;
        for (std::size_t i = 0; i < batch; ++i) spawn(count_down(remaining));
        while (remaining != 0) co_await yield_now{};
    }
}

void bm_spawn(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    sync_wait(spawn_loop(state, batch));
    report_per_op(state, static_cast<double>(batch));
}
BENCHMARK(bm_spawn)->Name("BM_spawn/opensocket")->Arg(256);

task<> nothing() { co_return; }

task<> scope_spawn_loop(benchmark::State& state, std::size_t batch) {
    task_scope scope;
    for (auto _ : state) {
        for (std::size_t i = 0; i < batch; ++i) scope.spawn(nothing());
        co_await scope.join();
    }
}

void bm_scope_spawn(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    sync_wait(scope_spawn_loop(state, batch));
    report_per_op(state, static_cast<double>(batch));
}
BENCHMARK(bm_scope_spawn)->Name("BM_spawn_scope_join/opensocket")->Arg(256);

// ---- 5. when_all
// ------------------------------------------------------------------------------------ `per_op` is
// per when_all call (children included); `per_child` divides by N.

task<> when_all_vector_loop(benchmark::State& state, std::size_t n) {
    for (auto _ : state) {
        std::vector<task<>> kids;
        kids.reserve(n);
        for (std::size_t i = 0; i < n; ++i) kids.push_back(nothing());
        co_await when_all(std::move(kids));
    }
}

void bm_when_all(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    sync_wait(when_all_vector_loop(state, n));
    report_per_op(state);
    state.counters["per_child"] =
        benchmark::Counter(static_cast<double>(state.iterations()) * static_cast<double>(n),
                           benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(bm_when_all)->Name("BM_when_all/opensocket")->Arg(2)->Arg(8)->Arg(64);

task<> when_all_pair_loop(benchmark::State& state) {
    for (auto _ : state) co_await when_all(nothing(), nothing());
}

void bm_when_all_pair(benchmark::State& state) {
    sync_wait(when_all_pair_loop(state));
    report_per_op(state);
}
BENCHMARK(bm_when_all_pair)->Name("BM_when_all_variadic/opensocket/2");

}  // namespace
}  // namespace opensocket::bench
