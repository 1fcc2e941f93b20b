#pragma once
/// \file bench_util.hpp
/// Shared helpers for the micro benchmarks: every benchmark reports a `per_op` column (seconds per
/// operation, printed with an SI suffix, e.g. `12.3n`) so that batched benchmarks read the same
/// way as one-operation-per-iteration ones.

#include <benchmark/benchmark.h>

#include <pthread.h>
#include <sched.h>

#include <cstdint>
#include <optional>
#include <utility>

namespace opensocket::bench {

/// Reports `ops_per_iteration * iterations` operations: `items_per_second` and `per_op`.
inline void report_per_op(benchmark::State& state, double ops_per_iteration = 1.0) {
    const double ops = ops_per_iteration * static_cast<double>(state.iterations());
    state.SetItemsProcessed(static_cast<int64_t>(ops));
    state.counters["per_op"] =
        benchmark::Counter(ops, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

/// Where the two threads of a cross-thread benchmark run. On a virtual machine a wake-up of an
/// idle vCPU costs tens of microseconds while a switch on one CPU costs about one, so a hop's
/// price depends on placement more than on the library: each placement is measured.
enum class placement {
    os,        ///< wherever the scheduler puts them
    same_cpu,  ///< both threads pinned to one CPU
    two_cpus,  ///< pinned to two different CPUs
};

/// The CPUs for the home and the away thread under `p` (-1 = not pinned), or nullopt when this
/// process may use fewer CPUs than `p` needs.
inline std::optional<std::pair<int, int>> placement_cpus(placement p) {
    if (p == placement::os) return std::pair{-1, -1};
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return std::nullopt;
    int first = -1;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (!CPU_ISSET(cpu, &allowed)) continue;
        if (p == placement::same_cpu) return std::pair{cpu, cpu};
        if (first < 0) {
            first = cpu;
        } else {
            return std::pair{first, cpu};
        }
    }
    return std::nullopt;
}

/// Pins the calling thread to `cpu` (nothing for -1). Returns false on failure.
inline bool pin_current_thread(int cpu) {
    if (cpu < 0) return true;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

}  // namespace opensocket::bench
