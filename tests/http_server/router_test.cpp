// The router as the connection loop applies it: exact path + method, 405 for a known path with
// another method, 404 for an unknown path, HEAD answered by the GET handler without a body.

#include <harness.hpp>

using namespace opensocket;
using namespace opensocket::http_testing;

namespace {

task<http::response> head_handler(http::request&) {
    co_return http::response::text(200, "from the HEAD route");
}

task<> get_and_expect(raw_client& c, std::string request, int status, std::string body) {
    co_await c.send(request);
    auto r = co_await c.next();
    EXPECT_TRUE(r) << request;
    if (!r) co_return;
    EXPECT_EQ(r->status, status) << request;
    EXPECT_EQ(r->body, body) << request;
}

TEST(router, exact_path_and_method_reach_the_handler) {
    serve(basic_routes(), test_config(), get_and_expect,
          std::string("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n"), 200, std::string("Hello, World!"));
}

TEST(router, query_is_not_part_of_the_path) {
    serve(basic_routes(), test_config(), get_and_expect,
          std::string("GET /hello?x=1&y=2 HTTP/1.1\r\nHost: a\r\n\r\n"), 200,
          std::string("Hello, World!"));
}

TEST(router, absolute_form_target_routes_on_its_path) {
    serve(basic_routes(), test_config(), get_and_expect,
          std::string("GET http://example.com/hello HTTP/1.1\r\nHost: example.com\r\n\r\n"), 200,
          std::string("Hello, World!"));
}

task<> near_misses(raw_client& c) {
    // A prefix, an extension, a trailing slash and another case are all different paths.
    for (std::string_view path : {"/hell", "/hello2", "/hello/", "/HELLO", "/", "/hello/x"}) {
        std::string req = "GET " + std::string(path) + " HTTP/1.1\r\nHost: a\r\n\r\n";
        co_await c.send(req);
        auto r = co_await c.next();
        EXPECT_TRUE(r) << path;
        if (!r) co_return;
        EXPECT_EQ(r->status, 404) << path;
        EXPECT_EQ(r->reason, "Not Found") << path;
        EXPECT_FALSE(r->closes()) << "a 404 keeps the connection: " << path;
    }
}

TEST(router, unknown_path_is_404_and_keeps_the_connection) {
    serve(basic_routes(), test_config(), near_misses);
}

task<> wrong_methods(raw_client& c) {
    for (std::string_view m : {"POST", "PUT", "DELETE", "OPTIONS", "PATCH"}) {
        std::string req =
            std::string(m) + " /hello HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n";
        co_await c.send(req);
        auto r = co_await c.next();
        EXPECT_TRUE(r) << m;
        if (!r) co_return;
        EXPECT_EQ(r->status, 405) << m;
        EXPECT_EQ(r->reason, "Method Not Allowed") << m;
        EXPECT_FALSE(r->closes()) << m;
    }
}

TEST(router, known_path_with_another_method_is_405) {
    serve(basic_routes(), test_config(), wrong_methods);
}

task<> head_then_get(raw_client& c) {
    co_await c.send("HEAD /hello HTTP/1.1\r\nHost: a\r\n\r\n");
    auto h = co_await c.next(/*head_request=*/true);
    EXPECT_TRUE(h);
    if (!h) co_return;
    EXPECT_EQ(h->status, 200);
    EXPECT_EQ(h->header("Content-Length"), "13");
    EXPECT_EQ(h->header("Content-Type"), "text/plain; charset=utf-8");
    EXPECT_TRUE(h->body.empty());
    // No body bytes follow the head: the next response starts right after it.
    co_await c.send("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
    auto g = co_await c.next();
    EXPECT_TRUE(g);
    if (!g) co_return;
    EXPECT_EQ(g->status, 200);
    EXPECT_EQ(g->body, "Hello, World!");
    EXPECT_TRUE(c.pending().empty()) << c.pending();
}

TEST(router, head_falls_back_to_get_with_content_length_and_no_body) {
    serve(basic_routes(), test_config(), head_then_get);
}

task<> pipelined_heads(raw_client& c) {
    // Two HEADs and a GET in one write: if a HEAD response carried a body, the responses after
    // it would not parse.
    co_await c.send(
        "HEAD /hello HTTP/1.1\r\nHost: a\r\n\r\n"
        "HEAD /echo HTTP/1.1\r\nHost: a\r\n\r\n"
        "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
    auto a = co_await c.next(true);
    auto b = co_await c.next(true);
    auto g = co_await c.next();
    EXPECT_TRUE(a && b && g);
    if (!a || !b || !g) co_return;
    EXPECT_EQ(a->header("Content-Length"), "13");
    EXPECT_EQ(b->header("Content-Length"), "11");  // "HEAD /echo\n"
    EXPECT_EQ(g->body, "Hello, World!");
}

TEST(router, pipelined_head_responses_have_no_body) {
    serve(basic_routes(), test_config(), pipelined_heads);
}

task<> head_route(raw_client& c) {
    co_await c.send("HEAD /both HTTP/1.1\r\nHost: a\r\n\r\n");
    auto h = co_await c.next(true);
    EXPECT_TRUE(h);
    if (!h) co_return;
    EXPECT_EQ(h->status, 200);
    EXPECT_EQ(h->header("Content-Length"), "19");  // "from the HEAD route"
    EXPECT_TRUE(h->body.empty());
}

TEST(router, explicit_head_route_wins_over_get) {
    http::router r;
    r.get("/both", hello);
    r.add(http::method::head, "/both", head_handler);
    serve(r, test_config(), head_route);
}

TEST(router, get_on_a_post_only_path_is_405) {
    http::router r;
    r.post("/only-post", hello);
    serve(r, test_config(), get_and_expect,
          std::string("GET /only-post HTTP/1.1\r\nHost: a\r\n\r\n"), 405,
          std::string("method not allowed\n"));
}

task<> head_405(raw_client& c) {
    co_await c.send(
        "HEAD /only-post HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\n\r\n");
    auto h = co_await c.next(true);
    auto g = co_await c.next();
    EXPECT_TRUE(h && g);
    if (!h || !g) co_return;
    EXPECT_EQ(h->status, 405);
    EXPECT_TRUE(h->body.empty());
    EXPECT_EQ(g->status, 404);
}

TEST(router, head_on_a_post_only_path_is_405_without_a_body) {
    http::router r;
    r.post("/only-post", hello);
    serve(r, test_config(), head_405);
}

}  // namespace

namespace {

task<> allow_lists_methods(raw_client& c) {
    co_await c.send("DELETE /echo HTTP/1.1\r\nHost: a\r\n\r\n");
    auto r = co_await c.next();
    EXPECT_TRUE(r);
    if (!r) co_return;
    EXPECT_EQ(r->status, 405);
    // RFC 9110 section 15.5.6: a 405 response MUST carry Allow with the supported methods.
    auto allow = r->header("Allow");
    EXPECT_TRUE(allow) << r->raw;
    if (!allow) co_return;
    for (std::string_view m : {"GET", "HEAD", "POST", "PUT"})
        EXPECT_NE(allow->find(m), std::string::npos) << "Allow: " << *allow;
    EXPECT_EQ(allow->find("DELETE"), std::string::npos) << "Allow: " << *allow;
}

TEST(router, method_not_allowed_lists_the_allowed_methods) {
    serve(basic_routes(), test_config(), allow_lists_methods);
}

}  // namespace

namespace {

// find(head) matches an origin-form target in place; it must pick what find(method, path())
// picks for every form of target, including queries and routes that can never match.
TEST(router, find_by_head_agrees_with_find_by_path) {
    http::router r;
    r.get("/", hello);
    r.get("/hello", hello);
    r.post("/hello", hello);
    r.get("/hello?x", hello);  // no path has a '?': never matched
    r.get("/a/b", hello);
    r.add(http::method::options, "*", hello);
    r.get("", hello);                         // no path is empty: never matched
    r.add(http::method::put, "/q?x", hello);  // a target's query is not part of its path
    struct probe {
        http::method m;
        std::string_view target;
        int route;  // index of the expected route, -1 for none
        bool known;
    };
    const probe probes[] = {
        {http::method::get, "/", 0, true},
        {http::method::get, "/?", 0, true},
        {http::method::get, "/?q=/hello", 0, true},
        {http::method::get, "/hello", 1, true},
        {http::method::get, "/hello?", 1, true},
        {http::method::get, "/hello?x", 1, true},
        {http::method::get, "/hello??x=1", 1, true},
        {http::method::post, "/hello?y=2", 2, true},
        {http::method::head, "/hello?y=2", 1, true},
        {http::method::put, "/hello?y=2", -1, true},
        {http::method::get, "/hell", -1, false},
        {http::method::get, "/hello2", -1, false},
        {http::method::get, "/hellox?", -1, false},
        {http::method::get, "/hello/", -1, false},
        {http::method::get, "/a/b?c", 4, true},
        {http::method::get, "/a/bc", -1, false},
        {http::method::get, "/a", -1, false},
        {http::method::options, "*", 5, true},
        {http::method::put, "/q?x", -1, false},
        {http::method::put, "/q", -1, false},
        {http::method::get, "http://h/hello?x", 1, true},
        {http::method::get, "http://h", 0, true},
        {http::method::get, "http://h?q", 0, true},
    };
    const std::vector<const http::handler*> routes = [&] {
        std::vector<const http::handler*> v;
        bool ignored = false;
        for (auto [m, path] : {std::pair{http::method::get, "/"},
                               {http::method::get, "/hello"},
                               {http::method::post, "/hello"},
                               {http::method::get, "/hello?x"},
                               {http::method::get, "/a/b"},
                               {http::method::options, "*"}})
            v.push_back(r.find(m, path, ignored));
        return v;
    }();
    for (const probe& p : probes) {
        http::request_head head;
        head.method = p.m;
        head.target = p.target;
        bool known_by_head = false, known_by_path = true;
        const http::handler* by_head = r.find(head, known_by_head);
        const http::handler* by_path = r.find(p.m, head.path(), known_by_path);
        EXPECT_EQ(by_head, by_path) << p.target;
        EXPECT_EQ(known_by_head, known_by_path) << p.target;
        EXPECT_EQ(known_by_head, p.known) << p.target;
        if (p.route < 0) {
            EXPECT_EQ(by_head, nullptr) << p.target;
        } else {
            EXPECT_EQ(by_head, routes[static_cast<std::size_t>(p.route)]) << p.target;
            EXPECT_NE(by_head, nullptr) << p.target;
        }
    }
}

}  // namespace
