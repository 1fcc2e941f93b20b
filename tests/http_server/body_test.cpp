// Request bodies as the handler sees them: Content-Length bodies byte for byte, chunked bodies
// decoded (extensions and trailers dropped), bodies in many small writes, Expect: 100-continue,
// and the body size limit (413, then close).

#include <harness.hpp>

#include <random>

using namespace opensocket;
using namespace opensocket::http_testing;

namespace {

std::string every_byte_value(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i)
        s[i] =
            static_cast<char>(std::to_integer<unsigned char>(opensocket::testing::pattern_byte(i)));
    return s;
}

std::string hex(std::size_t n) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%zx", n);
    return buf;
}

std::string content_length_post(std::string_view body) {
    return "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + std::string(body);
}

task<> post_and_expect(raw_client& c, std::string request, std::string body) {
    co_await c.send(request);
    auto r = co_await c.next();
    EXPECT_TRUE(r);
    if (!r) co_return;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body.size(), body.size() + 11);
    EXPECT_TRUE(r->body == "POST /echo\n" + body) << "the body reached the handler altered";
}

TEST(body, content_length_body_is_delivered_exactly) {
    std::string body = every_byte_value(4096);  // NUL, CR, LF and every other byte value
    body += "\r\n\r\nGET / HTTP/1.1\r\n\r\n";   // looks like a request: it is body
    serve(basic_routes(), test_config(), post_and_expect, content_length_post(body), body);
}

TEST(body, zero_length_body) {
    serve(basic_routes(), test_config(), post_and_expect, content_length_post(""), std::string());
}

TEST(body, chunked_body_with_extensions_and_trailers_is_decoded) {
    std::string request =
        "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5;name=value\r\nhello\r\n"
        "1;a;b=\"quoted ; value\"\r\n \r\n"
        "A\r\n0123456789\r\n"
        "0;last=1\r\n"
        "X-Checksum: abc\r\nX-Other: 1\r\n\r\n";
    serve(basic_routes(), test_config(), post_and_expect, request, std::string("hello 0123456789"));
}

TEST(body, chunked_body_without_chunks_is_empty) {
    std::string request =
        "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    serve(basic_routes(), test_config(), post_and_expect, request, std::string());
}

TEST(body, large_chunked_body_is_decoded) {
    std::string body = every_byte_value(300'000);
    std::string request = "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (std::size_t at = 0, n = 1; at < body.size(); at += n, n = n * 3 % 7919 + 1) {
        n = std::min(n, body.size() - at);
        request += hex(n) + "\r\n" + body.substr(at, n) + "\r\n";
    }
    request += "0\r\n\r\n";
    serve(basic_routes(), test_config(), post_and_expect, request, body);
}

/// Writes `bytes` in pieces of 1..max_piece bytes, letting the server read between them.
task<bool> trickle(raw_client& c, std::string_view bytes, uint32_t seed, std::size_t max_piece) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<std::size_t> piece(1, max_piece);
    for (std::size_t at = 0; at < bytes.size();) {
        std::size_t n = std::min(piece(rng), bytes.size() - at);
        if (!co_await c.send(bytes.substr(at, n))) co_return false;
        at += n;
        (void)co_await sleep_for(0ms);
    }
    co_return true;
}

task<> small_writes(raw_client& c, std::string request, std::string body, int repeat) {
    for (int i = 0; i < repeat; ++i) {
        co_await trickle(c, request, static_cast<uint32_t>(i + 1), 13);
        auto r = co_await c.next();
        EXPECT_TRUE(r);
        if (!r) co_return;
        EXPECT_TRUE(r->body == "POST /echo\n" + body) << "round " << i;
    }
}

TEST(body, content_length_body_in_many_small_writes) {
    std::string body = every_byte_value(20'000);
    serve(basic_routes(), test_config(), small_writes, content_length_post(body), body, 2);
}

TEST(body, chunked_body_in_many_small_writes) {
    std::string body = every_byte_value(6'000);
    std::string request = "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (std::size_t at = 0; at < body.size(); at += 100)
        request += hex(100) + ";i=" + std::to_string(at) + "\r\n" + body.substr(at, 100) + "\r\n";
    request += "0\r\nTrailer-Field: x\r\n\r\n";
    serve(basic_routes(), test_config(), small_writes, request, body, 2);
}

task<> expect_continue(raw_client& c, bool chunked) {
    std::string body = "the body, sent after 100 Continue";
    std::string head = "PUT /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n";
    head += chunked ? "Transfer-Encoding: chunked\r\n\r\n"
                    : "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    co_await c.send(head);
    auto interim = co_await c.next();
    EXPECT_TRUE(interim);
    if (!interim) co_return;
    EXPECT_EQ(interim->raw, "HTTP/1.1 100 Continue\r\n\r\n");
    std::string payload = body;
    if (chunked) payload = hex(body.size()) + "\r\n" + body + "\r\n0\r\n\r\n";
    co_await c.send(payload);
    auto r = co_await c.next();
    EXPECT_TRUE(r);
    if (!r) co_return;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "PUT /echo\n" + body);
    // The next request on the connection gets no stray interim response.
    co_await c.send("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
    auto next = co_await c.next();
    EXPECT_TRUE(next);
    if (next) {
        EXPECT_EQ(next->status, 200);
    }
}

TEST(body, expect_100_continue_is_answered_before_the_body_arrives) {
    serve(basic_routes(), test_config(), expect_continue, false);
}

TEST(body, expect_100_continue_with_a_chunked_body) {
    serve(basic_routes(), test_config(), expect_continue, true);
}

task<> expect_continue_once(raw_client& c) {
    // The body arrives in pieces after the 100: exactly one 100 Continue is sent.
    std::string body(5000, 'b');
    std::string head =
        "POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\n\r\n";
    co_await c.send(head);
    auto interim = co_await c.next();
    EXPECT_TRUE(interim && interim->status == 100);
    co_await trickle(c, body, 5, 500);
    auto r = co_await c.next();
    EXPECT_TRUE(r);
    if (!r) co_return;
    EXPECT_EQ(r->status, 200) << r->raw.substr(0, 200);
    EXPECT_EQ(r->body, "POST /echo\n" + body);
}

TEST(body, expect_100_continue_is_sent_once) {
    serve(basic_routes(), test_config(), expect_continue_once);
}

http::server_config small_body_limit() {
    http::server_config cfg = test_config();
    cfg.limits.max_body_size = 1000;
    return cfg;
}

task<> too_large(raw_client& c, std::string request) {
    // A valid request follows in the same write: it must not be answered.
    request += "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n";
    co_await c.send(request);
    auto r = co_await c.next();
    EXPECT_TRUE(r);
    if (!r) co_return;
    EXPECT_EQ(r->status, 413);
    EXPECT_EQ(r->reason, "Content Too Large");
    EXPECT_TRUE(r->closes());
    std::string rest = co_await c.read_to_eof();
    EXPECT_EQ(rest, "") << "a request after a 413 was answered";
    EXPECT_TRUE(c.saw_eof());
}

TEST(body, content_length_over_the_limit_is_413_and_closes) {
    serve(
        basic_routes(), small_body_limit(), too_large,
        "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\n\r\n" + std::string(1001, 'x'));
}

TEST(body, body_at_the_limit_is_accepted) {
    std::string body(1000, 'y');
    serve(basic_routes(), small_body_limit(), post_and_expect, content_length_post(body), body);
}

TEST(body, chunked_body_over_the_limit_is_413_and_closes) {
    std::string request = "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 3; ++i) request += hex(400) + "\r\n" + std::string(400, 'c') + "\r\n";
    request += "0\r\n\r\n";
    serve(basic_routes(), small_body_limit(), too_large, request);
}

task<> too_large_with_expect(raw_client& c) {
    // The final status, not 100 Continue: the client must not send the body.
    co_await c.send(
        "POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n");
    auto r = co_await c.next();
    EXPECT_TRUE(r);
    if (!r) co_return;
    EXPECT_EQ(r->status, 413);
    EXPECT_TRUE(r->closes());
    EXPECT_TRUE(co_await c.closed_by_server());
}

TEST(body, expect_100_continue_over_the_limit_gets_413_instead_of_100) {
    serve(basic_routes(), small_body_limit(), too_large_with_expect);
}

}  // namespace
