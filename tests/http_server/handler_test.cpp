// Handlers: what they see of the request, asynchronous handlers keep pipelined order, a handler
// that asks to close, and one that throws (500, then close). Each also as a plain function
// (`response(request&)`, no coroutine), mixed with coroutines on one connection.

#include <harness.hpp>

#include <stdexcept>

using namespace opensocket;
using namespace opensocket::http_testing;

namespace {

task<http::response> throws(http::request&) {
    throw std::runtime_error("handler failed on purpose");
    co_return http::response::text(200, "unreachable");
}

task<http::response> throws_int(http::request&) {
    throw 42;
    co_return http::response::text(200, "unreachable");
}

task<http::response> throws_later(http::request&) {
    (void)co_await sleep_for(1ms);
    throw std::logic_error("failed after a suspension");
}

task<http::response> closing(http::request&) {
    http::response r = http::response::text(200, "bye");
    r.close = true;
    co_return r;
}

task<http::response> delayed(http::request& req) {
    // Later requests finish sooner: the responses must still come back in request order.
    auto q = req.head.query();
    int ms = q.empty() ? 0 : std::stoi(std::string(q));
    (void)co_await sleep_for(std::chrono::milliseconds(ms));
    http::response r;
    r.body.assign(q);
    co_return r;
}

task<http::response> inspect(http::request& req) {
    http::response r;
    auto peer = req.peer_address();
    r.body += std::string(req.head.method_text) + "|" + std::string(req.head.path()) + "|" +
              std::string(req.head.query()) + "|" + std::string(to_string(req.head.version)) + "|" +
              std::string(req.head.headers.find("x-custom").value_or("none")) + "|" +
              std::to_string(req.head.headers.size()) + "|" + std::to_string(req.sequence) + "|" +
              std::to_string(req.executor_index) + "|" + (peer ? "peer" : "nopeer");
    co_return r;
}

// The plain-function forms: answered without a coroutine frame.
http::response plain_sequence(http::request& req) {
    http::response r;
    r.body = "plain " + std::to_string(req.sequence);
    return r;
}

http::response plain_throws(http::request&) { throw std::runtime_error("plain handler failed"); }

http::router handler_routes() {
    http::router r = basic_routes();
    r.get("/throw", throws);
    r.get("/throw-int", throws_int);
    r.get("/throw-later", throws_later);
    r.get("/close", closing);
    r.get("/delay", delayed);
    r.get("/inspect", inspect);
    r.get("/plain", plain_sequence);
    r.get("/plain-throw", plain_throws);
    int calls = 0;  // a stateful lambda, kept in the route
    r.post("/plain-count", [calls](http::request&) mutable {
        return http::response::text(200, ++calls % 2 == 1 ? "odd" : "even");
    });
    return r;
}

task<> exception_is_500(raw_client& c, std::string path) {
    std::string req = "GET /seq HTTP/1.1\r\nHost: a\r\n\r\nGET " + path +
                      " HTTP/1.1\r\nHost: a\r\n\r\nGET /seq HTTP/1.1\r\nHost: a\r\n\r\n";
    co_await c.send(req);
    const auto deadline = clock::now() + 2s;
    auto first = co_await c.next(false, deadline);
    auto r = co_await c.next(false, deadline);
    EXPECT_TRUE(first && r);
    if (!first || !r) co_return;
    EXPECT_EQ(first->body, "1");
    EXPECT_EQ(r->status, 500);
    EXPECT_EQ(r->reason, "Internal Server Error");
    EXPECT_TRUE(r->closes());
    std::string rest = co_await c.read_to_eof(deadline);
    EXPECT_EQ(rest, "") << "a request after the failed one was answered";
    EXPECT_TRUE(c.saw_eof());
}

TEST(handlers, exception_is_answered_500_with_connection_close) {
    serve(handler_routes(), test_config(), exception_is_500, std::string("/throw"));
}

TEST(handlers, exception_after_a_suspension_is_answered_500) {
    serve(handler_routes(), test_config(), exception_is_500, std::string("/throw-later"));
}

TEST(handlers, exception_from_a_plain_function_handler_is_answered_500) {
    serve(handler_routes(), test_config(), exception_is_500, std::string("/plain-throw"));
}

task<> plain_and_coroutine_handlers_mix(raw_client& c) {
    co_await c.send(
        "GET /plain HTTP/1.1\r\nHost: a\r\n\r\n"
        "GET /delay?20 HTTP/1.1\r\nHost: a\r\n\r\n"
        "GET /plain HTTP/1.1\r\nHost: a\r\n\r\n"
        "POST /plain-count HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"
        "POST /plain-count HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"
        "HEAD /plain HTTP/1.1\r\nHost: a\r\n\r\n");
    for (std::string_view want : {"plain 1", "20", "plain 3", "odd", "even"}) {
        auto r = co_await c.next();
        EXPECT_TRUE(r);
        if (!r) co_return;
        EXPECT_EQ(r->status, 200);
        EXPECT_EQ(r->body, want);
    }
    auto head = co_await c.next(true);  // HEAD falls back to the GET handler, without the body
    EXPECT_TRUE(head && head->status == 200 && head->body.empty());
}

TEST(handlers, plain_function_handlers_answer_in_order_among_coroutines) {
    serve(handler_routes(), test_config(), plain_and_coroutine_handlers_mix);
}

TEST(handlers, a_handler_of_either_kind_also_runs_as_a_task) {
    http::handler coroutine = [](http::request&) -> task<http::response> {
        co_return http::response::text(200, "from a coroutine");
    };
    http::handler plain = [](http::request&) { return http::response::text(200, "plain"); };
    EXPECT_TRUE(coroutine.waits());
    EXPECT_FALSE(plain.waits());
    EXPECT_FALSE(static_cast<bool>(http::handler{}));
    auto answers = sync_wait([&]() -> task<std::pair<std::string, std::string>> {
        auto p = co_await opensocket::testing::connected_pair();
        EXPECT_TRUE(p);
        http::request_head head;
        http::request req{head, {}, p->server};
        auto a = co_await coroutine(req);
        auto b = co_await plain(req);
        co_return std::pair{std::string(a.body_view()), std::string(b.body_view())};
    }());
    EXPECT_EQ(answers.first, "from a coroutine");
    EXPECT_EQ(answers.second, "plain");
}

TEST(handlers, exception_not_derived_from_std_exception_is_answered_500) {
    serve(handler_routes(), test_config(), exception_is_500, std::string("/throw-int"));
}

task<> handler_closes(raw_client& c) {
    co_await c.send("GET /close HTTP/1.1\r\nHost: a\r\n\r\n");
    auto r = co_await c.next();
    EXPECT_TRUE(r);
    if (!r) co_return;
    EXPECT_EQ(r->body, "bye");
    EXPECT_TRUE(r->closes());
    EXPECT_TRUE(co_await c.closed_by_server());
}

TEST(handlers, response_close_closes_the_connection) {
    serve(handler_routes(), test_config(), handler_closes);
}

task<> async_order(raw_client& c) {
    co_await c.send(
        "GET /delay?40 HTTP/1.1\r\nHost: a\r\n\r\n"
        "GET /delay?0 HTTP/1.1\r\nHost: a\r\n\r\n"
        "GET /delay?20 HTTP/1.1\r\nHost: a\r\n\r\n"
        "GET /delay?1 HTTP/1.1\r\nHost: a\r\n\r\n");
    for (std::string_view want : {"40", "0", "20", "1"}) {
        auto r = co_await c.next();
        EXPECT_TRUE(r);
        if (!r) co_return;
        EXPECT_EQ(r->body, want);
    }
}

TEST(handlers, suspending_handlers_keep_pipelined_order) {
    serve(handler_routes(), test_config(), async_order);
}

task<> sees_request(raw_client& c) {
    co_await c.send(
        "GET /inspect?a=1 HTTP/1.1\r\nHost: a\r\nX-Custom: value\r\n\r\n"
        "GET /inspect HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    auto a = co_await c.next();
    auto b = co_await c.next();
    EXPECT_TRUE(a && b);
    if (!a || !b) co_return;
    EXPECT_EQ(a->body, "GET|/inspect|a=1|HTTP/1.1|value|2|1|0|peer");
    EXPECT_EQ(b->body, "GET|/inspect||HTTP/1.0|none|1|2|0|peer");
}

TEST(handlers, see_method_path_query_version_headers_and_sequence) {
    serve(handler_routes(), test_config(), sees_request);
}

}  // namespace
