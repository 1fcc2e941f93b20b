// wait_batch: how many completions the io_uring engine's blocking wait asks for. A quarter of
// the descriptors busy in this or the last window, never more than a ceiling that halves when
// batches keep falling short (not for a stray one) and doubles back after calm turns; no
// batching with few busy descriptors, after a quiet spell, or with a maximum below 2.

#include <opensocket/detail/wait_batch.hpp>

#include <gtest/gtest.h>

#include <cstdint>

namespace {

using opensocket::detail::wait_batch;

constexpr int64_t ms = 1'000'000;
constexpr int64_t window = 1 * ms;
constexpr unsigned calm = wait_batch::calm_turns;

void make_busy(wait_batch& b, unsigned n) {
    for (unsigned i = 0; i < n; ++i) b.busy();
}

/// A batch of at most `max` whose first window started at 100 ms with `busy` descriptors.
wait_batch started(unsigned busy, unsigned max = 32) {
    wait_batch b(max, window);
    b.tick(100 * ms);
    make_busy(b, busy);
    return b;
}

TEST(wait_batch, asks_for_one_completion_per_four_busy_descriptors_up_to_the_maximum) {
    wait_batch b(32, window);
    b.tick(100 * ms);
    EXPECT_EQ(b.target(), 1u);  // nothing busy
    make_busy(b, 7);
    EXPECT_EQ(b.target(), 1u);  // 7 / 4: one
    make_busy(b, 1);
    EXPECT_EQ(b.target(), 2u);
    make_busy(b, 56);
    EXPECT_EQ(b.target(), 16u);
    make_busy(b, 1000);
    EXPECT_EQ(b.target(), 32u);
}

TEST(wait_batch, a_descriptor_counts_for_the_whole_next_window_then_is_forgotten) {
    wait_batch b(32, window);
    b.tick(100 * ms);
    const uint32_t first = b.window();
    make_busy(b, 40);
    b.tick(100 * ms + window / 2);  // same window
    EXPECT_EQ(b.window(), first);
    EXPECT_EQ(b.target(), 10u);
    b.tick(100 * ms + window);  // next window: the last one's 40 still count
    EXPECT_NE(b.window(), first);
    EXPECT_EQ(b.target(), 10u);
    make_busy(b, 8);
    EXPECT_EQ(b.target(), 10u);  // the larger of the two windows
    b.tick(100 * ms + 2 * window);
    EXPECT_EQ(b.target(), 2u);  // only the 8 of the window just over
    b.tick(100 * ms + 3 * window);
    EXPECT_EQ(b.target(), 1u);
}

TEST(wait_batch, a_quiet_spell_longer_than_a_window_forgets_the_busy_ones_at_once) {
    wait_batch b = started(64);
    EXPECT_EQ(b.target(), 16u);
    b.tick(100 * ms + 5 * window);  // the loop slept through several windows
    EXPECT_EQ(b.target(), 1u);
}

TEST(wait_batch, batches_that_keep_falling_short_halve_the_ceiling_and_calm_doubles_it_back) {
    wait_batch b = started(400);
    ASSERT_EQ(b.target(), 32u);
    b.waited(32, 5);  // the time bound ran out with 5 of 32
    b.waited(32, 9);
    EXPECT_EQ(b.ceiling(), 32u);  // two in a row: not yet
    b.waited(32, 1);
    EXPECT_EQ(b.ceiling(), 16u);  // the third
    EXPECT_EQ(b.target(), 16u);
    for (unsigned c : {16u, 8u, 4u, 2u}) {
        for (int i = 0; i < 3; ++i) b.waited(c, c - 1);
        EXPECT_EQ(b.ceiling(), c / 2);
    }
    EXPECT_EQ(b.target(), 1u);
    // Waits for one are never short, but count as calm: the ceiling grows back, one doubling
    // per calm_turns waits, never past the maximum.
    for (unsigned i = 0; i < calm - 1; ++i) b.waited(1, 1);
    EXPECT_EQ(b.ceiling(), 1u);
    b.waited(1, 1);
    EXPECT_EQ(b.ceiling(), 2u);
    for (unsigned i = 0; i < 10 * calm; ++i) b.waited(b.target(), b.target());
    EXPECT_EQ(b.ceiling(), 32u);
    EXPECT_EQ(b.target(), 32u);
}

TEST(wait_batch, one_short_batch_in_ten_never_shrinks_it_one_in_five_does) {
    wait_batch b = started(400);
    for (int i = 0; i < 1000; ++i) b.waited(32, i % 10 == 0 ? 20 : 32);
    EXPECT_EQ(b.ceiling(), 32u);
    for (int i = 0; i < 40; ++i) b.waited(b.target(), i % 5 == 0 ? 1 : b.target());
    EXPECT_LT(b.ceiling(), 32u);
}

TEST(wait_batch, a_wait_that_did_not_block_or_asked_for_one_never_shrinks_it) {
    wait_batch b = started(400);
    b.waited(1, 0);  // a wait for one that a signal or a timer ended
    EXPECT_EQ(b.ceiling(), 32u);
    b.waited(32, 32);
    b.waited(32, 40);
    EXPECT_EQ(b.ceiling(), 32u);
}

TEST(wait_batch, a_maximum_below_two_never_batches) {
    for (unsigned max : {0u, 1u}) {
        wait_batch b = started(1000, max);
        EXPECT_EQ(b.target(), 1u) << max;
        for (unsigned i = 0; i < 2 * calm; ++i) b.waited(1, 1);
        EXPECT_EQ(b.target(), 1u) << max;
    }
}

}  // namespace
