#include "stats.hpp"

#include <opensocket/http/server.hpp>

#include <algorithm>
#include <mutex>
#include <vector>

namespace opensocket::http::detail {
namespace {

/// Every live thread's counters, and the sums of the threads that exited. Never destroyed:
/// threads may exit during static destruction.
struct registry {
    std::mutex m;
    std::vector<thread_counters*> live;
    uint64_t retired_requests = 0;
    uint64_t retired_connections = 0;

    static registry& get() {
        static registry* r = new registry;
        return *r;
    }
};

/// Registers itself on construction and folds its counts into the registry at thread exit.
struct registered_counters {
    thread_counters c;
    registered_counters() {
        registry& r = registry::get();
        std::lock_guard lock(r.m);
        r.live.push_back(&c);
    }
    ~registered_counters() {
        registry& r = registry::get();
        std::lock_guard lock(r.m);
        r.retired_requests += c.requests.load(std::memory_order_relaxed);
        r.retired_connections += c.connections.load(std::memory_order_relaxed);
        std::erase(r.live, &c);
    }
};

thread_local registered_counters mine;

template <class Field>
uint64_t total(Field field, uint64_t registry::*retired) {
    registry& r = registry::get();
    std::lock_guard lock(r.m);
    uint64_t sum = r.*retired;
    for (thread_counters* c : r.live) sum += (c->*field).load(std::memory_order_relaxed);
    return sum;
}

}  // namespace

constinit thread_local thread_counters* my_counters_fast = nullptr;

thread_counters& register_my_counters() noexcept {
    my_counters_fast = &mine.c;
    return mine.c;
}

}  // namespace opensocket::http::detail

namespace opensocket::http {

uint64_t server_stats::requests() noexcept {
    return detail::total(&detail::thread_counters::requests, &detail::registry::retired_requests);
}
uint64_t server_stats::connections() noexcept {
    return detail::total(&detail::thread_counters::connections,
                         &detail::registry::retired_connections);
}

}  // namespace opensocket::http
