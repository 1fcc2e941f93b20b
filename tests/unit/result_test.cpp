// result<T> and result<void>: value and error access, the throwing accessor, value_or,
// move-only payloads and comparison of errors against std::errc.

#include <opensocket/error.hpp>
#include <opensocket/result.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <system_error>

namespace {

using opensocket::bad_result_access;
using opensocket::fail;
using opensocket::result;

TEST(Result, HoldsValueWhenConstructedFromValue) {
    result<int> r = 42;
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(*r, 42);
    EXPECT_EQ(r.value(), 42);
}

TEST(Result, HoldsErrorWhenConstructedFromFail) {
    result<int> r = fail(std::errc::connection_refused);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), std::make_error_code(std::errc::connection_refused));
}

TEST(Result, OperatorBoolIsTrueForValueAndFalseForError) {
    result<int> ok = 1;
    result<int> bad = fail(std::errc::invalid_argument);
    EXPECT_TRUE(static_cast<bool>(ok));
    EXPECT_FALSE(static_cast<bool>(bad));
}

TEST(Result, ValueThrowsBadResultAccessCarryingTheError) {
    result<int> r = fail(std::errc::timed_out);
    try {
        (void)r.value();
        FAIL() << "value() on an error did not throw";
    } catch (const bad_result_access& e) {
        EXPECT_EQ(e.code(), std::errc::timed_out);
    }
}

TEST(Result, BadResultAccessIsASystemError) {
    const result<std::string> r = fail(std::errc::timed_out);
    EXPECT_THROW((void)r.value(), std::system_error);
}

TEST(Result, ValueOrReturnsValueWhenPresent) {
    result<int> r = 7;
    EXPECT_EQ(r.value_or(-1), 7);
}

TEST(Result, ValueOrReturnsFallbackOnError) {
    result<int> r = fail(std::errc::timed_out);
    EXPECT_EQ(r.value_or(-1), -1);
}

TEST(Result, ValueOrConvertsTheFallback) {
    result<std::string> r = fail(std::errc::timed_out);
    EXPECT_EQ(r.value_or("fallback"), "fallback");
}

TEST(Result, ArrowAccessesMembers) {
    result<std::string> r = std::string("hello");
    EXPECT_EQ(r->size(), 5u);
}

TEST(Result, HoldsMoveOnlyValue) {
    result<std::unique_ptr<int>> r = std::make_unique<int>(5);
    ASSERT_TRUE(r);
    ASSERT_NE(*r, nullptr);
    EXPECT_EQ(**r, 5);
}

TEST(Result, MoveOnlyValueCanBeMovedOut) {
    result<std::unique_ptr<int>> r = std::make_unique<int>(9);
    std::unique_ptr<int> p = std::move(r).value();
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(*p, 9);
}

TEST(Result, MoveOnlyResultIsMovable) {
    result<std::unique_ptr<int>> a = std::make_unique<int>(3);
    result<std::unique_ptr<int>> b = std::move(a);
    ASSERT_TRUE(b);
    EXPECT_EQ(**b, 3);
}

TEST(Result, MoveOnlyValueThrowsOnErrorAccess) {
    result<std::unique_ptr<int>> r = fail(std::errc::not_enough_memory);
    EXPECT_THROW((void)std::move(r).value(), bad_result_access);
}

TEST(Result, DefaultConstructedHoldsDefaultValue) {
    result<int> r;
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, 0);
}

TEST(Result, FailWithErrcComparesEqualToErrc) {
    result<int> r = fail(std::errc::operation_canceled);
    EXPECT_TRUE(r.error() == std::errc::operation_canceled);
    EXPECT_FALSE(r.error() == std::errc::timed_out);
}

TEST(Result, FailWithErrcUsesTheGenericCategory) {
    result<int> r = fail(std::errc::timed_out);
    EXPECT_EQ(&r.error().category(), &std::generic_category());
}

TEST(Result, FailWithLibraryErrorKeepsItsCode) {
    result<int> r = fail(opensocket::error::invalid_port);
    EXPECT_EQ(r.error(), opensocket::error::invalid_port);
}

TEST(ResultVoid, DefaultIsSuccess) {
    result<void> r;
    EXPECT_TRUE(r.has_value());
    EXPECT_TRUE(static_cast<bool>(r));
    EXPECT_FALSE(r.error());
    EXPECT_NO_THROW(r.value());
}

TEST(ResultVoid, FailHoldsTheError) {
    result<void> r = fail(std::errc::broken_pipe);
    EXPECT_FALSE(r.has_value());
    EXPECT_FALSE(static_cast<bool>(r));
    EXPECT_EQ(r.error(), std::errc::broken_pipe);
}

TEST(ResultVoid, ValueThrowsBadResultAccessOnError) {
    result<void> r = fail(std::errc::broken_pipe);
    try {
        r.value();
        FAIL() << "value() on an error did not throw";
    } catch (const bad_result_access& e) {
        EXPECT_EQ(e.code(), std::errc::broken_pipe);
    }
}

TEST(ResultVoid, FailWithErrcComparesEqualToErrc) {
    result<void> r = fail(std::errc::timed_out);
    EXPECT_TRUE(r.error() == std::errc::timed_out);
    EXPECT_FALSE(r.error() == std::errc::operation_canceled);
}

}  // namespace
