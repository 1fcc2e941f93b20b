// Persistence (RFC 9112 section 9.3): HTTP/1.1 stays open unless `Connection: close`; HTTP/1.0
// closes unless `Connection: keep-alive`, and then the response says `Connection: keep-alive`.

#include <harness.hpp>

using namespace opensocket;
using namespace opensocket::http_testing;

namespace {

task<> sequential(raw_client& c, int n) {
    for (int i = 1; i <= n; ++i) {
        co_await c.send("GET /seq HTTP/1.1\r\nHost: a\r\n\r\n");
        auto r = co_await c.next();
        EXPECT_TRUE(r) << "request " << i;
        if (!r) co_return;
        EXPECT_EQ(r->status, 200);
        EXPECT_EQ(r->body, std::to_string(i)) << "every request is on the same connection";
        EXPECT_FALSE(r->closes());
    }
}

TEST(keep_alive, sequential_requests_share_one_connection) {
    serve(basic_routes(), test_config(), sequential, 20);
}

task<> http10_default(raw_client& c) {
    co_await c.send("GET /hello HTTP/1.0\r\n\r\n");
    auto r = co_await c.next();
    EXPECT_TRUE(r);
    if (!r) co_return;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "Hello, World!");
    EXPECT_TRUE(r->closes());
    EXPECT_TRUE(co_await c.closed_by_server()) << "HTTP/1.0 without keep-alive must close";
}

TEST(keep_alive, http10_without_keep_alive_closes_after_the_response) {
    serve(basic_routes(), test_config(), http10_default);
}

task<> http10_keep_alive(raw_client& c, std::string connection_value) {
    for (int i = 1; i <= 3; ++i) {
        std::string req = "GET /seq HTTP/1.0\r\nConnection: " + connection_value + "\r\n\r\n";
        co_await c.send(req);
        auto r = co_await c.next();
        EXPECT_TRUE(r) << "request " << i;
        if (!r) co_return;
        EXPECT_EQ(r->body, std::to_string(i));
        EXPECT_EQ(r->header("Connection"), "keep-alive");
    }
    // The last one without keep-alive: answered, then closed.
    co_await c.send("GET /seq HTTP/1.0\r\n\r\n");
    auto last = co_await c.next();
    EXPECT_TRUE(last);
    if (!last) co_return;
    EXPECT_EQ(last->body, "4");
    EXPECT_TRUE(last->closes());
    EXPECT_TRUE(co_await c.closed_by_server());
}

TEST(keep_alive, http10_with_keep_alive_stays_open_and_says_so) {
    serve(basic_routes(), test_config(), http10_keep_alive, std::string("keep-alive"));
}

TEST(keep_alive, http10_keep_alive_token_is_case_insensitive) {
    serve(basic_routes(), test_config(), http10_keep_alive, std::string("Keep-Alive"));
}

task<> http11_close(raw_client& c, std::string connection_value) {
    co_await c.send("GET /seq HTTP/1.1\r\nHost: a\r\n\r\n");
    auto first = co_await c.next();
    EXPECT_TRUE(first);
    std::string req =
        "GET /seq HTTP/1.1\r\nHost: a\r\nConnection: " + connection_value + "\r\n\r\n";
    co_await c.send(req);
    auto r = co_await c.next();
    EXPECT_TRUE(r);
    if (!r) co_return;
    EXPECT_EQ(r->body, "2");
    EXPECT_TRUE(r->closes()) << r->raw;
    EXPECT_TRUE(co_await c.closed_by_server());
}

TEST(keep_alive, http11_connection_close_closes_after_the_response) {
    serve(basic_routes(), test_config(), http11_close, std::string("close"));
}

TEST(keep_alive, http11_close_among_other_connection_options) {
    serve(basic_routes(), test_config(), http11_close, std::string("TE, Close"));
}

task<> close_then_more(raw_client& c) {
    // A request after `Connection: close` in the same write is never answered.
    co_await c.send(
        "GET /seq HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        "GET /seq HTTP/1.1\r\nHost: a\r\n\r\n");
    auto r = co_await c.next();
    EXPECT_TRUE(r);
    if (!r) co_return;
    EXPECT_EQ(r->body, "1");
    EXPECT_TRUE(r->closes());
    std::string rest = co_await c.read_to_eof();
    EXPECT_EQ(rest, "") << "a request after Connection: close was answered";
    EXPECT_TRUE(c.saw_eof());
}

TEST(keep_alive, request_after_connection_close_is_not_answered) {
    serve(basic_routes(), test_config(), close_then_more);
}

task<> half_close(raw_client& c) {
    // The client sends two requests and its FIN: both are answered, then the server closes.
    co_await c.send(
        "GET /seq HTTP/1.1\r\nHost: a\r\n\r\n"
        "GET /seq HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_TRUE(c.stream().shutdown_write());
    auto a = co_await c.next();
    auto b = co_await c.next();
    EXPECT_TRUE(a && b);
    if (!a || !b) co_return;
    EXPECT_EQ(a->body, "1");
    EXPECT_EQ(b->body, "2");
    EXPECT_TRUE(co_await c.closed_by_server());
}

TEST(keep_alive, requests_before_a_client_half_close_are_answered) {
    serve(basic_routes(), test_config(), half_close);
}

}  // namespace
