// Runtime benchmarks: hopping a coroutine between the threads of a two-executor runtime.

#include "bench_util.hpp"

#include <opensocket/executor.hpp>
#include <opensocket/runtime.hpp>
#include <opensocket/task.hpp>

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstddef>

namespace opensocket::bench {
namespace {

task<> pin_executor_thread(int cpu, bool& pinned) {
    pinned = pin_current_thread(cpu);
    co_return;
}

// One iteration = a round trip 0 -> 1 -> 0, so `per_op` (per hop) is half of it. Every hop is
// checked to have landed on the right thread. Real time: the calling thread only blocks.
task<> hop_loop(benchmark::State& state, runtime& rt, std::size_t& misplaced) {
    for (auto _ : state) {
        co_await resume_on(rt.at(1));
        if (executor::current() != &rt.at(1)) ++misplaced;
        co_await resume_on(rt.at(0));
        if (executor::current() != &rt.at(0)) ++misplaced;
    }
}

void bm_cross_executor_hop(benchmark::State& state, placement where,
                           std::chrono::nanoseconds spin = {}) {
    auto cpus = placement_cpus(where);
    if (!cpus) {
        state.SkipWithError("not enough CPUs for this placement");
        return;
    }
    runtime_options opts;
    opts.threads = 2;
    opts.spin_before_sleep = spin;
    runtime rt(opts);
    bool home_pinned = false;
    bool away_pinned = false;
    rt.block_on(pin_executor_thread(cpus->first, home_pinned), 0);
    rt.block_on(pin_executor_thread(cpus->second, away_pinned), 1);
    if (!home_pinned || !away_pinned) {
        state.SkipWithError("pthread_setaffinity_np failed");
        return;
    }
    std::size_t misplaced = 0;
    rt.block_on(hop_loop(state, rt, misplaced), 0);
    if (misplaced != 0) state.SkipWithError("resume_on resumed on the wrong executor");
    report_per_op(state, 2.0);
}
BENCHMARK_CAPTURE(bm_cross_executor_hop, os, placement::os)
    ->Name("BM_cross_executor_hop/opensocket/os_placed")
    ->UseRealTime();
BENCHMARK_CAPTURE(bm_cross_executor_hop, same_cpu, placement::same_cpu)
    ->Name("BM_cross_executor_hop/opensocket/same_cpu")
    ->UseRealTime();
BENCHMARK_CAPTURE(bm_cross_executor_hop, two_cpus, placement::two_cpus)
    ->Name("BM_cross_executor_hop/opensocket/two_cpus")
    ->UseRealTime();
// Latency mode: executors spin up to 50 us for cross-thread work before sleeping.
BENCHMARK_CAPTURE(bm_cross_executor_hop, two_cpus_spin, placement::two_cpus,
                  std::chrono::microseconds(50))
    ->Name("BM_cross_executor_hop/opensocket/two_cpus_spin50us")
    ->UseRealTime();

}  // namespace
}  // namespace opensocket::bench
