// A million chained co_awaits that complete at once must run in constant stack: symmetric
// transfer has to become a tail call (g++ needs -foptimize-sibling-calls at -O0/-O1), and an
// operation that completes inline must not suspend at all. A million frames of machine stack
// would be far more than the 8 MiB main thread stack, so a regression crashes these tests.
// (tests/unit/task_test.cpp covers plain nested and sequential ready tasks; these add the
// shapes that also go through the executor, the engine and exception propagation.)

#include "stress_support.hpp"

#include <test_support.hpp>

#include <opensocket/socket_options.hpp>

#include <array>
#include <stdexcept>
#include <string>

using namespace opensocket;
using namespace opensocket::testing;

namespace {

constexpr int million = 1'000'000;

// ---- nested tasks whose innermost level suspends ---------------------------------------------

// The innermost task really suspends (it is resumed from the executor's run queue), so the
// million-level unwinding starts from a loop turn, not from inside the descent.
task<long> nested_to_a_yield(int n) {
    if (n == 0) {
        co_await yield_now{};
        co_return 0;
    }
    co_return 1 + co_await nested_to_a_yield(n - 1);
}

TEST(stress_deep_chain, million_nested_tasks_unwinding_after_a_real_suspension) {
    EXPECT_EQ(run(nested_to_a_yield(million)), million);
}

// ---- an exception through a million levels ---------------------------------------------------

[[noreturn]] void throw_at_the_bottom() { throw std::runtime_error("bottom"); }

task<int> nested_throw(int n) {
    if (n == 0) throw_at_the_bottom();
    co_return 1 + co_await nested_throw(n - 1);
}

task<std::string> catch_nested_throw(int n) {
    try {
        co_await nested_throw(n);
    } catch (const std::runtime_error& e) {
        co_return e.what();
    }
    co_return "no exception";
}

TEST(stress_deep_chain, exception_propagates_through_nested_tasks) {
    // Every level rethrows in await_resume and stores the exception in its promise: a million
    // throws, each one unwinding a single frame. Throwing is slow under the sanitizers.
    const int depth = static_cast<int>(scaled(million, 500'000));
    EXPECT_EQ(run(catch_nested_throw(depth)), "bottom");
}

// ---- a million ready children in a loop, mixing value and void tasks -------------------------

task<int> ready_value(int v) { co_return v; }
task<> ready_void(long& counter) {
    ++counter;
    co_return;
}

task<long> loop_of_ready_children(int n) {
    long sum = 0;
    long voids = 0;
    for (int i = 0; i < n; ++i) {
        if (i % 2 == 0)
            sum += co_await ready_value(1);
        else
            co_await ready_void(voids);
    }
    co_return sum + voids;
}

TEST(stress_deep_chain, million_sequential_awaits_of_ready_children) {
    EXPECT_EQ(run(loop_of_ready_children(million)), million);
}

// ---- a million read_some calls that complete inline -------------------------------------------

struct inline_read_outcome {
    long reads = 0;
    long mismatches = 0;
    long failures = 0;
};

// Queues `chunk` bytes, then reads them back one byte per read_some: every read finds its data
// already in the socket and completes without suspending. Repeated until `total` reads.
task<inline_read_outcome> byte_by_byte_reads(long total, std::size_t chunk) {
    inline_read_outcome out;
    auto pair = co_await connected_pair();
    EXPECT_TRUE(pair);
    if (!pair) co_return out;
    (void)set_send_buffer_size(pair->client.native(), static_cast<int>(chunk) * 2);
    (void)set_recv_buffer_size(pair->server.native(), static_cast<int>(chunk) * 2);
    std::vector<std::byte> block(chunk);
    std::size_t offset = 0;  // stream position of block[0]
    while (out.reads < total) {
        for (std::size_t i = 0; i < chunk; ++i) block[i] = pattern_byte(offset + i);
        if (!co_await pair->client.write_all(block)) {
            ++out.failures;
            break;
        }
        const auto n = std::min<long>(static_cast<long>(chunk), total - out.reads);
        std::array<std::byte, 1> one{};
        for (long i = 0; i < n; ++i) {
            auto r = co_await pair->server.read_some(one);
            if (!r || *r != 1) {
                ++out.failures;
                co_return out;
            }
            if (one[0] != pattern_byte(offset + static_cast<std::size_t>(i))) ++out.mismatches;
            ++out.reads;
        }
        offset += chunk;
    }
    co_return out;
}

TEST(stress_deep_chain, million_read_somes_completing_inline) {
    // 64 KiB fits in any loopback socket's buffers, so each chunk is queued before the reads.
    // Under wine every recv is a round trip to the wineserver (a million take 15-80 s): a tenth
    // of them still needs far more than the 2 MiB main-thread stack of a Windows exe if each read
    // left a frame behind.
    const long reads = running_under_wine() ? million / 10 : million;
    auto out = run(byte_by_byte_reads(reads, 64 * 1024));
    EXPECT_EQ(out.reads, reads);
    EXPECT_EQ(out.mismatches, 0);
    EXPECT_EQ(out.failures, 0);
}

// ---- a million yields ------------------------------------------------------------------------

task<long> yield_many(long n) {
    long count = 0;
    for (long i = 0; i < n; ++i) {
        co_await yield_now{};
        ++count;
    }
    co_return count;
}

TEST(stress_deep_chain, million_yields) { EXPECT_EQ(run(yield_many(million)), million); }

// Two coroutines yielding in turn: each yield really hands over to the other one.
task<> ping_pong(long n, long& mine, const long& theirs, long& out_of_turn) {
    for (long i = 0; i < n; ++i) {
        if (mine != theirs) ++out_of_turn;
        ++mine;
        co_await yield_now{};
    }
}

task<long> interleaved_yields(long n) {
    long a = 0;
    long b = 0;
    long bad_a = 0;
    long bad_b = 0;
    co_await when_all(ping_pong(n, a, b, bad_a),
                      [](long k, long& x, const long& y, long& bad) -> task<> {
                          // The second child starts one step behind.
                          for (long i = 0; i < k; ++i) {
                              if (x + 1 != y) ++bad;
                              ++x;
                              co_await yield_now{};
                          }
                      }(n, b, a, bad_b));
    EXPECT_EQ(bad_a, 0);
    EXPECT_EQ(bad_b, 0);
    co_return a + b;
}

TEST(stress_deep_chain, two_coroutines_yielding_in_turn_half_a_million_times_each) {
    EXPECT_EQ(run(interleaved_yields(million / 2)), million);
}

}  // namespace
