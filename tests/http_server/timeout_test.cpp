// Timeouts, with tiny values: the head deadline (slowloris) and the body deadline answer 408 and
// close; the idle keep-alive timeout closes silently; the write timeout drops a client that does
// not read. Clients that pause (sleep_for) are paced clients: the pauses are the behaviour under
// test, never a way to wait for the server.

#include <harness.hpp>

using namespace opensocket;
using namespace opensocket::http_testing;

namespace {

http::server_config fast_timeouts() {
    http::server_config cfg = test_config();
    cfg.head_timeout = 150ms;
    cfg.idle_timeout = 100ms;
    cfg.body_timeout = 150ms;
    cfg.write_timeout = 200ms;
    return cfg;
}

double ms_since(clock::time_point t) {
    return std::chrono::duration<double, std::milli>(clock::now() - t).count();
}

/// Sends `bytes` one at a time, `gap` apart, until `stop` or a write fails.
task<> trickle_bytes(tcp_stream& s, std::string bytes, clock::duration gap, const bool& stop) {
    for (std::size_t i = 0; i < bytes.size() && !stop; ++i) {
        auto w = co_await s.write_all(std::string_view(bytes).substr(i, 1));
        if (!w) co_return;
        (void)co_await sleep_for(gap);
    }
}

struct timed_408 {
    bool got = false;
    bool closed = false;
    double after_ms = 0;
};

task<> expect_408(raw_client& c, clock::time_point start, timed_408& out, bool& stop) {
    auto r = co_await c.next();
    out.after_ms = ms_since(start);
    EXPECT_TRUE(r);
    if (r) {
        out.got = r->status == 408;
        EXPECT_EQ(r->status, 408) << r->raw;
        EXPECT_EQ(r->reason, "Request Timeout");
        EXPECT_TRUE(r->closes());
        out.closed = co_await c.closed_by_server();
    }
    stop = true;
}

task<> slowloris(raw_client& c) {
    // A head that is never finished: one byte every 20 ms, forever.
    std::string endless = "GET /hello HTTP/1.1\r\nHost: a\r\nX-Slow: " + std::string(10'000, 's');
    bool stop = false;
    timed_408 result;
    const auto start = clock::now();
    co_await when_all(trickle_bytes(c.stream(), std::move(endless), 20ms, stop),
                      expect_408(c, start, result, stop));
    EXPECT_TRUE(result.got);
    EXPECT_TRUE(result.closed);
    EXPECT_GE(result.after_ms, 140) << "408 before the head deadline";
    EXPECT_LT(result.after_ms, 2000);
}

TEST(timeouts, slowloris_head_gets_408_at_the_head_deadline_and_closes) {
    serve(basic_routes(), fast_timeouts(), slowloris);
}

task<> idle(raw_client& c) {
    co_await c.send("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
    auto r = co_await c.next();
    EXPECT_TRUE(r && r->status == 200);
    const auto start = clock::now();
    EXPECT_TRUE(co_await c.closed_by_server(clock::now() + 3s)) << c.pending();
    double after = ms_since(start);
    EXPECT_GE(after, 90) << "closed before the idle timeout";
    EXPECT_LT(after, 2000);
    EXPECT_TRUE(c.pending().empty()) << "an idle close sends nothing: " << c.pending();
}

TEST(timeouts, idle_keep_alive_connection_is_closed_silently) {
    serve(basic_routes(), fast_timeouts(), idle);
}

task<> idle_before_first_request(raw_client& c) {
    const auto start = clock::now();
    EXPECT_TRUE(co_await c.closed_by_server(clock::now() + 3s));
    EXPECT_GE(ms_since(start), 90);
    EXPECT_TRUE(c.pending().empty());
}

TEST(timeouts, connection_that_never_sends_is_closed_at_the_idle_timeout) {
    serve(basic_routes(), fast_timeouts(), idle_before_first_request);
}

task<> pause_shorter_than_idle(raw_client& c) {
    // Idle for longer than the head timeout but less than the idle timeout: still open.
    for (int i = 1; i <= 3; ++i) {
        co_await c.send("GET /seq HTTP/1.1\r\nHost: a\r\n\r\n");
        auto r = co_await c.next();
        EXPECT_TRUE(r);
        if (!r) co_return;
        EXPECT_EQ(r->body, std::to_string(i));
        (void)co_await sleep_for(150ms);
    }
}

TEST(timeouts, head_timeout_does_not_apply_while_idle) {
    http::server_config cfg = fast_timeouts();
    cfg.head_timeout = 100ms;
    cfg.idle_timeout = 2s;
    serve(basic_routes(), cfg, pause_shorter_than_idle);
}

task<> stalled_body(raw_client& c) {
    co_await c.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789");
    const auto start = clock::now();
    auto r = co_await c.next();
    double after = ms_since(start);
    EXPECT_TRUE(r);
    if (!r) co_return;
    EXPECT_EQ(r->status, 408);
    EXPECT_TRUE(r->closes());
    EXPECT_GE(after, 140);
    EXPECT_LT(after, 2000);
    EXPECT_TRUE(co_await c.closed_by_server());
}

TEST(timeouts, stalled_body_gets_408_and_closes) {
    serve(basic_routes(), fast_timeouts(), stalled_body);
}

task<> slow_body(raw_client& c) {
    // Every byte arrives promptly, but the whole body takes longer than the body timeout.
    co_await c.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n");
    bool stop = false;
    timed_408 result;
    co_await when_all(trickle_bytes(c.stream(), std::string(1000, 'b'), 20ms, stop),
                      expect_408(c, clock::now(), result, stop));
    EXPECT_TRUE(result.got);
    EXPECT_TRUE(result.closed);
    EXPECT_GE(result.after_ms, 140);
}

TEST(timeouts, trickled_body_gets_408_at_the_body_deadline) {
    serve(basic_routes(), fast_timeouts(), slow_body);
}

task<> chunked_stall(raw_client& c) {
    co_await c.send(
        "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
    auto r = co_await c.next();
    EXPECT_TRUE(r);
    if (!r) co_return;
    EXPECT_EQ(r->status, 408);
    EXPECT_TRUE(co_await c.closed_by_server());
}

TEST(timeouts, stalled_chunked_body_gets_408) {
    serve(basic_routes(), fast_timeouts(), chunked_stall);
}

// ---- The head deadline is per request ------------------------------------------------------

task<> paced_pipeline(raw_client& c, int n) {
    // Each request's head arrives in two halves 100 ms apart (well within the 300 ms head
    // timeout), and the first half of the next request always travels with the end of the
    // previous one: the connection never goes idle, and the whole exchange takes 600 ms.
    std::string all;
    for (int i = 0; i < n; ++i) all += "GET /seq HTTP/1.1\r\nHost: a\r\n\r\n";
    const std::size_t one = all.size() / static_cast<std::size_t>(n);
    std::string first = all.substr(0, one + one / 2);
    co_await c.send(first);
    for (int i = 1; i <= n; ++i) {
        auto r = co_await c.next();
        EXPECT_TRUE(r) << "request " << i;
        if (!r) co_return;
        EXPECT_EQ(r->status, 200) << "request " << i
                                  << " (its head took 100 ms of 300): " << r->raw;
        EXPECT_EQ(r->body, std::to_string(i));
        if (r->status != 200) co_return;
        if (i == n) break;
        (void)co_await sleep_for(100ms);
        std::size_t from = one * static_cast<std::size_t>(i) + one / 2;
        std::size_t to = std::min(all.size(), from + one);
        std::string piece = all.substr(from, to - from);
        co_await c.send(piece);
    }
}

TEST(timeouts, head_deadline_is_per_request_not_per_burst_of_pipelined_requests) {
    http::server_config cfg = fast_timeouts();
    cfg.head_timeout = 300ms;
    serve(basic_routes(), cfg, paced_pipeline, 7);
}

task<http::response> slow_handler(http::request&) {
    (void)co_await sleep_for(250ms);
    co_return http::response::text(200, "slow");
}

task<> behind_a_slow_handler(raw_client& c) {
    // The next request's head starts arriving while a slow handler runs; its remaining bytes
    // are sent as soon as the slow response is read. The handler's time is not the client's.
    co_await c.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\nGET /hello HTTP/1.1\r\nHo");
    auto slow = co_await c.next();
    EXPECT_TRUE(slow && slow->status == 200);
    co_await c.send("st: a\r\n\r\n");
    auto r = co_await c.next();
    EXPECT_TRUE(r);
    if (!r) co_return;
    EXPECT_EQ(r->status, 200) << r->raw;
    EXPECT_EQ(r->body, "Hello, World!");
}

TEST(timeouts, head_deadline_does_not_count_the_previous_handlers_time) {
    http::router routes = basic_routes();
    routes.get("/slow", slow_handler);
    serve(routes, fast_timeouts(), behind_a_slow_handler);
}

// ---- Write timeout ---------------------------------------------------------------------------

const std::string& huge_body() {
    static const std::string body(64u << 20, 'w');
    return body;
}

task<http::response> huge(http::request&) {
    http::response r;
    r.static_body = huge_body();
    co_return r;
}

task<> serve_and_flag(tcp_stream s, const http::router& routes, const http::server_config& cfg,
                      bool& done, clock::time_point& when) {
    co_await http::serve_connection(std::move(s), routes, cfg);
    done = true;
    when = clock::now();
}

task<> never_reads(tcp_stream& c, const bool& done, clock::time_point& start, std::size_t& got,
                   bool& ended) {
    const std::string_view req = "GET /huge HTTP/1.1\r\nHost: a\r\n\r\n";
    auto w = co_await c.write_all(req);
    EXPECT_TRUE(w);
    start = clock::now();
    // Not reading is the behaviour under test; the flag is polled only to bound the test.
    for (auto limit = clock::now() + 5s; !done && clock::now() < limit;)
        (void)co_await sleep_for(10ms);
    EXPECT_TRUE(done) << "the server kept a connection whose client does not read";
    std::array<std::byte, 64 * 1024> buf;
    for (;;) {
        auto n = co_await c.read_some(buf).before(clock::now() + client_patience);
        if (!n || *n == 0) {
            ended = !n ? n.error() != std::errc::timed_out : true;
            break;
        }
        got += *n;
    }
    c.close();
}

task<> write_timeout_test(const http::router& routes, const http::server_config& cfg) {
    auto pair = co_await opensocket::testing::connected_pair();
    EXPECT_TRUE(pair);
    if (!pair) co_return;
    bool done = false;
    clock::time_point start, finished;
    std::size_t got = 0;
    bool ended = false;
    co_await when_all(serve_and_flag(std::move(pair->server), routes, cfg, done, finished),
                      never_reads(pair->client, done, start, got, ended));
    EXPECT_TRUE(ended);
    EXPECT_LT(got, huge_body().size()) << "the whole response was delivered";
    double after = std::chrono::duration<double, std::milli>(finished - start).count();
    EXPECT_GE(after, 190) << "closed before the write timeout";
    EXPECT_LT(after, 3000);
}

TEST(timeouts, client_that_does_not_read_is_dropped_at_the_write_timeout) {
    http::router routes = basic_routes();
    routes.get("/huge", huge);
    opensocket::testing::run(write_timeout_test(routes, fast_timeouts()));
}

}  // namespace
