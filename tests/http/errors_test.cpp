// parse_error: the status code each error is answered with, and the error category.

#include <opensocket/http/errors.hpp>

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <system_error>

namespace {

namespace http = opensocket::http;
using http::parse_error;

constexpr int first = static_cast<int>(parse_error::invalid_request_line);
constexpr int last = static_cast<int>(parse_error::unsupported_version);

TEST(ParseErrors, LimitAndSupportErrorsHaveTheirOwnStatus) {
    EXPECT_EQ(http::status_code(parse_error::body_too_large), 413);
    EXPECT_EQ(http::status_code(parse_error::request_line_too_long), 414);
    EXPECT_EQ(http::status_code(parse_error::header_too_large), 431);
    EXPECT_EQ(http::status_code(parse_error::too_many_headers), 431);
    EXPECT_EQ(http::status_code(parse_error::trailer_too_large), 431);
    EXPECT_EQ(http::status_code(parse_error::method_not_implemented), 501);
    EXPECT_EQ(http::status_code(parse_error::transfer_coding_not_implemented), 501);
    EXPECT_EQ(http::status_code(parse_error::unsupported_version), 505);
}

TEST(ParseErrors, SyntaxAndFramingErrorsAre400) {
    for (const parse_error e :
         {parse_error::invalid_request_line, parse_error::invalid_method,
          parse_error::invalid_target, parse_error::invalid_version,
          parse_error::invalid_line_ending, parse_error::obs_fold, parse_error::invalid_header_name,
          parse_error::missing_colon, parse_error::invalid_header_value, parse_error::invalid_host,
          parse_error::invalid_content_length, parse_error::content_length_mismatch,
          parse_error::content_length_with_transfer_encoding,
          parse_error::invalid_transfer_encoding, parse_error::invalid_chunk_size,
          parse_error::chunk_size_overflow, parse_error::invalid_chunk_extension,
          parse_error::chunk_extension_too_long, parse_error::invalid_chunk_data}) {
        EXPECT_EQ(http::status_code(e), 400) << std::error_code(e).message();
    }
}

TEST(ParseErrors, EveryErrorHasADistinctMessage) {
    std::set<std::string> messages;
    for (int v = first; v <= last; ++v) {
        const std::string m = std::error_code(static_cast<parse_error>(v)).message();
        EXPECT_NE(m, "unknown HTTP parse error") << v;
        messages.insert(m);
    }
    EXPECT_EQ(messages.size(), static_cast<std::size_t>(last - first + 1));
}

TEST(ParseErrors, ConvertToErrorCodesInTheirCategory) {
    const std::error_code ec = parse_error::obs_fold;
    EXPECT_EQ(ec, parse_error::obs_fold);
    EXPECT_STREQ(ec.category().name(), "opensocket.http");
    EXPECT_EQ(http::status_code(ec), 400);
}

TEST(ParseErrors, ForeignErrorsAre500AndSuccessIs200) {
    EXPECT_EQ(http::status_code(std::make_error_code(std::errc::timed_out)), 500);
    EXPECT_EQ(http::status_code(std::error_code()), 200);
}

}  // namespace
