// Robustness: requests larger than the initial buffers, and clients that go away mid-request.

#include <harness.hpp>

using namespace opensocket;
using namespace opensocket::http_testing;

namespace {

task<http::response> count_headers(http::request& req) {
    http::response r;
    std::size_t bytes = 0;
    for (const http::header& h : req.head.headers) bytes += h.value.size();
    r.body = std::to_string(req.head.headers.size()) + " " + std::to_string(bytes);
    co_return r;
}

task<http::response> slow(http::request&) {
    (void)co_await sleep_for(30ms);
    co_return http::response::text(200, "late");
}

http::router robustness_routes() {
    http::router r = basic_routes();
    r.get("/headers", count_headers);
    r.get("/slow", slow);
    return r;
}

task<> big_heads(raw_client& c, int n) {
    // 50 fields of 1000 bytes: a 50 KB head (limit 64 KiB), three times in one write.
    std::string one = "GET /headers HTTP/1.1\r\nHost: a\r\n";
    for (int i = 0; i < 50; ++i)
        one += "X-Field-" + std::to_string(i) + ": " + std::string(1000, 'v') + "\r\n";
    one += "\r\n";
    std::string all;
    for (int i = 0; i < n; ++i) all += one;
    co_await c.send(all);
    for (int i = 0; i < n; ++i) {
        auto r = co_await c.next();
        EXPECT_TRUE(r);
        if (!r) co_return;
        EXPECT_EQ(r->status, 200) << r->raw.substr(0, 100);
        EXPECT_EQ(r->body, "51 50001");
    }
}

TEST(robustness, heads_larger_than_the_initial_buffer_are_accepted) {
    serve(robustness_routes(), test_config(), big_heads, 3);
}

task<> big_body(raw_client& c, std::size_t size) {
    std::string body(size, '\0');
    for (std::size_t i = 0; i < size; ++i) body[i] = static_cast<char>('a' + i % 23);
    std::string req = "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(size) +
                      "\r\n\r\n" + body + "GET /seq HTTP/1.1\r\nHost: a\r\n\r\n";
    struct writer {
        static task<> run(raw_client& cl, const std::string& bytes) { co_await cl.send(bytes); }
    };
    struct reader {
        static task<> run(raw_client& cl, const std::string& want) {
            auto r = co_await cl.next();
            auto s = co_await cl.next();
            EXPECT_TRUE(r && s);
            if (!r || !s) co_return;
            EXPECT_EQ(r->status, 200);
            EXPECT_TRUE(r->body == "POST /echo\n" + want) << "body of " << want.size() << " bytes";
            EXPECT_EQ(s->body, "2");
        }
    };
    co_await when_all(writer::run(c, req), reader::run(c, body));
}

TEST(robustness, body_just_under_the_default_limit_is_accepted) {
    serve(robustness_routes(), test_config(), big_body, std::size_t{1024 * 1024 - 1});
}

task<> reset_during_handler(raw_client& c) {
    std::string req = "GET /slow HTTP/1.1\r\nHost: a\r\n\r\nGET /slow HTTP/1.1\r\nHost: a\r\n\r\n";
    co_await c.send(req);
    c.stream().abort();  // RST while the handler runs: its response cannot be delivered
}

TEST(robustness, client_reset_during_a_handler_ends_the_connection) {
    const auto start = clock::now();
    serve(robustness_routes(), test_config(), reset_during_handler);
    EXPECT_LT(clock::now() - start, 2s) << "the server kept a reset connection";
}

task<> close_during_handler(raw_client& c) {
    co_await c.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
    c.stream().close();
}

TEST(robustness, client_close_during_a_handler_ends_the_connection) {
    const auto start = clock::now();
    serve(robustness_routes(), test_config(), close_during_handler);
    EXPECT_LT(clock::now() - start, 2s);
}

task<> eof_mid_request(raw_client& c) {
    // A partial head, then the client's FIN: nothing to answer; the server just closes.
    co_await c.send("GET /hello HTTP/1.1\r\nHost:");
    EXPECT_TRUE(c.stream().shutdown_write());
    std::string got = co_await c.read_to_eof();
    EXPECT_EQ(got, "");
    EXPECT_TRUE(c.saw_eof());
}

TEST(robustness, eof_in_the_middle_of_a_head_closes_without_an_answer) {
    serve(robustness_routes(), test_config(), eof_mid_request);
}

task<> eof_mid_body(raw_client& c) {
    co_await c.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n12345");
    EXPECT_TRUE(c.stream().shutdown_write());
    std::string got = co_await c.read_to_eof();
    EXPECT_EQ(got, "");
    EXPECT_TRUE(c.saw_eof());
}

TEST(robustness, eof_in_the_middle_of_a_body_closes_without_an_answer) {
    serve(robustness_routes(), test_config(), eof_mid_body);
}

}  // namespace
