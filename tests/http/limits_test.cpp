// parser_limits with their defaults (8 KiB request line, 64 KiB head, 100 fields, 1 MiB body)
// and custom values: the limit itself is accepted, one byte more is rejected with 414/431/413,
// even before the line or head ends.

#include "driver.hpp"

#include <opensocket/http/parser.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

namespace http = opensocket::http;
using http::parse_error;
using http::parse_status;

opensocket::result<parse_status> parse(const std::string& text, http::parser_limits limits = {}) {
    http::request_parser p(limits);
    return p.parse(text);
}

// A request line of exactly `n` bytes (without CRLF): "GET /aaa... HTTP/1.1".
std::string request_line(std::size_t n) { return "GET /" + std::string(n - 14, 'a') + " HTTP/1.1"; }

// A complete head of exactly `n` bytes with one large field.
std::string head_of(std::size_t n) {
    return "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(n - 32, 'v') + "\r\n\r\n";
}

TEST(Limits, DefaultsAreDocumented) {
    const http::parser_limits l;
    EXPECT_EQ(l.max_request_line, 8u * 1024);
    EXPECT_EQ(l.max_header_bytes, 64u * 1024);
    EXPECT_EQ(l.max_header_count, 100u);
    EXPECT_EQ(l.max_body_size, 1024u * 1024);
    EXPECT_EQ(l.max_chunk_extensions, 16u * 1024);
}

TEST(Limits, RequestLineOf8KiBIsAcceptedAndOneMoreIs414) {
    auto ok = parse(request_line(8192) + "\r\nHost: a\r\n\r\n");
    ASSERT_TRUE(ok) << ok.error().message();
    EXPECT_EQ(*ok, parse_status::complete);
    auto over = parse(request_line(8193) + "\r\nHost: a\r\n\r\n");
    ASSERT_FALSE(over);
    EXPECT_EQ(over.error(), parse_error::request_line_too_long);
    EXPECT_EQ(http::status_code(over.error()), 414);
}

TEST(Limits, LongTargetIs414BeforeTheLineEnds) {
    auto r = parse("GET /" + std::string(9000, 'a'));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), parse_error::request_line_too_long);
}

TEST(Limits, HeadOf64KiBIsAcceptedAndOneMoreIs431) {
    auto ok = parse(head_of(64 * 1024));
    ASSERT_TRUE(ok) << ok.error().message();
    EXPECT_EQ(*ok, parse_status::complete);
    auto over = parse(head_of(64 * 1024 + 1));
    ASSERT_FALSE(over);
    EXPECT_EQ(over.error(), parse_error::header_too_large);
    EXPECT_EQ(http::status_code(over.error()), 431);
}

TEST(Limits, OneMebibyteFieldIs431WithoutReadingItAll) {
    auto r = parse("GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(1024 * 1024, 'v'));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), parse_error::header_too_large);
}

TEST(Limits, HundredFieldsAreAcceptedAndOneMoreIs431) {
    std::string fields = "Host: a\r\n";
    for (int i = 1; i < 100; ++i) fields += "X-" + std::to_string(i) + ": v\r\n";
    auto ok = parse("GET / HTTP/1.1\r\n" + fields + "\r\n");
    ASSERT_TRUE(ok) << ok.error().message();
    EXPECT_EQ(*ok, parse_status::complete);
    auto over = parse("GET / HTTP/1.1\r\n" + fields + "X-100: v\r\n\r\n");
    ASSERT_FALSE(over);
    EXPECT_EQ(over.error(), parse_error::too_many_headers);
    EXPECT_EQ(http::status_code(over.error()), 431);
}

TEST(Limits, CustomLimitsApply) {
    http::parser_limits l;
    l.max_request_line = 20;
    l.max_header_count = 1;
    l.max_body_size = 3;
    EXPECT_EQ(parse(request_line(21) + "\r\n", l).error(), parse_error::request_line_too_long);
    EXPECT_TRUE(parse(request_line(20) + "\r\nHost: a\r\n\r\n", l));
    EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n\r\n", l).error(),
              parse_error::too_many_headers);
    l.max_header_count = 5;
    EXPECT_EQ(parse("PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\n", l).error(),
              parse_error::body_too_large);
}

TEST(Limits, HeadLimitBelowTheLineLimitGives431ForALongLine) {
    http::parser_limits l;
    l.max_header_bytes = 16;
    auto r = parse("GET /" + std::string(40, 'a') + " HTTP/1.1\r\n", l);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), parse_error::header_too_large);
}

TEST(Limits, UnsupportedMethodIs501AndVersionIs505) {
    auto method = parse("BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n");
    ASSERT_FALSE(method);
    EXPECT_EQ(http::status_code(method.error()), 501);
    auto version = parse("GET / HTTP/3.0\r\nHost: a\r\n\r\n");
    ASSERT_FALSE(version);
    EXPECT_EQ(http::status_code(version.error()), 505);
}

// The whole-head path and the 16-byte scans decide on a whole buffer, the phase machine byte by
// byte: a limit that ends anywhere in a line (inside a 16-byte step, at a CR, past the head)
// must give exactly what the byte-at-a-time machine gives. Every request-line and head limit
// from too small to ample, each with input pipelined after the head.
TEST(Limits, LimitsInsideAScanStepActAsByteByByte) {
    const std::string heads[] = {
        "GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n",
        "GET /a?b=c&d=e HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n",
        "GET /\x01"
        "bad HTTP/1.1\r\nHost: x\r\n\r\n",  // a control byte in the target
        "GET / HTTP/1.1\r\nHost: x\r\nX: a\x01"
        "b\r\n\r\n",  // and in a field value
    };
    const std::string after = "GET /next HTTP/1.1\r\nHost: y\r\n\r\n";
    int compared = 0;
    for (const std::string& head : heads) {
        const std::string input = head + after + after;
        for (std::size_t line = 8; line <= 48; ++line) {
            for (std::size_t bytes = 16; bytes <= head.size() + 24; ++bytes) {
                http::parser_limits l = http_test::small_limits();
                l.max_request_line = line;
                l.max_header_bytes = bytes;
                const auto whole = http_test::drive_whole(input, l);
                const auto bytewise = http_test::drive_bytewise(input, l);
                ASSERT_EQ(whole.transcript(), bytewise.transcript())
                    << "line limit " << line << ", head limit " << bytes << ": " << head;
                ASSERT_TRUE(whole.violations.empty()) << whole.violations.front();
                ++compared;
            }
        }
    }
    EXPECT_GT(compared, 1000);
}

}  // namespace
