// Timer benchmarks: the raw timer_queue (insert + remove of one node with 1k or 100k other timers
// queued), and sleep_for through the executor (an expired sleep, and a sleep cancelled through
// its stop token).

#include "bench_util.hpp"

#include <opensocket/sleep.hpp>
#include <opensocket/sync_wait.hpp>
#include <opensocket/task.hpp>
#include <opensocket/timer_queue.hpp>
#include <opensocket/when_all.hpp>

#include <benchmark/benchmark.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <random>
#include <stop_token>
#include <vector>

namespace opensocket::bench {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t deadline_count = 1024;  // a power of two: indexed with a mask

/// `n` timers spread over the next 10 s, queued in `q` (the vector must not grow afterwards).
struct populated_queue {
    timer_queue q;
    std::vector<timer_node> nodes;
    std::array<clock::time_point, deadline_count> deadlines{};
    std::mt19937_64 rng{42};

    explicit populated_queue(std::size_t n) : nodes(n) {
        const auto base = clock::now();
        auto random_deadline = [&] { return base + std::chrono::microseconds(rng() % 10'000'000); };
        for (auto& node : nodes) {
            node.deadline = random_deadline();
            q.insert(node);
        }
        for (auto& d : deadlines) d = random_deadline();
    }
};

// One op = insert a node at a random deadline, then remove it again.
void bm_timer_insert_remove(benchmark::State& state) {
    populated_queue pq(static_cast<std::size_t>(state.range(0)));
    timer_node probe;
    std::size_t i = 0;
    for (auto _ : state) {
        probe.deadline = pq.deadlines[i++ & (deadline_count - 1)];
        pq.q.insert(probe);
        benchmark::DoNotOptimize(pq.q.remove(probe));
    }
    report_per_op(state);
}
BENCHMARK(bm_timer_insert_remove)
    ->Name("BM_timer_insert_remove/opensocket")
    ->Arg(1'000)
    ->Arg(100'000);

// One op = cancel a random queued timer (remove from the middle of the heap) and re-arm it at a
// new deadline: the pattern of a server re-arming idle timeouts.
void bm_timer_rearm_random(benchmark::State& state) {
    populated_queue pq(static_cast<std::size_t>(state.range(0)));
    std::vector<std::size_t> victims(deadline_count);
    for (auto& v : victims) v = pq.rng() % pq.nodes.size();
    std::size_t i = 0;
    for (auto _ : state) {
        const std::size_t k = i++ & (deadline_count - 1);
        timer_node& node = pq.nodes[victims[k]];
        pq.q.remove(node);
        node.deadline = pq.deadlines[k];
        pq.q.insert(node);
    }
    benchmark::DoNotOptimize(pq.q.size());
    report_per_op(state);
}
BENCHMARK(bm_timer_rearm_random)
    ->Name("BM_timer_rearm_random/opensocket")
    ->Arg(1'000)
    ->Arg(100'000);

// One op = the earliest of `n` connection timers (each `now + 60 s`) is cancelled and re-armed at
// a later `now + 60 s`: the pattern of a server's idle timeout, re-armed once per request. Such
// deadlines arrive in order, so they stay in the timer queue's O(1) lanes.
void bm_timer_rearm_fixed_timeout(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    timer_queue q;
    std::vector<timer_node> nodes(n);
    auto now = clock::now();
    for (auto& node : nodes) {
        now += 1us;
        node.deadline = now + 60s;
        q.insert(node);
    }
    std::size_t oldest = 0;
    for (auto _ : state) {
        timer_node& node = nodes[oldest];
        q.remove(node);
        now += 1us;
        node.deadline = now + 60s;
        q.insert(node);
        if (++oldest == n) oldest = 0;
    }
    benchmark::DoNotOptimize(q.size());
    state.counters["in_heap"] = static_cast<double>(q.heap_size());
    report_per_op(state);
}
BENCHMARK(bm_timer_rearm_fixed_timeout)
    ->Name("BM_timer_rearm_fixed_timeout/opensocket")
    ->Arg(1'000)
    ->Arg(100'000);

// One op = a sleep whose deadline has already passed: timer insert, one loop turn (which polls
// the engine with a zero timeout), fire, resume.
task<> expired_sleep_loop(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(co_await sleep_for(0ns));
}

void bm_sleep_expired(benchmark::State& state) {
    sync_wait(expired_sleep_loop(state));
    report_per_op(state);
}
BENCHMARK(bm_sleep_expired)->Name("BM_sleep_expired/opensocket");

// One op = a one-hour sleep cancelled through its stop token by a sibling task, both run by a
// when_all of two (compare with BM_when_all_variadic/opensocket/2 for the sleep's own share).
task<> long_sleep(bool& canceled) {
    auto r = co_await sleep_for(1h);
    canceled = !r;
}

task<> stop(std::stop_source& source) {
    source.request_stop();
    co_return;
}

task<> cancelled_sleep_loop(benchmark::State& state) {
    std::size_t not_canceled = 0;
    for (auto _ : state) {
        std::stop_source source;
        bool canceled = false;
        co_await when_all(long_sleep(canceled).with_stop_token(source.get_token()), stop(source));
        if (!canceled) ++not_canceled;
    }
    if (not_canceled != 0) state.SkipWithError("a sleep was not cancelled");
}

void bm_sleep_cancel(benchmark::State& state) {
    sync_wait(cancelled_sleep_loop(state));
    report_per_op(state);
}
BENCHMARK(bm_sleep_cancel)->Name("BM_sleep_cancel/opensocket");

}  // namespace
}  // namespace opensocket::bench
