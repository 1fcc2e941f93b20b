// task<T>: laziness, value and exception propagation, move-only results, deep and long chains
// of awaits, and stop-token inheritance.

#include <opensocket/sync_wait.hpp>
#include <opensocket/task.hpp>

#include "test_support.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <utility>

namespace {

using opensocket::get_stop_token;
using opensocket::task;
using opensocket::testing::run;

task<int> set_flag_and_return(bool& flag, int v) {
    flag = true;
    co_return v;
}

task<> set_flag(bool& flag) {
    flag = true;
    co_return;
}

task<int> value_of(int v) { co_return v; }

task<int> add_one(int v) { co_return co_await value_of(v) + 1; }

[[noreturn]] void throw_runtime_error(const char* what) { throw std::runtime_error(what); }

task<int> throws_int(const char* what) {
    throw_runtime_error(what);
    co_return 0;
}

task<> throws_void(const char* what) {
    throw_runtime_error(what);
    co_return;
}

TEST(Task, BodyDoesNotRunUntilAwaited) {
    bool ran = false;
    task<int> t = set_flag_and_return(ran, 1);
    EXPECT_FALSE(ran);
    EXPECT_TRUE(t.valid());
    EXPECT_EQ(run(std::move(t)), 1);
    EXPECT_TRUE(ran);
}

TEST(Task, DestroyingAnUnstartedTaskNeverRunsItsBody) {
    bool ran = false;
    { task<> t = set_flag(ran); }
    EXPECT_FALSE(ran);
}

task<bool> child_runs_only_at_co_await(bool& flag) {
    task<> child = set_flag(flag);
    bool before = flag;
    co_await std::move(child);
    co_return !before && flag;
}

TEST(Task, ChildCreatedInsideACoroutineStartsAtItsCoAwait) {
    bool flag = false;
    EXPECT_TRUE(run(child_runs_only_at_co_await(flag)));
}

TEST(Task, DefaultConstructedTaskIsNotValid) {
    task<int> t;
    EXPECT_FALSE(t.valid());
}

TEST(Task, MovedFromTaskIsNotValid) {
    task<int> a = value_of(1);
    task<int> b = std::move(a);
    EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): testing the moved-from state
    EXPECT_TRUE(b.valid());
    EXPECT_EQ(run(std::move(b)), 1);
}

TEST(Task, MoveAssignmentReleasesThePreviousFrame) {
    bool first_ran = false;
    task<int> t = set_flag_and_return(first_ran, 1);
    t = value_of(2);
    EXPECT_EQ(run(std::move(t)), 2);
    EXPECT_FALSE(first_ran);
}

TEST(Task, SyncWaitReturnsTheValue) { EXPECT_EQ(run(value_of(42)), 42); }

TEST(Task, SyncWaitRunsVoidTask) {
    bool ran = false;
    run(set_flag(ran));
    EXPECT_TRUE(ran);
}

TEST(Task, ValuePropagatesThroughCoAwait) { EXPECT_EQ(run(add_one(41)), 42); }

task<std::string> concat(std::string a, std::string b) { co_return a + b; }

task<std::string> greet() {
    std::string hello = co_await concat("hel", "lo");
    co_return co_await concat(hello, ", world");
}

TEST(Task, StringValuesPropagateThroughNestedAwaits) { EXPECT_EQ(run(greet()), "hello, world"); }

task<std::string> catch_child_exception() {
    try {
        (void)co_await throws_int("child failed");
    } catch (const std::runtime_error& e) {
        co_return e.what();
    }
    co_return "no exception";
}

TEST(Task, ExceptionPropagatesToTheAwaiter) {
    EXPECT_EQ(run(catch_child_exception()), "child failed");
}

task<std::string> catch_void_child_exception() {
    try {
        co_await throws_void("void child failed");
    } catch (const std::runtime_error& e) {
        co_return e.what();
    }
    co_return "no exception";
}

TEST(Task, ExceptionPropagatesFromVoidTask) {
    EXPECT_EQ(run(catch_void_child_exception()), "void child failed");
}

task<int> rethrow_through(int levels) {
    if (levels == 0) co_return co_await throws_int("deep");
    co_return co_await rethrow_through(levels - 1);
}

TEST(Task, ExceptionPropagatesThroughSeveralLevels) {
    try {
        (void)run(rethrow_through(10));
        FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "deep");
    }
}

TEST(Task, SyncWaitRethrowsTheTaskException) {
    EXPECT_THROW((void)run(throws_int("top")), std::runtime_error);
}

task<std::unique_ptr<int>> make_unique_value(int v) { co_return std::make_unique<int>(v); }

task<std::unique_ptr<int>> pass_unique_through() {
    std::unique_ptr<int> p = co_await make_unique_value(5);
    *p += 1;
    co_return p;
}

TEST(Task, MoveOnlyValuePropagatesThroughCoAwait) {
    std::unique_ptr<int> p = run(pass_unique_through());
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(*p, 6);
}

task<int> take_move_only_parameter(std::unique_ptr<int> p) { co_return *p * 2; }

TEST(Task, MoveOnlyParameterIsKeptInTheFrame) {
    EXPECT_EQ(run(take_move_only_parameter(std::make_unique<int>(21))), 42);
}

task<int> depth(int n) {
    if (n == 0) co_return 0;
    co_return 1 + co_await depth(n - 1);
}

TEST(Task, MillionNestedAwaitsComplete) {
    // Every level suspends into its child and is resumed by it: a chain of one million frames
    // that must not use one machine stack frame per level.
    EXPECT_EQ(run(depth(1'000'000)), 1'000'000);
}

task<long> sum_of_ready_children(int n) {
    long sum = 0;
    for (int i = 0; i < n; ++i) sum += co_await value_of(1);
    co_return sum;
}

TEST(Task, MillionSequentialAwaitsOfReadyChildrenComplete) {
    EXPECT_EQ(run(sum_of_ready_children(1'000'000)), 1'000'000);
}

task<> ready_void() { co_return; }

task<int> count_void_awaits(int n) {
    int count = 0;
    for (int i = 0; i < n; ++i) {
        co_await ready_void();
        ++count;
    }
    co_return count;
}

TEST(Task, MillionSequentialAwaitsOfVoidChildrenComplete) {
    EXPECT_EQ(run(count_void_awaits(1'000'000)), 1'000'000);
}

// --- stop tokens -----------------------------------------------------------------------------

task<std::stop_token> own_token() { co_return co_await get_stop_token(); }

task<std::stop_token> child_token() { co_return co_await own_token(); }

TEST(TaskStopToken, RootTaskWithoutTokenCannotBeStopped) {
    std::stop_token t = run(own_token());
    EXPECT_FALSE(t.stop_possible());
}

TEST(TaskStopToken, WithStopTokenBindsTheTask) {
    std::stop_source src;
    std::stop_token t = run(own_token().with_stop_token(src.get_token()));
    EXPECT_TRUE(t == src.get_token());
}

TEST(TaskStopToken, ChildInheritsTheAwaitersToken) {
    std::stop_source src;
    std::stop_token t = run(child_token().with_stop_token(src.get_token()));
    EXPECT_TRUE(t == src.get_token());
}

task<std::stop_token> child_with_own_token(std::stop_token override_token) {
    co_return co_await own_token().with_stop_token(std::move(override_token));
}

TEST(TaskStopToken, WithStopTokenOverridesTheInheritedToken) {
    std::stop_source outer;
    std::stop_source inner;
    std::stop_token t =
        run(child_with_own_token(inner.get_token()).with_stop_token(outer.get_token()));
    EXPECT_TRUE(t == inner.get_token());
    EXPECT_FALSE(t == outer.get_token());
}

task<std::stop_token> grandchild_under_override(std::stop_token override_token) {
    co_return co_await child_token().with_stop_token(std::move(override_token));
}

TEST(TaskStopToken, OverriddenTokenIsInheritedFurtherDown) {
    std::stop_source outer;
    std::stop_source inner;
    std::stop_token t =
        run(grandchild_under_override(inner.get_token()).with_stop_token(outer.get_token()));
    EXPECT_TRUE(t == inner.get_token());
}

task<bool> sees_stop_requested() {
    std::stop_token t = co_await get_stop_token();
    co_return t.stop_requested();
}

TEST(TaskStopToken, TokenReportsAStopRequestedBeforeTheStart) {
    std::stop_source src;
    src.request_stop();
    EXPECT_TRUE(run(sees_stop_requested().with_stop_token(src.get_token())));
}

task<bool> sees_stop_after_request(std::stop_source& src) {
    std::stop_token before = co_await get_stop_token();
    bool was_requested = before.stop_requested();
    src.request_stop();
    std::stop_token after = co_await get_stop_token();
    co_return !was_requested && after.stop_requested();
}

TEST(TaskStopToken, TokenObservesARequestMadeWhileRunning) {
    std::stop_source src;
    EXPECT_TRUE(run(sees_stop_after_request(src).with_stop_token(src.get_token())));
}

}  // namespace
