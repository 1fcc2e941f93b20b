// timer_queue: the executor's timers (sorted FIFO lanes for fixed timeouts, a 4-ary heap for
// the rest).

#include <opensocket/timer_queue.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <random>
#include <vector>

namespace {

using opensocket::clock;
using opensocket::timer_node;
using opensocket::timer_queue;
using std::chrono::microseconds;

/// A timer that appends itself to a log when it fires.
struct logged_timer : timer_node {
    int id = 0;
    std::vector<const logged_timer*>* log = nullptr;

    logged_timer() { fire = &on_fire; }
    static void on_fire(timer_node* n) noexcept {
        auto* self = static_cast<logged_timer*>(n);
        self->log->push_back(self);
    }
};

const clock::time_point epoch{};

clock::time_point at(long us) { return epoch + microseconds(us); }

/// Every timer in `log` fired no earlier than its predecessor (deadline, then insertion order).
bool fired_in_order(const std::vector<const logged_timer*>& log) {
    return std::is_sorted(log.begin(), log.end(), [](const logged_timer* a, const logged_timer* b) {
        return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
    });
}

std::vector<logged_timer> make_timers(std::size_t n, std::vector<const logged_timer*>& log) {
    std::vector<logged_timer> timers(n);
    for (std::size_t i = 0; i < n; ++i) {
        timers[i].id = static_cast<int>(i);
        timers[i].log = &log;
    }
    return timers;
}

TEST(TimerQueue, StartsEmpty) {
    timer_queue q;
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.size(), 0u);
    EXPECT_EQ(q.fire_due(clock::time_point::max()), 0u);
}

TEST(TimerQueue, InsertMarksNodeQueued) {
    std::vector<const logged_timer*> log;
    logged_timer t;
    t.log = &log;
    t.deadline = at(5);
    timer_queue q;
    EXPECT_FALSE(t.queued());
    q.insert(t);
    EXPECT_TRUE(t.queued());
    EXPECT_EQ(q.size(), 1u);
    EXPECT_EQ(q.next_deadline(), at(5));
}

TEST(TimerQueue, NextDeadlineIsTheEarliest) {
    std::vector<const logged_timer*> log;
    auto timers = make_timers(5, log);
    long deadlines[] = {50, 20, 40, 10, 30};
    timer_queue q;
    for (std::size_t i = 0; i < timers.size(); ++i) {
        timers[i].deadline = at(deadlines[i]);
        q.insert(timers[i]);
    }
    EXPECT_EQ(q.next_deadline(), at(10));
}

TEST(TimerQueue, FiresOnlyTimersThatAreDue) {
    std::vector<const logged_timer*> log;
    auto timers = make_timers(3, log);
    timers[0].deadline = at(10);
    timers[1].deadline = at(20);
    timers[2].deadline = at(30);
    timer_queue q;
    for (auto& t : timers) q.insert(t);
    EXPECT_EQ(q.fire_due(at(20)), 2u);
    ASSERT_EQ(log.size(), 2u);
    EXPECT_EQ(log[0]->id, 0);
    EXPECT_EQ(log[1]->id, 1);
    EXPECT_EQ(q.size(), 1u);
    EXPECT_FALSE(timers[0].queued());
    EXPECT_TRUE(timers[2].queued());
    EXPECT_EQ(q.next_deadline(), at(30));
}

TEST(TimerQueue, TimerDueExactlyNowFires) {
    std::vector<const logged_timer*> log;
    auto timers = make_timers(1, log);
    timers[0].deadline = at(7);
    timer_queue q;
    q.insert(timers[0]);
    EXPECT_EQ(q.fire_due(at(6)), 0u);
    EXPECT_EQ(q.fire_due(at(7)), 1u);
}

TEST(TimerQueue, ThousandsOfRandomTimersFireInDeadlineOrder) {
    constexpr std::size_t n = 10000;
    std::vector<const logged_timer*> log;
    auto timers = make_timers(n, log);
    std::mt19937 rng(12345);
    std::uniform_int_distribution<long> dist(0, 1'000'000);
    timer_queue q;
    for (auto& t : timers) {
        t.deadline = at(dist(rng));
        q.insert(t);
    }
    ASSERT_EQ(q.size(), n);
    EXPECT_EQ(q.fire_due(clock::time_point::max()), n);
    ASSERT_EQ(log.size(), n);
    EXPECT_TRUE(fired_in_order(log));
    EXPECT_TRUE(q.empty());
}

TEST(TimerQueue, FiringInStepsKeepsDeadlineOrder) {
    constexpr std::size_t n = 5000;
    std::vector<const logged_timer*> log;
    auto timers = make_timers(n, log);
    std::mt19937 rng(99);
    std::uniform_int_distribution<long> dist(0, 100'000);
    timer_queue q;
    for (auto& t : timers) {
        t.deadline = at(dist(rng));
        q.insert(t);
    }
    for (long now = 0; now <= 100'000; now += 997) {
        q.fire_due(at(now));
        for (const auto* t : log) EXPECT_LE(t->deadline, at(now));
        if (!q.empty()) {
            EXPECT_GT(q.next_deadline(), at(now));
        }
    }
    q.fire_due(at(100'000));
    ASSERT_EQ(log.size(), n);
    EXPECT_TRUE(fired_in_order(log));
}

TEST(TimerQueue, EqualDeadlinesFireInInsertionOrder) {
    constexpr std::size_t n = 1000;
    std::vector<const logged_timer*> log;
    auto timers = make_timers(n, log);
    std::mt19937 rng(7);
    std::uniform_int_distribution<long> dist(0, 9);  // only 10 distinct deadlines: many ties
    timer_queue q;
    for (auto& t : timers) {
        t.deadline = at(dist(rng));
        q.insert(t);
    }
    q.fire_due(clock::time_point::max());
    ASSERT_EQ(log.size(), n);
    for (std::size_t i = 1; i < n; ++i) {
        if (log[i - 1]->deadline == log[i]->deadline)
            EXPECT_LT(log[i - 1]->id, log[i]->id) << "tie at position " << i;
        else
            EXPECT_LT(log[i - 1]->deadline, log[i]->deadline) << "position " << i;
    }
}

TEST(TimerQueue, AllEqualDeadlinesFireInInsertionOrder) {
    constexpr std::size_t n = 300;
    std::vector<const logged_timer*> log;
    auto timers = make_timers(n, log);
    timer_queue q;
    for (auto& t : timers) {
        t.deadline = at(1);
        q.insert(t);
    }
    q.fire_due(at(1));
    ASSERT_EQ(log.size(), n);
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(log[i]->id, static_cast<int>(i));
}

/// The queued timer that fires first (or last, with `last`), or nullptr.
logged_timer* extreme(std::vector<logged_timer>& timers, bool last = false) {
    logged_timer* best = nullptr;
    for (auto& t : timers) {
        if (!t.queued()) continue;
        bool earlier = best == nullptr || t.deadline < best->deadline ||
                       (t.deadline == best->deadline && t.seq < best->seq);
        if (best == nullptr || earlier != last) best = &t;
    }
    return best;
}

TEST(TimerQueue, RemovingTheRootKeepsHeapOrder) {
    std::vector<const logged_timer*> log;
    auto timers = make_timers(1000, log);
    std::mt19937 rng(3);
    std::uniform_int_distribution<long> dist(0, 10'000);
    timer_queue q;
    for (auto& t : timers) {
        t.deadline = at(dist(rng));
        q.insert(t);
    }
    for (int round = 0; round < 100; ++round) {
        logged_timer* root = extreme(timers);
        ASSERT_NE(root, nullptr);
        EXPECT_EQ(root->deadline, q.next_deadline());
        EXPECT_TRUE(q.remove(*root));
        EXPECT_FALSE(root->queued());
    }
    EXPECT_EQ(q.size(), 900u);
    q.fire_due(clock::time_point::max());
    ASSERT_EQ(log.size(), 900u);
    EXPECT_TRUE(fired_in_order(log));
}

TEST(TimerQueue, RemovingTheLastNodeKeepsHeapOrder) {
    std::vector<const logged_timer*> log;
    auto timers = make_timers(1000, log);
    std::mt19937 rng(4);
    std::uniform_int_distribution<long> dist(0, 10'000);
    timer_queue q;
    for (auto& t : timers) {
        t.deadline = at(dist(rng));
        q.insert(t);
    }
    for (int round = 0; round < 100; ++round) {
        logged_timer* last = extreme(timers, true);
        ASSERT_NE(last, nullptr);
        EXPECT_TRUE(q.remove(*last));
        EXPECT_FALSE(last->queued());
    }
    EXPECT_EQ(q.size(), 900u);
    q.fire_due(clock::time_point::max());
    ASSERT_EQ(log.size(), 900u);
    EXPECT_TRUE(fired_in_order(log));
}

TEST(TimerQueue, RemovingArbitraryTimersKeepsHeapOrder) {
    constexpr std::size_t n = 10000;
    std::vector<const logged_timer*> log;
    auto timers = make_timers(n, log);
    std::mt19937 rng(2024);
    std::uniform_int_distribution<long> dist(0, 50'000);  // with ties
    timer_queue q;
    for (auto& t : timers) {
        t.deadline = at(dist(rng));
        q.insert(t);
    }
    std::vector<std::size_t> order(n);
    for (std::size_t i = 0; i < n; ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    std::vector<bool> removed(n, false);
    for (std::size_t k = 0; k < n / 3; ++k) {
        std::size_t i = order[k];
        ASSERT_TRUE(q.remove(timers[i]));
        removed[i] = true;
    }
    // Every node still queued knows a distinct position.
    std::vector<std::size_t> positions;
    for (std::size_t i = 0; i < n; ++i) {
        ASSERT_EQ(timers[i].queued(), !removed[i]) << i;
        if (!removed[i]) positions.push_back(timers[i].position);
    }
    std::sort(positions.begin(), positions.end());
    EXPECT_EQ(std::adjacent_find(positions.begin(), positions.end()), positions.end());
    EXPECT_EQ(positions.size(), q.size());
    EXPECT_EQ(q.fire_due(clock::time_point::max()), n - n / 3);
    ASSERT_EQ(log.size(), n - n / 3);
    EXPECT_TRUE(fired_in_order(log));
    for (const auto* t : log) EXPECT_FALSE(removed[static_cast<std::size_t>(t->id)]);
}

TEST(TimerQueue, InterleavedInsertRemoveAndFireKeepsOrder) {
    constexpr std::size_t n = 4000;
    std::vector<const logged_timer*> log;
    auto timers = make_timers(n, log);
    std::mt19937 rng(77);
    std::uniform_int_distribution<long> offset(0, 2'000);
    timer_queue q;
    long now = 0;
    std::size_t removed = 0;
    for (std::size_t i = 0; i < n; ++i) {
        timers[i].deadline = at(now + offset(rng));
        q.insert(timers[i]);
        if (i % 5 == 4) {  // drop one random earlier timer, queued or not
            std::size_t victim = std::uniform_int_distribution<std::size_t>(0, i)(rng);
            if (q.remove(timers[victim])) ++removed;
        }
        if (i % 7 == 6) {
            now += 100;
            std::size_t before = log.size();
            q.fire_due(at(now));
            EXPECT_TRUE(std::is_sorted(log.begin() + static_cast<std::ptrdiff_t>(before), log.end(),
                                       [](const logged_timer* a, const logged_timer* b) {
                                           return a->deadline < b->deadline;
                                       }));
        }
    }
    q.fire_due(clock::time_point::max());
    EXPECT_EQ(log.size() + removed, n);
    EXPECT_TRUE(q.empty());
}

TEST(TimerQueue, RemoveReturnsFalseForANodeNeverQueued) {
    std::vector<const logged_timer*> log;
    auto timers = make_timers(3, log);
    timer_queue q;
    q.insert(timers[0]);
    q.insert(timers[1]);
    EXPECT_FALSE(q.remove(timers[2]));
    EXPECT_EQ(q.size(), 2u);
}

TEST(TimerQueue, RemoveReturnsFalseTheSecondTime) {
    std::vector<const logged_timer*> log;
    auto timers = make_timers(2, log);
    timer_queue q;
    for (auto& t : timers) q.insert(t);
    EXPECT_TRUE(q.remove(timers[0]));
    EXPECT_FALSE(q.remove(timers[0]));
    EXPECT_EQ(q.size(), 1u);
}

TEST(TimerQueue, RemoveReturnsFalseForAFiredTimer) {
    std::vector<const logged_timer*> log;
    auto timers = make_timers(1, log);
    timer_queue q;
    q.insert(timers[0]);
    q.fire_due(clock::time_point::max());
    EXPECT_FALSE(timers[0].queued());
    EXPECT_FALSE(q.remove(timers[0]));
}

TEST(TimerQueue, RemovedTimerNeverFires) {
    std::vector<const logged_timer*> log;
    auto timers = make_timers(2, log);
    timer_queue q;
    for (auto& t : timers) q.insert(t);
    q.remove(timers[0]);
    q.fire_due(clock::time_point::max());
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(log[0]->id, 1);
}

TEST(TimerQueue, TimerCanBeReinsertedAfterFiring) {
    std::vector<const logged_timer*> log;
    auto timers = make_timers(1, log);
    timer_queue q;
    timers[0].deadline = at(1);
    q.insert(timers[0]);
    q.fire_due(at(1));
    timers[0].deadline = at(2);
    q.insert(timers[0]);
    EXPECT_TRUE(timers[0].queued());
    EXPECT_EQ(q.fire_due(at(2)), 1u);
    EXPECT_EQ(log.size(), 2u);
}

/// When it fires, inserts `next` (if any) into `queue`.
struct chaining_timer : logged_timer {
    timer_queue* queue = nullptr;
    timer_node* next = nullptr;
    chaining_timer() { fire = &on_fire_chain; }
    static void on_fire_chain(timer_node* n) noexcept {
        auto* self = static_cast<chaining_timer*>(n);
        self->log->push_back(self);
        if (self->next != nullptr) self->queue->insert(*self->next);
    }
};

TEST(TimerQueue, FireCallbackCanInsertADueTimerThatFiresInTheSamePass) {
    std::vector<const logged_timer*> log;
    timer_queue q;
    chaining_timer first;
    logged_timer second;
    first.id = 1;
    first.log = &log;
    first.queue = &q;
    first.next = &second;
    first.deadline = at(10);
    second.id = 2;
    second.log = &log;
    second.deadline = at(5);  // already due when inserted
    q.insert(first);
    EXPECT_EQ(q.fire_due(at(10)), 2u);
    ASSERT_EQ(log.size(), 2u);
    EXPECT_EQ(log[0]->id, 1);
    EXPECT_EQ(log[1]->id, 2);
    EXPECT_TRUE(q.empty());
}

TEST(TimerQueue, FireCallbackCanInsertAFutureTimerThatWaits) {
    std::vector<const logged_timer*> log;
    timer_queue q;
    chaining_timer first;
    logged_timer later;
    first.id = 1;
    first.log = &log;
    first.queue = &q;
    first.next = &later;
    first.deadline = at(10);
    later.id = 2;
    later.log = &log;
    later.deadline = at(20);
    q.insert(first);
    EXPECT_EQ(q.fire_due(at(10)), 1u);
    EXPECT_TRUE(later.queued());
    EXPECT_EQ(q.next_deadline(), at(20));
    EXPECT_EQ(q.fire_due(at(20)), 1u);
    EXPECT_EQ(log.size(), 2u);
}

TEST(TimerQueue, ChainOfSelfInsertingTimersAllFire) {
    constexpr std::size_t n = 1000;
    std::vector<const logged_timer*> log;
    timer_queue q;
    std::vector<chaining_timer> chain(n);
    for (std::size_t i = 0; i < n; ++i) {
        chain[i].id = static_cast<int>(i);
        chain[i].log = &log;
        chain[i].queue = &q;
        chain[i].deadline = at(static_cast<long>(i));
        chain[i].next = i + 1 < n ? &chain[i + 1] : nullptr;
    }
    q.insert(chain[0]);
    EXPECT_EQ(q.fire_due(at(static_cast<long>(n))), n);
    ASSERT_EQ(log.size(), n);
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(log[i]->id, static_cast<int>(i));
}

/// When it fires, removes `victim` from `queue` and records whether that succeeded.
struct removing_timer : logged_timer {
    timer_queue* queue = nullptr;
    timer_node* victim = nullptr;
    bool removed = false;
    removing_timer() { fire = &on_fire_remove; }
    static void on_fire_remove(timer_node* n) noexcept {
        auto* self = static_cast<removing_timer*>(n);
        self->log->push_back(self);
        self->removed = self->queue->remove(*self->victim);
    }
};

TEST(TimerQueue, FireCallbackCanRemoveAnotherDueTimer) {
    std::vector<const logged_timer*> log;
    timer_queue q;
    removing_timer killer;
    logged_timer victim;
    killer.id = 1;
    killer.log = &log;
    killer.queue = &q;
    killer.victim = &victim;
    killer.deadline = at(1);
    victim.id = 2;
    victim.log = &log;
    victim.deadline = at(2);
    q.insert(killer);
    q.insert(victim);
    EXPECT_EQ(q.fire_due(at(5)), 1u);
    EXPECT_TRUE(killer.removed);
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(log[0]->id, 1);
}

// ---- lanes: fixed timeouts re-armed in deadline order --------------------------------------

TEST(TimerQueueLanes, NonDecreasingDeadlinesStayOutOfTheHeap) {
    std::vector<const logged_timer*> log;
    auto timers = make_timers(5000, log);
    timer_queue q;
    for (std::size_t i = 0; i < timers.size(); ++i) {
        timers[i].deadline = at(static_cast<long>(i / 3));  // with ties
        q.insert(timers[i]);
    }
    EXPECT_EQ(q.heap_size(), 0u);
    EXPECT_EQ(q.next_deadline(), at(0));
    EXPECT_EQ(q.fire_due(at(999)), 3000u);
    EXPECT_EQ(q.fire_due(clock::time_point::max()), 2000u);
    ASSERT_EQ(log.size(), 5000u);
    for (std::size_t i = 0; i < log.size(); ++i) EXPECT_EQ(log[i]->id, static_cast<int>(i));
}

TEST(TimerQueueLanes, FourInterleavedTimeoutsUseFourLanes) {
    // Four connection timeouts of different lengths, each re-armed as time goes on: every
    // insert fits a lane, and the merged firing order is by deadline, then insertion.
    std::vector<const logged_timer*> log;
    auto timers = make_timers(4000, log);
    const long timeout[] = {5000, 100, 2000, 700};
    timer_queue q;
    for (std::size_t i = 0; i < timers.size(); ++i) {
        timers[i].deadline = at(static_cast<long>(i) + timeout[i % 4]);
        q.insert(timers[i]);
    }
    EXPECT_EQ(q.heap_size(), 0u);
    EXPECT_EQ(q.fire_due(clock::time_point::max()), 4000u);
    EXPECT_TRUE(fired_in_order(log));
}

TEST(TimerQueueLanes, AnEarlierDeadlineGoesToTheHeapAndFiresFirst) {
    std::vector<const logged_timer*> log;
    auto timers = make_timers(6, log);
    timer_queue q;
    // Decreasing deadlines 400, 300, 200, 100 each start a new lane (none fits behind the
    // previous ones); 50 then fits no lane and none is free: it goes to the heap.
    const long deadlines[] = {100, 200, 300, 400, 500, 50};
    for (std::size_t i = 0; i < 4; ++i) {
        timers[i].deadline = at(deadlines[3 - i]);
        q.insert(timers[i]);
    }
    EXPECT_EQ(q.heap_size(), 0u);
    timers[5].deadline = at(deadlines[5]);
    q.insert(timers[5]);
    EXPECT_EQ(q.heap_size(), 1u);
    EXPECT_EQ(q.next_deadline(), at(50));
    EXPECT_EQ(q.fire_due(at(100)), 2u);
    ASSERT_EQ(log.size(), 2u);
    EXPECT_EQ(log[0]->id, 5);
    EXPECT_EQ(log[1]->id, 3);
}

TEST(TimerQueueLanes, EqualDeadlinesAcrossLanesAndHeapFireInInsertionOrder) {
    std::vector<const logged_timer*> log;
    auto timers = make_timers(12, log);
    timer_queue q;
    // Lanes end at 40, 30, 20, 10; then six timers at 10 spread over a lane and the heap.
    const long deadlines[] = {40, 30, 20, 10, 10, 10, 5, 10, 10, 10, 10, 10};
    for (std::size_t i = 0; i < timers.size(); ++i) {
        timers[i].deadline = at(deadlines[i]);
        q.insert(timers[i]);
    }
    EXPECT_EQ(q.fire_due(clock::time_point::max()), 12u);
    EXPECT_TRUE(fired_in_order(log));
    EXPECT_EQ(log[0]->id, 6);
}

TEST(TimerQueueLanes, ALongLivedHeadDoesNotMakeTheLaneGrowWithoutBound) {
    // One idle connection's timer stays at a lane's head while another connection re-arms its
    // own timer a million times: cancelled entries are compacted away, so memory stays small
    // and the long-lived timer still fires in order.
    std::vector<const logged_timer*> log;
    auto timers = make_timers(2, log);
    timer_queue q;
    timers[0].deadline = at(1'000'000);
    q.insert(timers[0]);
    for (long i = 0; i < 1'000'000; ++i) {
        timers[1].deadline = at(1'000'000 + i);
        q.insert(timers[1]);
        ASSERT_TRUE(q.remove(timers[1]));
    }
    EXPECT_EQ(q.size(), 1u);
    EXPECT_EQ(q.heap_size(), 0u);
    timers[1].deadline = at(2'000'000);
    q.insert(timers[1]);
    EXPECT_EQ(q.fire_due(clock::time_point::max()), 2u);
    ASSERT_EQ(log.size(), 2u);
    EXPECT_EQ(log[0]->id, 0);
    EXPECT_EQ(log[1]->id, 1);
}

TEST(TimerQueueLanes, RandomMixOfFixedAndRandomTimeoutsMatchesASortedModel) {
    // Fixed timeouts (lanes) and random ones (heap), with random cancels and firing as the
    // clock advances: everything fires exactly once, in (deadline, insertion) order, never
    // early, and nothing cancelled fires.
    constexpr std::size_t n = 20000;
    std::vector<const logged_timer*> log;
    auto timers = make_timers(n, log);
    std::mt19937 rng(99);
    std::uniform_int_distribution<int> kind(0, 9);
    std::uniform_int_distribution<long> random_offset(0, 5000);
    const long fixed[] = {300, 1000, 4000};
    timer_queue q;
    long now = 0;
    std::vector<bool> cancelled(n, false);
    std::size_t fired_total = 0;
    for (std::size_t i = 0; i < n; ++i) {
        int k = kind(rng);
        long off = k < 3 ? fixed[k] : k < 7 ? fixed[k % 3] : random_offset(rng);
        timers[i].deadline = at(now + off);
        q.insert(timers[i]);
        if (i % 7 == 3) {
            std::size_t victim = std::uniform_int_distribution<std::size_t>(0, i)(rng);
            if (q.remove(timers[victim])) cancelled[victim] = true;
        }
        if (i % 16 == 0) {
            now += 37;
            std::size_t before = log.size();
            fired_total += q.fire_due(at(now));
            for (std::size_t j = before; j < log.size(); ++j) EXPECT_LE(log[j]->deadline, at(now));
            if (!q.empty()) {
                EXPECT_GT(q.next_deadline(), at(now));
            }
        }
    }
    fired_total += q.fire_due(clock::time_point::max());
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(fired_total, log.size());
    std::size_t expected = 0;
    for (std::size_t i = 0; i < n; ++i) expected += cancelled[i] ? 0 : 1;
    EXPECT_EQ(log.size(), expected);
    EXPECT_TRUE(fired_in_order(log));
    for (const auto* t : log) EXPECT_FALSE(cancelled[static_cast<std::size_t>(t->id)]);
}

}  // namespace
