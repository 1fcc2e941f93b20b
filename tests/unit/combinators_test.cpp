// when_all, when_any, sleep_for/sleep_until, with_timeout and task_scope on one executor.

#include <opensocket/executor.hpp>
#include <opensocket/sleep.hpp>
#include <opensocket/spawn.hpp>
#include <opensocket/task.hpp>
#include <opensocket/when_all.hpp>
#include <opensocket/when_any.hpp>

#include "test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <random>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <system_error>
#include <thread>
#include <tuple>
#include <variant>
#include <vector>

namespace {

using namespace std::chrono_literals;
using opensocket::clock;
using opensocket::executor;
using opensocket::result;
using opensocket::sleep_for;
using opensocket::sleep_until;
using opensocket::task;
using opensocket::task_scope;
using opensocket::when_all;
using opensocket::when_any;
using opensocket::with_timeout;
using opensocket::yield_now;
using opensocket::testing::run;

// --- building blocks -------------------------------------------------------------------------

task<int> value_now(int v) { co_return v; }

task<> count_now(int& counter) {
    ++counter;
    co_return;
}

task<int> value_after_yields(int yields, int v) {
    for (int i = 0; i < yields; ++i) co_await yield_now{};
    co_return v;
}

task<int> value_after_sleep(clock::duration d, int v) {
    auto r = co_await sleep_for(d);
    EXPECT_TRUE(r) << r.error().message();
    co_return v;
}

[[noreturn]] void throw_runtime_error(const std::string& what) { throw std::runtime_error(what); }

task<int> throw_after_yields(int yields, std::string what) {
    for (int i = 0; i < yields; ++i) co_await yield_now{};
    throw_runtime_error(what);
    co_return 0;
}

/// Sleeps for `d`, stores the outcome, then counts itself finished.
task<int> record_sleep(clock::duration d, result<void>& out, int& finished, int v) {
    out = co_await sleep_for(d);
    co_await yield_now{};  // some work after the cancellation, before finishing
    ++finished;
    co_return v;
}

/// Requests stop on `src` once `ready` reaches `n` (yields, never sleeps, while waiting).
task<> stop_when(std::stop_source& src, const int& ready, int n) {
    while (ready < n) co_await yield_now{};
    src.request_stop();
}

// --- when_all --------------------------------------------------------------------------------

task<std::tuple<int, std::monostate, int>> mixed_when_all(int& counter) {
    co_return co_await when_all(value_now(1), count_now(counter), value_after_sleep(1ms, 3));
}

TEST(WhenAll, VariadicReturnsValuesOfMixedVoidAndIntChildren) {
    int counter = 0;
    auto [a, b, c] = run(mixed_when_all(counter));
    EXPECT_EQ(a, 1);
    EXPECT_EQ(b, std::monostate{});
    EXPECT_EQ(c, 3);
    EXPECT_EQ(counter, 1);
}

task<std::tuple<int, int, int>> values_in_argument_order() {
    // Finishes in the order 3rd, 2nd, 1st; results are still in argument order.
    co_return co_await when_all(value_after_yields(20, 1), value_after_yields(10, 2),
                                value_after_yields(0, 3));
}

TEST(WhenAll, VariadicResultsAreInArgumentOrder) {
    EXPECT_EQ(run(values_in_argument_order()), std::make_tuple(1, 2, 3));
}

task<bool> wait_for_flag(const bool& flag) {
    for (int i = 0; i < 100000 && !flag; ++i) co_await yield_now{};
    co_return flag;
}

task<bool> raise_flag(bool& flag) {
    flag = true;
    co_return true;
}

task<std::tuple<bool, bool>> waiter_and_raiser(bool& flag) {
    co_return co_await when_all(wait_for_flag(flag), raise_flag(flag));
}

TEST(WhenAll, ChildrenRunConcurrently) {
    // The first child can only finish with `true` if the second runs while it is suspended.
    bool flag = false;
    auto [saw, raised] = run(waiter_and_raiser(flag));
    EXPECT_TRUE(saw);
    EXPECT_TRUE(raised);
}

task<std::vector<int>> vector_when_all(int n) {
    std::vector<task<int>> children;
    for (int i = 0; i < n; ++i) children.push_back(value_after_yields(n - i, i * i));
    co_return co_await when_all(std::move(children));
}

TEST(WhenAll, VectorReturnsValuesInOrder) {
    constexpr int n = 100;
    std::vector<int> values = run(vector_when_all(n));
    ASSERT_EQ(values.size(), static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) EXPECT_EQ(values[static_cast<std::size_t>(i)], i * i);
}

task<> vector_void_when_all(int& counter, int n) {
    std::vector<task<>> children;
    for (int i = 0; i < n; ++i) children.push_back(count_now(counter));
    co_await when_all(std::move(children));
}

TEST(WhenAll, VectorOfVoidTasksRunsEveryChild) {
    int counter = 0;
    run(vector_void_when_all(counter, 50));
    EXPECT_EQ(counter, 50);
}

task<std::size_t> empty_vector_when_all() {
    std::vector<int> v = co_await when_all(std::vector<task<int>>{});
    co_return v.size();
}

TEST(WhenAll, EmptyVectorCompletesImmediately) { EXPECT_EQ(run(empty_vector_when_all()), 0u); }

task<int> finish_late(int& finished) {
    for (int i = 0; i < 50; ++i) co_await yield_now{};
    ++finished;
    co_return 1;
}

task<std::string> when_all_with_a_thrower(int& finished) {
    try {
        (void)co_await when_all(finish_late(finished), throw_after_yields(0, "boom"),
                                finish_late(finished));
    } catch (const std::runtime_error& e) {
        co_return e.what();
    }
    co_return "no exception";
}

TEST(WhenAll, ExceptionFromOneChildIsRethrownAfterAllFinish) {
    int finished = 0;
    EXPECT_EQ(run(when_all_with_a_thrower(finished)), "boom");
    EXPECT_EQ(finished, 2);  // the siblings were not abandoned
}

task<std::string> when_all_with_two_throwers() {
    try {
        // "second" throws first in time; the first in argument order wins.
        (void)co_await when_all(throw_after_yields(20, "first"), throw_after_yields(0, "second"));
    } catch (const std::runtime_error& e) {
        co_return e.what();
    }
    co_return "no exception";
}

TEST(WhenAll, FirstExceptionInArgumentOrderIsRethrown) {
    EXPECT_EQ(run(when_all_with_two_throwers()), "first");
}

task<std::string> vector_when_all_with_a_thrower(int& finished) {
    std::vector<task<int>> children;
    children.push_back(finish_late(finished));
    children.push_back(throw_after_yields(1, "vector boom"));
    children.push_back(finish_late(finished));
    try {
        (void)co_await when_all(std::move(children));
    } catch (const std::runtime_error& e) {
        co_return e.what();
    }
    co_return "no exception";
}

TEST(WhenAll, VectorRethrowsAfterAllFinish) {
    int finished = 0;
    EXPECT_EQ(run(vector_when_all_with_a_thrower(finished)), "vector boom");
    EXPECT_EQ(finished, 2);
}

task<std::stop_token> token_of_child() { co_return co_await opensocket::get_stop_token(); }

task<bool> children_inherit_token(std::stop_token expected) {
    auto [a, b] = co_await when_all(token_of_child(), token_of_child());
    co_return a == expected&& b == expected;
}

TEST(WhenAll, ChildrenInheritTheAwaitersStopToken) {
    std::stop_source src;
    EXPECT_TRUE(run(children_inherit_token(src.get_token()).with_stop_token(src.get_token())));
}

// --- when_any --------------------------------------------------------------------------------

struct any_outcome {
    std::size_t index = 99;
    int value = 0;
    int finished = 0;
    result<void> loser_a;
    result<void> loser_b;
};

task<> first_to_finish_wins(any_outcome& out) {
    auto v = co_await when_any(record_sleep(10s, out.loser_a, out.finished, 1), value_now(2),
                               record_sleep(10s, out.loser_b, out.finished, 3));
    out.index = v.index();
    out.value = std::get<1>(v);
}

TEST(WhenAny, FirstToFinishWins) {
    any_outcome out;
    run(first_to_finish_wins(out));
    EXPECT_EQ(out.index, 1u);
    EXPECT_EQ(out.value, 2);
}

TEST(WhenAny, LosersObserveCancellation) {
    any_outcome out;
    run(first_to_finish_wins(out));
    ASSERT_FALSE(out.loser_a);
    ASSERT_FALSE(out.loser_b);
    EXPECT_EQ(out.loser_a.error(), std::errc::operation_canceled);
    EXPECT_EQ(out.loser_b.error(), std::errc::operation_canceled);
}

TEST(WhenAny, ReturnsOnlyAfterEveryChildFinished) {
    any_outcome out;
    run(first_to_finish_wins(out));
    EXPECT_EQ(out.finished, 2);
}

task<> shorter_sleep_wins(any_outcome& out) {
    auto v = co_await when_any(record_sleep(10s, out.loser_a, out.finished, 1),
                               value_after_sleep(1ms, 2));
    out.index = v.index();
    out.value = v.index() == 1 ? std::get<1>(v) : -1;
}

TEST(WhenAny, ShorterSleepWinsAndLongerIsCancelled) {
    any_outcome out;
    run(shorter_sleep_wins(out));
    EXPECT_EQ(out.index, 1u);
    EXPECT_EQ(out.value, 2);
    EXPECT_EQ(out.finished, 1);
    ASSERT_FALSE(out.loser_a);
    EXPECT_EQ(out.loser_a.error(), std::errc::operation_canceled);
}

task<> vector_when_any(any_outcome& out) {
    std::vector<task<int>> children;
    children.push_back(record_sleep(10s, out.loser_a, out.finished, 10));
    children.push_back(record_sleep(10s, out.loser_b, out.finished, 20));
    children.push_back(value_after_yields(3, 30));
    auto r = co_await when_any(std::move(children));
    out.index = r.index;
    out.value = r.value;
}

TEST(WhenAny, VectorFirstToFinishWinsAndLosersAreCancelled) {
    any_outcome out;
    run(vector_when_any(out));
    EXPECT_EQ(out.index, 2u);
    EXPECT_EQ(out.value, 30);
    EXPECT_EQ(out.finished, 2);
    EXPECT_EQ(out.loser_a.error(), std::errc::operation_canceled);
    EXPECT_EQ(out.loser_b.error(), std::errc::operation_canceled);
}

task<std::string> winner_throws(any_outcome& out) {
    try {
        (void)co_await when_any(record_sleep(10s, out.loser_a, out.finished, 1),
                                throw_after_yields(0, "winner failed"));
    } catch (const std::runtime_error& e) {
        co_return e.what();
    }
    co_return "no exception";
}

TEST(WhenAny, WinnersExceptionIsRethrownAfterLosersFinish) {
    any_outcome out;
    EXPECT_EQ(run(winner_throws(out)), "winner failed");
    EXPECT_EQ(out.finished, 1);
    EXPECT_EQ(out.loser_a.error(), std::errc::operation_canceled);
}

task<std::size_t> any_of_two_sleepers(any_outcome& out) {
    auto v = co_await when_any(record_sleep(10s, out.loser_a, out.finished, 1),
                               record_sleep(10s, out.loser_b, out.finished, 2));
    co_return v.index();
}

task<> cancel_when_any_from_outside(any_outcome& out) {
    std::stop_source src;
    (void)co_await when_all(any_of_two_sleepers(out).with_stop_token(src.get_token()),
                            [](std::stop_source& s) -> task<> {
                                co_await yield_now{};
                                s.request_stop();
                            }(src));
}

TEST(WhenAny, AwaitersCancellationCancelsEveryChild) {
    any_outcome out;
    run(cancel_when_any_from_outside(out));
    EXPECT_EQ(out.finished, 2);
    EXPECT_EQ(out.loser_a.error(), std::errc::operation_canceled);
    EXPECT_EQ(out.loser_b.error(), std::errc::operation_canceled);
}

task<int> many_when_any_rounds(int rounds) {
    int wins = 0;
    for (int i = 0; i < rounds; ++i) {
        any_outcome out;
        auto v = co_await when_any(record_sleep(10s, out.loser_a, out.finished, 1), value_now(2));
        std::vector<task<int>> children;
        children.push_back(record_sleep(10s, out.loser_b, out.finished, 3));
        children.push_back(value_now(4));
        auto r = co_await when_any(std::move(children));
        if (v.index() == 1 && r.index == 1 && out.finished == 2) ++wins;
    }
    co_return wins;
}

TEST(WhenAny, ManyRoundsInARowAllComplete) {
    // Each round builds and tears down the combinator's shared state; a lifetime bug in it
    // shows up as heap corruption within a few rounds.
    EXPECT_EQ(run(many_when_any_rounds(1000)), 1000);
}

// --- sleep -----------------------------------------------------------------------------------

struct wake {
    int id;
    clock::time_point deadline;  // requested deadline (a lower bound of the timer's)
    clock::time_point woke;
    bool ok;
};

task<> sleeper(int id, clock::duration d, std::vector<wake>& log) {
    clock::time_point deadline = clock::now() + d;
    auto r = co_await sleep_for(d);
    log.push_back({id, deadline, clock::now(), static_cast<bool>(r)});
}

task<> several_sleepers(std::vector<wake>& log) {
    // Started longest first, so wake order differs from start order.
    co_await when_all(sleeper(0, 40ms, log), sleeper(1, 30ms, log), sleeper(2, 20ms, log),
                      sleeper(3, 10ms, log), sleeper(4, 0ms, log));
}

TEST(Sleep, SleepersWakeInDeadlineOrder) {
    std::vector<wake> log;
    run(several_sleepers(log));
    ASSERT_EQ(log.size(), 5u);
    EXPECT_TRUE(std::is_sorted(log.begin(), log.end(), [](const wake& a, const wake& b) {
        return a.deadline < b.deadline;
    }));
    for (const auto& w : log) EXPECT_TRUE(w.ok) << w.id;
}

TEST(Sleep, SleepForNeverWakesBeforeItsDeadline) {
    std::vector<wake> log;
    run(several_sleepers(log));
    for (const auto& w : log) EXPECT_GE(w.woke, w.deadline) << w.id;
}

task<result<void>> sleep_result(clock::duration d) { co_return co_await sleep_for(d); }

TEST(Sleep, ZeroSleepSucceeds) { EXPECT_TRUE(run(sleep_result(0ms))); }

TEST(Sleep, SleepUntilAPastDeadlineSucceeds) {
    auto r = run([](clock::time_point t) -> task<result<void>> {
        co_return co_await sleep_until(t);
    }(clock::now() - 1s));
    EXPECT_TRUE(r);
}

TEST(Sleep, StopRequestedBeforeSleepReturnsOperationCanceled) {
    std::stop_source src;
    src.request_stop();
    auto r = run(sleep_result(10s).with_stop_token(src.get_token()));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::operation_canceled);
}

task<result<void>> sleep_and_flag(clock::duration d, int& sleeping) {
    ++sleeping;  // nothing else runs between this and the suspension below
    co_return co_await sleep_for(d);
}

task<result<void>> cancel_a_sleep_in_progress() {
    std::stop_source src;
    int sleeping = 0;
    auto [r, unused] =
        co_await when_all(sleep_and_flag(10s, sleeping).with_stop_token(src.get_token()),
                          stop_when(src, sleeping, 1));
    co_return r;
}

TEST(Sleep, StopRequestedDuringSleepReturnsOperationCanceled) {
    auto r = run(cancel_a_sleep_in_progress());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::operation_canceled);
}

task<result<void>> sleep_announced(clock::duration d, std::atomic<bool>& sleeping) {
    sleeping.store(true);
    sleeping.notify_one();
    co_return co_await sleep_for(d);
}

TEST(Sleep, StopRequestedFromAnotherThreadCancelsTheSleep) {
    std::stop_source src;
    std::atomic<bool> sleeping{false};
    std::thread stopper([&] {
        sleeping.wait(false);
        src.request_stop();
    });
    auto r = run(sleep_announced(10s, sleeping).with_stop_token(src.get_token()));
    stopper.join();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::operation_canceled);
}

task<result<void>> sleep_task(clock::duration d) { co_return co_await sleep_for(d); }

// --- with_timeout ----------------------------------------------------------------------------

TEST(WithTimeout, TaskThatOverrunsReturnsTimedOut) {
    auto r = run(with_timeout(sleep_task(10s), 10ms));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::timed_out);
}

TEST(WithTimeout, TaskThatFinishesInTimeReturnsSuccess) {
    auto r = run(with_timeout(sleep_task(1ms), 10s));
    EXPECT_TRUE(r) << r.error().message();
}

TEST(WithTimeout, AwaitableThatOverrunsReturnsTimedOut) {
    auto r = run(with_timeout(sleep_for(10s), 10ms));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::timed_out);
}

TEST(WithTimeout, AwaitableThatFinishesInTimeReturnsSuccess) {
    auto r = run(with_timeout(sleep_for(1ms), 10s));
    EXPECT_TRUE(r) << r.error().message();
}

task<result<int>> value_result_after(clock::duration d, int v) {
    auto r = co_await sleep_for(d);
    if (!r) co_return opensocket::fail(r.error());
    co_return v;
}

TEST(WithTimeout, PassesTheValueThrough) {
    auto r = run(with_timeout(value_result_after(0ms, 7), 10s));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(*r, 7);
}

TEST(WithTimeout, ValueTaskThatOverrunsReturnsTimedOut) {
    auto r = run(with_timeout(value_result_after(10s, 7), 1ms));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::timed_out);
}

task<result<void>> timeout_under_cancellation() {
    std::stop_source src;
    int sleeping = 0;
    auto [r, unused] = co_await when_all(
        with_timeout(sleep_and_flag(10s, sleeping), 10s).with_stop_token(src.get_token()),
        stop_when(src, sleeping, 1));
    co_return r;
}

TEST(WithTimeout, CallersCancellationStaysOperationCanceled) {
    auto r = run(timeout_under_cancellation());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::operation_canceled);
}

// --- task_scope ------------------------------------------------------------------------------

task<> add_after_yields(std::atomic<int>& counter, int yields) {
    for (int i = 0; i < yields; ++i) co_await yield_now{};
    counter.fetch_add(1);
}

task<int> spawn_and_join(int n) {
    task_scope scope;
    std::atomic<int> counter{0};
    for (int i = 0; i < n; ++i) scope.spawn(add_after_yields(counter, i % 7));
    co_await scope.join();
    EXPECT_EQ(scope.active(), 0u);
    co_return counter.load();
}

TEST(TaskScope, JoinWaitsForEverySpawnedTask) { EXPECT_EQ(run(spawn_and_join(100)), 100); }

task<bool> join_empty_scope() {
    task_scope scope;
    co_await scope.join();
    co_return scope.active() == 0;
}

TEST(TaskScope, JoinOfAnEmptyScopeCompletes) { EXPECT_TRUE(run(join_empty_scope())); }

task<bool> spawned_task_is_active_until_it_runs() {
    task_scope scope;
    std::atomic<int> counter{0};
    scope.spawn(add_after_yields(counter, 0));
    bool active_before = scope.active() == 1 && counter.load() == 0;
    co_await scope.join();
    co_return active_before&& counter.load() == 1;
}

TEST(TaskScope, SpawnedTaskStartsLaterAndIsCountedActive) {
    EXPECT_TRUE(run(spawned_task_is_active_until_it_runs()));
}

task<> throw_in_scope(int yields, std::string what) {
    for (int i = 0; i < yields; ++i) co_await yield_now{};
    throw_runtime_error(what);
}

task<std::string> join_with_exceptions(std::atomic<int>& counter) {
    task_scope scope;
    scope.spawn(add_after_yields(counter, 5));
    scope.spawn(throw_in_scope(0, "first"));
    scope.spawn(throw_in_scope(3, "second"));
    scope.spawn(add_after_yields(counter, 10));
    try {
        co_await scope.join();
    } catch (const std::runtime_error& e) {
        co_return e.what();
    }
    co_return "no exception";
}

TEST(TaskScope, JoinRethrowsTheFirstException) {
    std::atomic<int> counter{0};
    EXPECT_EQ(run(join_with_exceptions(counter)), "first");
    EXPECT_EQ(counter.load(), 2);  // the other tasks still ran to completion
}

task<bool> scope_can_be_joined_twice() {
    task_scope scope;
    std::atomic<int> counter{0};
    scope.spawn(add_after_yields(counter, 1));
    co_await scope.join();
    scope.spawn(add_after_yields(counter, 1));
    scope.spawn(add_after_yields(counter, 2));
    co_await scope.join();
    co_return counter.load() == 3;
}

TEST(TaskScope, ScopeCanBeReusedAfterJoin) { EXPECT_TRUE(run(scope_can_be_joined_twice())); }

task<> sleep_in_scope(int& sleeping, std::vector<result<void>>& out, std::size_t i) {
    ++sleeping;
    out[i] = co_await sleep_for(10s);
}

task<> join_scope_of_sleepers(task_scope& scope, int& sleeping, std::vector<result<void>>& out) {
    for (std::size_t i = 0; i < out.size(); ++i) scope.spawn(sleep_in_scope(sleeping, out, i));
    co_await scope.join();
}

task<> cancel_the_joiner(std::vector<result<void>>& out) {
    task_scope scope;
    std::stop_source src;
    int sleeping = 0;
    co_await when_all(join_scope_of_sleepers(scope, sleeping, out).with_stop_token(src.get_token()),
                      stop_when(src, sleeping, static_cast<int>(out.size())));
    EXPECT_TRUE(scope.stop_token().stop_requested());
}

TEST(TaskScope, CancellingTheJoinerStopsTheScopesTasks) {
    std::vector<result<void>> out(10);
    run(cancel_the_joiner(out));
    for (std::size_t i = 0; i < out.size(); ++i) {
        ASSERT_FALSE(out[i]) << i;
        EXPECT_EQ(out[i].error(), std::errc::operation_canceled) << i;
    }
}

task<> request_stop_on_scope(std::vector<result<void>>& out) {
    task_scope scope;
    int sleeping = 0;
    for (std::size_t i = 0; i < out.size(); ++i) scope.spawn(sleep_in_scope(sleeping, out, i));
    while (sleeping < static_cast<int>(out.size())) co_await yield_now{};
    scope.request_stop();
    co_await scope.join();
}

TEST(TaskScope, RequestStopCancelsTheScopesTasks) {
    std::vector<result<void>> out(10);
    run(request_stop_on_scope(out));
    for (const auto& r : out) EXPECT_EQ(r.error(), std::errc::operation_canceled);
}

// Ten thousand timers in one scope. Insertions span many loop turns, and a timer whose deadline
// passed may fire before a later-started task inserts an earlier deadline; so the check is the
// executor's real guarantee: if j's deadline is before i's (or equal, with j inserted first)
// and j was inserted in a loop turn that started before i's deadline (so before i could
// fire), then j wakes before i.
struct timer_record {
    clock::time_point deadline;
    clock::time_point insert_turn;  // executor::now() of the turn that inserted the timer
    std::size_t insert_seq = 0;
    std::size_t wake_seq = 0;
    bool ok = false;
    bool woke_after_deadline = false;
};

struct timer_log {
    std::vector<timer_record> records;
    std::size_t inserted = 0;
    std::size_t woken = 0;
};

task<> timed_sleeper(timer_log& log, std::size_t i) {
    timer_record& rec = log.records[i];
    rec.insert_turn = executor::current()->now();
    rec.insert_seq = log.inserted++;
    auto r = co_await sleep_until(rec.deadline);
    rec.wake_seq = log.woken++;
    rec.ok = static_cast<bool>(r);
    rec.woke_after_deadline = clock::now() >= rec.deadline;
}

task<> many_timers_in_a_scope(timer_log& log) {
    task_scope scope;
    for (std::size_t i = 0; i < log.records.size(); ++i) scope.spawn(timed_sleeper(log, i));
    co_await scope.join();
}

TEST(TaskScope, TenThousandTimersWakeInDeadlineOrder) {
    constexpr std::size_t n = 10000;
    timer_log log;
    log.records.resize(n);
    std::mt19937 rng(42);
    std::uniform_int_distribution<int> us(0, 20'000);
    clock::time_point base = clock::now();
    for (auto& r : log.records) r.deadline = base + std::chrono::microseconds(us(rng));

    run(many_timers_in_a_scope(log));

    ASSERT_EQ(log.woken, n);
    std::vector<const timer_record*> by_wake(n);
    for (const auto& r : log.records) {
        EXPECT_TRUE(r.ok);
        EXPECT_TRUE(r.woke_after_deadline);
        by_wake[r.wake_seq] = &r;
    }
    std::size_t violations = 0;
    std::size_t checked = 0;
    for (std::size_t a = 0; a < n; ++a) {
        const timer_record& i = *by_wake[a];
        for (std::size_t b = a + 1; b < n; ++b) {  // j woke after i
            const timer_record& j = *by_wake[b];
            if (j.insert_turn >= i.deadline) continue;  // i may have fired before j existed
            ++checked;
            bool j_first = j.deadline < i.deadline ||
                           (j.deadline == i.deadline && j.insert_seq < i.insert_seq);
            if (j_first) ++violations;
        }
    }
    RecordProperty("checked_pairs", std::to_string(checked));
    EXPECT_EQ(violations, 0u);
    EXPECT_GT(checked, 0u);
}

}  // namespace
