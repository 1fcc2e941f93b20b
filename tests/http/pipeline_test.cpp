// request_parser across requests on one connection: pipelined requests in one buffer, next()
// and reset(), and failed parsers staying failed.

#include <opensocket/http/body.hpp>
#include <opensocket/http/parser.hpp>

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace {

namespace http = opensocket::http;
using http::parse_error;
using http::parse_status;

TEST(Pipeline, ParsesRequestsOneAfterAnotherFromOneBuffer) {
    const std::string buffer =
        "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
        "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
        "GET /3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    http::request_parser p;
    http::body_decoder body;
    std::string_view rest = buffer;
    std::vector<std::string> seen;
    while (!rest.empty()) {
        auto r = p.parse(rest);
        ASSERT_TRUE(r);
        ASSERT_EQ(*r, parse_status::complete);
        const http::request_head& h = p.head();
        seen.push_back(std::string(h.target));
        body.start(h.body);
        rest.remove_prefix(h.size);
        auto step = body.next(rest);
        ASSERT_TRUE(step);
        ASSERT_TRUE(step->done);
        rest.remove_prefix(step->consumed);
        if (!h.keep_alive) break;
        p.next();
    }
    EXPECT_EQ(seen, (std::vector<std::string>{"/1", "/2", "/3"}));
    EXPECT_TRUE(rest.empty());
}

TEST(Pipeline, CompleteStaysCompleteUntilNext) {
    const std::string buffer = "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /x HTTP/1.1\r\n";
    http::request_parser p;
    ASSERT_EQ(*p.parse(buffer), parse_status::complete);
    ASSERT_EQ(*p.parse(buffer), parse_status::complete);
    EXPECT_EQ(p.head().target, "/");
    p.next();
    auto r = p.parse(std::string_view(buffer).substr(27));
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, parse_status::incomplete);
}

TEST(Pipeline, NextKeepsAFailedParserFailed) {
    http::request_parser p;
    auto bad = p.parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n");
    ASSERT_FALSE(bad);
    EXPECT_TRUE(p.failed());
    p.next();
    auto after = p.parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    ASSERT_FALSE(after);
    EXPECT_EQ(after.error(), parse_error::invalid_content_length);
}

TEST(Pipeline, ResetClearsTheErrorForANewConnection) {
    http::request_parser p;
    ASSERT_FALSE(p.parse("\n"));
    p.reset();
    EXPECT_FALSE(p.failed());
    auto r = p.parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, parse_status::complete);
}

TEST(Pipeline, EachRequestStartsWithFreshFields) {
    http::request_parser p;
    ASSERT_EQ(*p.parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"),
              parse_status::complete);
    EXPECT_FALSE(p.head().keep_alive);
    p.next();
    ASSERT_EQ(*p.parse("GET / HTTP/1.1\r\nHost: b\r\n\r\n"), parse_status::complete);
    EXPECT_TRUE(p.head().keep_alive);
    EXPECT_EQ(p.head().headers.size(), 1u);
    EXPECT_EQ(p.head().headers.find("host"), "b");
}

}  // namespace
