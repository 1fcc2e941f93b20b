// The "opensocket" error category: name, messages, comparison.

#include <opensocket/error.hpp>

#include <gtest/gtest.h>

#include <string>
#include <system_error>

namespace {

using opensocket::error;

constexpr error all_errors[] = {error::invalid_address, error::invalid_port,
                                error::unexpected_eof,  error::engine_unavailable,
                                error::not_on_executor, error::descriptor_too_large};

TEST(Error, CategoryIsNamedOpensocket) {
    EXPECT_STREQ(opensocket::error_category().name(), "opensocket");
}

TEST(Error, EveryCodeIsInTheOpensocketCategory) {
    for (error e : all_errors) {
        std::error_code ec = e;  // implicit through is_error_code_enum
        EXPECT_STREQ(ec.category().name(), "opensocket") << static_cast<int>(e);
        EXPECT_EQ(&ec.category(), &opensocket::error_category());
    }
}

TEST(Error, EveryCodeHasAMessage) {
    for (error e : all_errors) {
        std::error_code ec = make_error_code(e);
        EXPECT_FALSE(ec.message().empty()) << static_cast<int>(e);
        EXPECT_NE(ec.message(), "unknown opensocket error") << static_cast<int>(e);
    }
}

TEST(Error, MessagesAreDistinct) {
    for (error a : all_errors) {
        for (error b : all_errors) {
            if (a == b) continue;
            EXPECT_NE(make_error_code(a).message(), make_error_code(b).message())
                << static_cast<int>(a) << " vs " << static_cast<int>(b);
        }
    }
}

TEST(Error, CodesAreNonZeroSoTheyTestAsErrors) {
    for (error e : all_errors) EXPECT_TRUE(static_cast<bool>(std::error_code(e)));
}

TEST(Error, UnknownValueHasAFallbackMessage) {
    std::error_code ec(999, opensocket::error_category());
    EXPECT_FALSE(ec.message().empty());
}

TEST(Error, CodeComparesEqualToItsEnum) {
    std::error_code ec = error::unexpected_eof;
    EXPECT_EQ(ec, error::unexpected_eof);
    EXPECT_NE(ec, error::invalid_port);
}

TEST(Error, LibraryCodeIsNotASystemErrno) {
    // invalid_address == 1 must not be mistaken for EPERM (1) of the system category.
    std::error_code ec = error::invalid_address;
    EXPECT_NE(ec, std::error_code(1, std::system_category()));
    EXPECT_NE(ec, std::errc::operation_not_permitted);
}

TEST(Error, DescriptorTooLargeNamesFdSetsize) {
    // The select poller's refusal must tell the user why: the fd_set limit, by name.
    EXPECT_NE(make_error_code(error::descriptor_too_large).message().find("FD_SETSIZE"),
              std::string::npos);
}

TEST(Error, ErrnoCodeIsInTheSystemCategory) {
    std::error_code ec = opensocket::errno_code(ECONNRESET);
#ifdef _WIN32
    // Windows' system category holds Windows error numbers: errno values get their own category
    // (compares like the generic one, with Winsock's messages).
    EXPECT_EQ(&ec.category(), &opensocket::errno_category());
    EXPECT_NE(ec.message().find("reset"), std::string::npos) << ec.message();
#else
    EXPECT_EQ(&ec.category(), &std::system_category());
#endif
    EXPECT_EQ(ec, std::errc::connection_reset);
}

}  // namespace
