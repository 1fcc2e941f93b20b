// The io_uring engine's batched waits (uring_options::batch_wait_us, IORING_FEAT_MIN_TIMEOUT):
// with many busy descriptors a blocking wait asks for several completions, and a lone completion
// still comes back once the time bound runs out; with few busy descriptors, with a timer due
// within the bound, with descriptors that read only once, or with the option off, a wait
// returns at the first completion.

#include <test_support.hpp>

#ifdef OPENSOCKET_HAVE_URING
#include "uring_rig.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <vector>

using namespace opensocket;
using namespace opensocket::testing;

namespace {

/// A raw rig whose window is long enough that descriptors made busy at the start stay counted
/// for the whole test, and `n` socket pairs that have each read one byte through the engine.
struct busy_rig {
    busy_rig(unsigned n, uring_options opts = {}) : rig(with_long_window(opts)) {
        for (unsigned i = 0; i < n; ++i) {
            pairs.push_back(std::make_unique<unix_pair>());
            auto t = rig.engine().attach(pairs.back()->mine);
            if (!t) throw std::system_error(t.error(), "attach");
            tokens.push_back(*t);
        }
    }
    static uring_options with_long_window(uring_options o) {
        o.entries = 256;
        o.batch_window_us = 600'000'000;  // ten minutes
        return o;
    }
    /// Each pair reads one byte its peer wrote, twice (a descriptor counts from its second read).
    void make_busy() {
        read_once();
        read_once();
    }
    void read_once() {
        std::vector<std::unique_ptr<raw_op>> ops;
        for (std::size_t i = 0; i < pairs.size(); ++i) {
            ops.push_back(std::make_unique<raw_op>());
            ASSERT_FALSE(rig.start(*ops.back(), io_kind::recv, tokens[i], pairs[i]->mine, 1));
            pairs[i]->peer_writes(std::byte{1});
        }
        rig.settle([&] {
            for (auto& o : ops)
                if (o->resumed == 0) return false;
            return true;
        });
        for (auto& o : ops) {
            ASSERT_EQ(o->resumed, 1);
            ASSERT_EQ(o->op.res, 1);
        }
    }
    /// Starts a 1-byte read on pair 0 and lets its SQE reach the kernel (nothing to read yet).
    void start_lone_read(raw_op& o) {
        ASSERT_FALSE(rig.start(o, io_kind::recv, tokens[0], pairs[0]->mine, 1));
        rig.turn();
        ASSERT_EQ(o.resumed, 0);
    }
    uring_engine::statistics stats() { return rig.engine().stats(); }

    /// What `lone_read` saw: the batched waits (and the short ones) it took, and how long.
    struct lone_result {
        uint64_t batched_waits = 0;
        uint64_t batches_short = 0;
        std::chrono::steady_clock::duration took{};
    };
    /// A 1-byte read on pair 0 whose byte (`value`) is written before one loop turn that waits
    /// up to `wait`: the read must complete with it in that turn.
    lone_result lone_read(std::byte value, std::chrono::nanoseconds wait) {
        raw_op o;
        start_lone_read(o);
        const auto before = stats();
        pairs[0]->peer_writes(value);
        const auto start = std::chrono::steady_clock::now();
        rig.turn(wait);
        lone_result r;
        r.took = std::chrono::steady_clock::now() - start;
        EXPECT_EQ(o.resumed, 1);
        EXPECT_EQ(o.op.res, 1);
        EXPECT_EQ(o.buf[0], value);
        r.batched_waits = stats().batched_waits - before.batched_waits;
        r.batches_short = stats().batches_short - before.batches_short;
        return r;
    }

    raw_rig rig;
    std::vector<std::unique_ptr<unix_pair>> pairs;
    std::vector<io_token> tokens;
};

}  // namespace

TEST(uring_engine, a_batched_wait_returns_a_lone_completion_when_its_bound_runs_out) {
    SKIP_WITHOUT_URING();
    busy_rig b(64);
    SKIP_WITHOUT_BATCH_WAIT(b.rig.engine());
    b.make_busy();  // 64 busy descriptors: a wait asks for 16 completions
    const auto r = b.lone_read(std::byte{42}, std::chrono::seconds(60));
    EXPECT_EQ(r.batched_waits, 1u);
    EXPECT_EQ(r.batches_short, 1u);
    // Liveness, not speed: the kernel gave the one completion back after batch_wait_us (100 µs)
    // instead of holding it until the 60 s timeout for the 15 that never came.
    EXPECT_LT(r.took, std::chrono::seconds(30));
}

TEST(uring_engine, a_batched_wait_without_any_timeout_still_returns_a_lone_completion) {
    SKIP_WITHOUT_URING();
    busy_rig b(64);
    SKIP_WITHOUT_BATCH_WAIT(b.rig.engine());
    b.make_busy();
    // No timer at all (the executor's idle wait): only min_wait_usec ends the wait. Without it
    // this would block until ctest's timeout.
    const auto r = b.lone_read(std::byte{9}, std::chrono::nanoseconds(-1));
    EXPECT_EQ(r.batched_waits, 1u);
    EXPECT_EQ(r.batches_short, 1u);
}

TEST(uring_engine, a_wait_with_a_timer_due_within_the_bound_is_not_batched) {
    SKIP_WITHOUT_URING();
    busy_rig b(64);
    SKIP_WITHOUT_BATCH_WAIT(b.rig.engine());
    b.make_busy();
    raw_op lone;
    b.start_lone_read(lone);
    const auto before = b.stats();
    b.rig.turn(std::chrono::microseconds(50));  // the executor's next timer: 50 µs away
    EXPECT_EQ(lone.resumed, 0);
    EXPECT_EQ(b.stats().batched_waits, before.batched_waits);
    b.pairs[0]->peer_writes(std::byte{7});
    b.rig.turn(std::chrono::seconds(60));  // a timer far off: batched, and still answered
    EXPECT_EQ(lone.resumed, 1);
    EXPECT_EQ(b.stats().batched_waits, before.batched_waits + 1);
}

TEST(uring_engine, few_busy_descriptors_are_never_made_to_wait_for_a_batch) {
    SKIP_WITHOUT_URING();
    busy_rig b(7);  // 7 / 4: one completion per wait
    SKIP_WITHOUT_BATCH_WAIT(b.rig.engine());
    b.make_busy();
    EXPECT_EQ(b.lone_read(std::byte{3}, std::chrono::seconds(60)).batched_waits, 0u);
    EXPECT_EQ(b.stats().batched_waits, 0u);
}

TEST(uring_engine, descriptors_that_read_only_once_never_make_a_wait_batch) {
    SKIP_WITHOUT_URING();
    busy_rig b(64);  // like connections that each carry one request (Connection: close)
    SKIP_WITHOUT_BATCH_WAIT(b.rig.engine());
    b.read_once();
    EXPECT_EQ(b.lone_read(std::byte{3}, std::chrono::seconds(60)).batched_waits, 0u);
    EXPECT_EQ(b.stats().batched_waits, 0u);
}

TEST(uring_engine, batch_wait_us_zero_turns_batched_waits_off) {
    SKIP_WITHOUT_URING();
    uring_options opts;
    opts.batch_wait_us = 0;
    busy_rig b(64, opts);
    EXPECT_FALSE(b.rig.engine().features().batch_wait);
    b.make_busy();
    EXPECT_EQ(b.lone_read(std::byte{3}, std::chrono::seconds(60)).batched_waits, 0u);
    EXPECT_EQ(b.stats().batched_waits, 0u);
}

#endif  // OPENSOCKET_HAVE_URING
