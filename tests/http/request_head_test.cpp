// request_head: the views a complete head exposes (method, target, version, fields, size), that
// they point into the caller's buffer without copies, and follow it when it moves.

#include <opensocket/http/parser.hpp>

#include <gtest/gtest.h>

#include <cstddef>
#include <iterator>
#include <ranges>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace http = opensocket::http;
using http::parse_status;

// Parses `text` in one call; the head must be complete.
const http::request_head& parse_ok(http::request_parser& p, std::string_view text) {
    auto r = p.parse(text);
    EXPECT_TRUE(r) << r.error().message();
    EXPECT_TRUE(r && *r == parse_status::complete);
    return p.head();
}
// The head views the buffer: parsing a temporary would leave them dangling.
const http::request_head& parse_ok(http::request_parser& p, std::string&& text) = delete;
const http::request_head& parse_ok(http::request_parser& p, const char* text) {
    return parse_ok(p, std::string_view(text));
}

TEST(RequestHead, ViewsPointIntoTheCallersBuffer) {
    const std::string buf = "GET /a?b HTTP/1.1\r\nHost: x\r\nX-Y:  z z \r\n\r\n";
    http::request_parser p;
    const auto& h = parse_ok(p, buf);
    EXPECT_EQ(h.method_text.data(), buf.data());
    EXPECT_EQ(h.target.data(), buf.data() + 4);
    ASSERT_EQ(h.headers.size(), 2u);
    EXPECT_EQ(h.headers[0].name.data(), buf.data() + buf.find("Host"));
    EXPECT_EQ(h.headers[1].value.data(), buf.data() + buf.find("z z"));
    EXPECT_EQ(h.headers[1].value, "z z");
    EXPECT_EQ(h.size, buf.size());
}

TEST(RequestHead, FollowsTheBufferWhenItMovesBetweenCalls) {
    const std::string first = "GET /moved HTTP/1.1\r\nHo";
    http::request_parser p;
    auto r = p.parse(first);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, parse_status::incomplete);
    const std::string grown = first + "st: x\r\n\r\n";  // a different allocation
    const auto& h = parse_ok(p, grown);
    EXPECT_EQ(h.target.data(), grown.data() + 4);
    EXPECT_EQ(h.headers[0].value.data(), grown.data() + grown.find(": x") + 2);
    const std::string copy = grown;  // complete: parse() again rebinds to the new buffer
    const auto& again = parse_ok(p, copy);
    EXPECT_EQ(again.target.data(), copy.data() + 4);
    EXPECT_EQ(again.headers[0].name.data(), copy.data() + copy.find("Host"));
}

TEST(RequestHead, BytesAfterTheHeadAreNotPartOfIt) {
    const std::string buf = std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n") + '\0' + "garbage";
    http::request_parser p;
    const auto& h = parse_ok(p, buf);
    EXPECT_EQ(h.size, buf.find('\0'));
}

TEST(RequestHead, SizeCountsEmptyLinesSkippedBeforeTheRequestLine) {
    http::request_parser p;
    const std::string text = "\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n";
    const auto& h = parse_ok(p, text);
    EXPECT_EQ(h.size, 31u);
    EXPECT_EQ(h.method_text, "GET");
}

TEST(RequestHead, EachImplementedMethodMapsToItsEnum) {
    const std::vector<std::pair<std::string, http::method>> methods = {
        {"GET", http::method::get},        {"HEAD", http::method::head},
        {"POST", http::method::post},      {"PUT", http::method::put},
        {"DELETE", http::method::delete_}, {"OPTIONS", http::method::options},
        {"PATCH", http::method::patch},
    };
    for (const auto& [text, m] : methods) {
        http::request_parser p;
        const std::string request = text + " / HTTP/1.1\r\nHost: x\r\n\r\n";
        const auto& h = parse_ok(p, request);
        EXPECT_EQ(h.method, m) << text;
        EXPECT_EQ(h.method_text, text);
        EXPECT_EQ(http::to_string(m), text);
    }
}

TEST(RequestHead, VersionsOneZeroAndOneOne) {
    http::request_parser p10;
    EXPECT_EQ(parse_ok(p10, "GET / HTTP/1.0\r\n\r\n").version, http::version::http_1_0);
    http::request_parser p11;
    EXPECT_EQ(parse_ok(p11, "GET / HTTP/1.1\r\nHost: x\r\n\r\n").version, http::version::http_1_1);
    EXPECT_EQ(http::to_string(http::version::http_1_0), "HTTP/1.0");
    EXPECT_EQ(http::to_string(http::version::http_1_1), "HTTP/1.1");
}

TEST(RequestHead, HigherMinorVersionIsReadAsOneOne) {
    http::request_parser p;
    EXPECT_EQ(parse_ok(p, "GET / HTTP/1.9\r\nHost: x\r\n\r\n").version, http::version::http_1_1);
}

TEST(RequestHead, PathAndQueryOfEachTargetForm) {
    struct row {
        std::string line, path, query;
    };
    const std::vector<row> rows = {
        {"GET /a/b?x=1&y HTTP/1.1", "/a/b", "x=1&y"},
        {"GET /plain HTTP/1.1", "/plain", ""},
        {"GET /? HTTP/1.1", "/", ""},
        {"GET http://h.example:80/p?q HTTP/1.1", "/p", "q"},
        {"GET http://h.example HTTP/1.1", "/", ""},
        {"GET http://h.example?q HTTP/1.1", "/", "q"},
        {"OPTIONS * HTTP/1.1", "*", ""},
    };
    for (const auto& r : rows) {
        http::request_parser p;
        const std::string request = r.line + "\r\nHost: x\r\n\r\n";
        const auto& h = parse_ok(p, request);
        EXPECT_EQ(h.path(), r.path) << r.line;
        EXPECT_EQ(h.query(), r.query) << r.line;
    }
}

TEST(RequestHead, PathEndsAtTheFirstQuestionMarkWhereverItIs) {
    // Every target length up to past the word-at-a-time limit, '?' at every position (and a
    // second one after it), and none at all.
    for (std::size_t size = 1; size <= 48; ++size) {
        std::string target(size, 'p');
        target[0] = '/';
        for (std::size_t i = 1; i < size; i += 3) target[i] = static_cast<char>('a' + i % 26);
        for (std::size_t mark = 1; mark <= size; ++mark) {
            std::string t = target;
            if (mark < size) t[mark] = '?';
            if (mark + 2 < size) t[mark + 2] = '?';
            http::request_parser p;
            const std::string request = "GET " + t + " HTTP/1.1\r\nHost: x\r\n\r\n";
            const auto& h = parse_ok(p, request);
            ASSERT_EQ(h.path(), t.substr(0, mark)) << t;
            ASSERT_EQ(h.query(), mark < size ? t.substr(mark + 1) : "") << t;
        }
    }
}

TEST(RequestHead, FindIsCaseInsensitiveAndReturnsTheFirstMatch) {
    http::request_parser p;
    const auto& h = parse_ok(p, "GET / HTTP/1.1\r\nHost: x\r\nX-Dup: 1\r\nx-dup: 2\r\n\r\n");
    EXPECT_EQ(h.headers.find("X-DUP"), "1");
    EXPECT_EQ(h.headers.find("host"), "x");
    EXPECT_FALSE(h.headers.find("X-Missing").has_value());
    EXPECT_FALSE(h.headers.find("X-Du").has_value());
}

TEST(RequestHead, FieldsIterateInOrderWithValuesTrimmed) {
    http::request_parser p;
    const auto& h = parse_ok(p, "GET / HTTP/1.1\r\nHost:x\r\nA:\t a b\t\r\nB:\r\nA: 3\r\n\r\n");
    std::vector<std::string> seen;
    for (const http::header f : h.headers)
        seen.push_back(std::string(f.name) + "=" + std::string(f.value));
    EXPECT_EQ(seen, (std::vector<std::string>{"Host=x", "A=a b", "B=", "A=3"}));
    EXPECT_FALSE(h.headers.empty());
}

static_assert(std::forward_iterator<http::header_list::iterator>);
static_assert(std::ranges::forward_range<http::header_list>);

TEST(RequestHead, ParsesFromASpanOfBytes) {
    const std::string text = "GET /bytes HTTP/1.1\r\nHost: x\r\n\r\n";
    const auto* bytes = reinterpret_cast<const std::byte*>(text.data());
    http::request_parser p;
    auto r = p.parse(std::span<const std::byte>(bytes, text.size()));
    ASSERT_TRUE(r);
    ASSERT_EQ(*r, parse_status::complete);
    EXPECT_EQ(p.head().target, "/bytes");
}

}  // namespace
