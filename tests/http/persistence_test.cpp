// Connection persistence (RFC 9112 section 9.3) and Expect: 100-continue (RFC 9110 10.1.1).

#include <opensocket/http/parser.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

namespace http = opensocket::http;

http::request_head parse_head(const std::string& text) {
    http::request_parser p;
    auto r = p.parse(text);
    EXPECT_TRUE(r && *r == http::parse_status::complete) << text;
    return p.head();
}

bool keep_alive(const std::string& version, const std::string& fields) {
    return parse_head("GET / " + version + "\r\nHost: x\r\n" + fields + "\r\n").keep_alive;
}

bool expect_continue(const std::string& version, const std::string& fields) {
    return parse_head("POST / " + version + "\r\nHost: x\r\nContent-Length: 1\r\n" + fields +
                      "\r\n")
        .expect_continue;
}

TEST(Persistence, Http11IsPersistentByDefault) { EXPECT_TRUE(keep_alive("HTTP/1.1", "")); }

TEST(Persistence, Http11ConnectionCloseEndsIt) {
    EXPECT_FALSE(keep_alive("HTTP/1.1", "Connection: close\r\n"));
    EXPECT_FALSE(keep_alive("HTTP/1.1", "connection: CLOSE\r\n"));
}

TEST(Persistence, CloseIsFoundInATokenList) {
    EXPECT_FALSE(keep_alive("HTTP/1.1", "Connection: Upgrade ,close, x\r\n"));
    EXPECT_FALSE(keep_alive("HTTP/1.1", "Connection: keep-alive\r\nConnection: close\r\n"));
}

TEST(Persistence, OnlyTheWholeTokenCloseCounts) {
    EXPECT_TRUE(keep_alive("HTTP/1.1", "Connection: closed\r\n"));
    EXPECT_TRUE(keep_alive("HTTP/1.1", "X-Connection: close\r\n"));
}

TEST(Persistence, Http10ClosesByDefault) { EXPECT_FALSE(keep_alive("HTTP/1.0", "")); }

TEST(Persistence, Http10KeepAliveMakesItPersistent) {
    EXPECT_TRUE(keep_alive("HTTP/1.0", "Connection: keep-alive\r\n"));
    EXPECT_TRUE(keep_alive("HTTP/1.0", "Connection: Keep-Alive\r\n"));
    EXPECT_TRUE(keep_alive("HTTP/1.0", "Connection: foo, keep-alive\r\n"));
}

TEST(Persistence, CloseWinsOverKeepAlive) {
    EXPECT_FALSE(keep_alive("HTTP/1.0", "Connection: keep-alive, close\r\n"));
    EXPECT_FALSE(keep_alive("HTTP/1.1", "Connection: keep-alive, close\r\n"));
}

TEST(ExpectContinue, Http11With100ContinueAsksForIt) {
    EXPECT_TRUE(expect_continue("HTTP/1.1", "Expect: 100-continue\r\n"));
    EXPECT_TRUE(expect_continue("HTTP/1.1", "Expect: 100-Continue\r\n"));
}

TEST(ExpectContinue, AbsentOrOtherExpectationsDoNot) {
    EXPECT_FALSE(expect_continue("HTTP/1.1", ""));
    EXPECT_FALSE(expect_continue("HTTP/1.1", "Expect: something-else\r\n"));
}

TEST(ExpectContinue, IsIgnoredInHttp10) {
    EXPECT_FALSE(expect_continue("HTTP/1.0", "Expect: 100-continue\r\n"));
}

}  // namespace
