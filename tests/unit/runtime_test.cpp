// runtime and executor: per-executor threads, spawning from outside, hopping between
// executors, stopping root tasks, and blocking bridges.

#include <opensocket/executor.hpp>
#include <opensocket/runtime.hpp>
#include <opensocket/sleep.hpp>
#include <opensocket/spawn.hpp>
#include <opensocket/task.hpp>

#include "test_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
using opensocket::executor;
using opensocket::result;
using opensocket::resume_on;
using opensocket::runtime;
using opensocket::runtime_options;
using opensocket::sleep_for;
using opensocket::task;

runtime_options two_threads() {
    runtime_options opts;
    opts.threads = 2;
    return opts;
}

struct placement {
    std::mutex mu;
    std::vector<unsigned> indices;
    std::set<std::thread::id> threads;
};

task<> record_placement(executor& ex, placement& p) {
    executor* cur = executor::current();
    EXPECT_EQ(cur, &ex);
    std::lock_guard lock(p.mu);
    p.indices.push_back(cur != nullptr ? cur->index() : 999u);
    p.threads.insert(std::this_thread::get_id());
    co_return;
}

TEST(Runtime, HasTheRequestedNumberOfExecutors) {
    runtime rt(two_threads());
    ASSERT_EQ(rt.size(), 2u);
    EXPECT_EQ(rt.at(0).index(), 0u);
    EXPECT_EQ(rt.at(1).index(), 1u);
    EXPECT_FALSE(rt.engine_name().empty());
}

TEST(Runtime, RunOnEachExecutorRunsOnEveryExecutor) {
    runtime rt(two_threads());
    placement p;
    rt.run_on_each_executor([&p](executor& ex) { return record_placement(ex, p); });
    std::multiset<unsigned> seen(p.indices.begin(), p.indices.end());
    EXPECT_EQ(seen, (std::multiset<unsigned>{0u, 1u}));
}

TEST(Runtime, ExecutorsRunOnDistinctThreadsOtherThanTheCaller) {
    runtime rt(two_threads());
    placement p;
    rt.run_on_each_executor([&p](executor& ex) { return record_placement(ex, p); });
    EXPECT_EQ(p.threads.size(), 2u);
    EXPECT_EQ(p.threads.count(std::this_thread::get_id()), 0u);
}

task<> throw_on_executor(executor& ex) {
    if (ex.index() == 1) throw std::runtime_error("executor 1 failed");
    co_return;
}

TEST(Runtime, RunOnEachExecutorRethrowsAnException) {
    runtime rt(two_threads());
    EXPECT_THROW(rt.run_on_each_executor([](executor& ex) { return throw_on_executor(ex); }),
                 std::runtime_error);
}

TEST(Runtime, NoExecutorOnTheCallingThread) {
    runtime rt(two_threads());
    EXPECT_EQ(executor::current(), nullptr);
}

task<> mark_and_count_down(placement& p, std::latch& done) {
    {
        std::lock_guard lock(p.mu);
        p.indices.push_back(executor::current()->index());
        p.threads.insert(std::this_thread::get_id());
    }
    done.count_down();
    co_return;
}

TEST(Runtime, SpawnOnFromTheMainThreadRunsOnThatExecutor) {
    runtime rt(two_threads());
    placement p;
    std::latch done(1);
    rt.spawn_on(1, mark_and_count_down(p, done));
    done.wait();
    std::lock_guard lock(p.mu);
    ASSERT_EQ(p.indices.size(), 1u);
    EXPECT_EQ(p.indices[0], 1u);
    EXPECT_EQ(p.threads.count(std::this_thread::get_id()), 0u);
}

TEST(Runtime, FreeSpawnOnFromTheMainThreadRunsOnThatExecutor) {
    runtime rt(two_threads());
    placement p;
    std::latch done(2);
    opensocket::spawn_on(rt.at(0), mark_and_count_down(p, done));
    opensocket::spawn_on(rt.at(1), mark_and_count_down(p, done));
    done.wait();
    std::lock_guard lock(p.mu);
    std::multiset<unsigned> seen(p.indices.begin(), p.indices.end());
    EXPECT_EQ(seen, (std::multiset<unsigned>{0u, 1u}));
}

struct hop_record {
    std::thread::id before;
    std::thread::id after;
    std::thread::id back;
    unsigned index_before = 99;
    unsigned index_after = 99;
    unsigned index_back = 99;
};

task<hop_record> hop_there_and_back(executor& there, executor& home) {
    hop_record r;
    r.before = std::this_thread::get_id();
    r.index_before = executor::current()->index();
    co_await resume_on(there);
    r.after = std::this_thread::get_id();
    r.index_after = executor::current()->index();
    co_await resume_on(home);
    r.back = std::this_thread::get_id();
    r.index_back = executor::current()->index();
    co_return r;
}

TEST(Runtime, ResumeOnHopsToTheTargetExecutorsThread) {
    runtime rt(two_threads());
    hop_record r = rt.block_on(hop_there_and_back(rt.at(1), rt.at(0)), 0);
    EXPECT_EQ(r.index_before, 0u);
    EXPECT_EQ(r.index_after, 1u);
    EXPECT_NE(r.before, r.after);
}

TEST(Runtime, ResumeOnCanHopBack) {
    runtime rt(two_threads());
    hop_record r = rt.block_on(hop_there_and_back(rt.at(1), rt.at(0)), 0);
    EXPECT_EQ(r.index_back, 0u);
    EXPECT_EQ(r.back, r.before);
}

TEST(Runtime, ResumeOnTheCurrentExecutorStaysOnItsThread) {
    runtime rt(two_threads());
    hop_record r = rt.block_on(hop_there_and_back(rt.at(0), rt.at(0)), 0);
    EXPECT_EQ(r.index_after, 0u);
    EXPECT_EQ(r.before, r.after);
}

task<int> many_hops(executor& a, executor& b, int n) {
    int hops = 0;
    for (int i = 0; i < n; ++i) {
        co_await resume_on(i % 2 == 0 ? b : a);
        if (executor::current() == (i % 2 == 0 ? &b : &a)) ++hops;
    }
    co_return hops;
}

TEST(Runtime, ManyHopsEachLandOnTheTarget) {
    runtime rt(two_threads());
    EXPECT_EQ(rt.block_on(many_hops(rt.at(0), rt.at(1), 1000), 0), 1000);
}

task<> sleep_an_hour(std::latch& sleeping, result<void>& out, std::atomic<bool>& finished) {
    sleeping.count_down();
    out = co_await sleep_for(1h);
    finished.store(true);
}

TEST(Runtime, StopCancelsARootTaskBlockedInSleepAndJoinReturns) {
    runtime rt(two_threads());
    std::latch sleeping(1);
    result<void> out;
    std::atomic<bool> finished{false};
    rt.spawn_on(0, sleep_an_hour(sleeping, out, finished));
    sleeping.wait();
    rt.stop();
    rt.join();
    EXPECT_TRUE(finished.load());
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error(), std::errc::operation_canceled);
}

TEST(Runtime, StopCancelsRootTasksOnEveryExecutor) {
    runtime rt(two_threads());
    std::latch sleeping(2);
    result<void> out0;
    result<void> out1;
    std::atomic<bool> finished0{false};
    std::atomic<bool> finished1{false};
    rt.spawn_on(0, sleep_an_hour(sleeping, out0, finished0));
    rt.spawn_on(1, sleep_an_hour(sleeping, out1, finished1));
    sleeping.wait();
    rt.stop();
    rt.join();
    EXPECT_TRUE(finished0.load());
    EXPECT_TRUE(finished1.load());
    EXPECT_EQ(out0.error(), std::errc::operation_canceled);
    EXPECT_EQ(out1.error(), std::errc::operation_canceled);
}

TEST(Runtime, StopWithNoTasksLetsJoinReturn) {
    runtime rt(two_threads());
    rt.stop();
    rt.join();
    SUCCEED();
}

TEST(Runtime, StopIsIdempotent) {
    runtime rt(two_threads());
    rt.stop();
    rt.stop();
    rt.join();
    rt.join();
    SUCCEED();
}

task<int> answer() { co_return 42; }

TEST(Runtime, BlockOnReturnsTheValue) {
    runtime rt(two_threads());
    EXPECT_EQ(rt.block_on(answer()), 42);
    EXPECT_EQ(rt.block_on(answer(), 1), 42);
}

task<unsigned> executor_index() { co_return executor::current()->index(); }

TEST(Runtime, BlockOnRunsOnTheRequestedExecutor) {
    runtime rt(two_threads());
    EXPECT_EQ(rt.block_on(executor_index(), 0), 0u);
    EXPECT_EQ(rt.block_on(executor_index(), 1), 1u);
}

task<std::unique_ptr<int>> unique_answer() { co_return std::make_unique<int>(7); }

TEST(Runtime, BlockOnReturnsAMoveOnlyValue) {
    runtime rt(two_threads());
    std::unique_ptr<int> p = rt.block_on(unique_answer());
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(*p, 7);
}

task<int> fail_on_executor() {
    throw std::runtime_error("block_on failure");
    co_return 0;
}

TEST(Runtime, BlockOnRethrowsTheTaskException) {
    runtime rt(two_threads());
    EXPECT_THROW((void)rt.block_on(fail_on_executor()), std::runtime_error);
}

task<bool> sees_the_executor_stop_token(executor& ex) {
    std::stop_token t = co_await opensocket::get_stop_token();
    co_return t == ex.stop_token();
}

TEST(Runtime, BlockOnTaskObservesTheExecutorStopToken) {
    runtime rt(two_threads());
    EXPECT_TRUE(rt.block_on(sees_the_executor_stop_token(rt.at(0)), 0));
}

TEST(Runtime, SyncWaitOnAnExecutorThreadIsRejected) {
    runtime rt(two_threads());
    bool rejected = rt.block_on([]() -> task<bool> {
        try {
            opensocket::sync_wait(answer());
        } catch (const std::logic_error&) {
            co_return true;
        }
        co_return false;
    }());
    EXPECT_TRUE(rejected);
}

task<> spawn_from_executor(std::latch& done, std::atomic<unsigned>& where) {
    opensocket::spawn([](std::latch& d, std::atomic<unsigned>& w) -> task<> {
        w.store(executor::current()->index());
        d.count_down();
        co_return;
    }(done, where));
    co_return;
}

TEST(Runtime, SpawnInsideAnExecutorRunsOnTheSameExecutor) {
    runtime rt(two_threads());
    std::latch done(1);
    std::atomic<unsigned> where{99};
    rt.spawn_on(1, spawn_from_executor(done, where));
    done.wait();
    EXPECT_EQ(where.load(), 1u);
}

task<> nothing() { co_return; }

TEST(Runtime, SpawnOutsideAnExecutorThrows) {
    EXPECT_THROW(opensocket::spawn(nothing()), std::logic_error);
}

}  // namespace
