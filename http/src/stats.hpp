#pragma once
// server_stats' counters, kept per thread: a request bumps its own thread's counter with a plain
// relaxed store (no locked instruction, no cache line shared between executors); reading sums
// every thread's counter plus what exited threads left behind.

#include <atomic>
#include <cstdint>

namespace opensocket::http::detail {

struct thread_counters {
    std::atomic<uint64_t> requests{0};
    std::atomic<uint64_t> connections{0};
};

/// This thread's counters once registered (a plain TLS load: no init guard per request).
extern constinit thread_local thread_counters* my_counters_fast;
/// Registers this thread's counters (first use), folded into the totals at thread exit.
thread_counters& register_my_counters() noexcept;

/// This thread's counters.
inline thread_counters& my_counters() noexcept {
    thread_counters* c = my_counters_fast;
    return c != nullptr ? *c : register_my_counters();
}

/// Only this thread writes `c`: a load and a store, not a read-modify-write.
inline void bump(std::atomic<uint64_t>& c) noexcept {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

}  // namespace opensocket::http::detail
