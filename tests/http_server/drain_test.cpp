// Graceful drain: an `http_server` on a 2-thread runtime. `runtime::stop()` closes idle
// keep-alive connections at once; a request whose handler is running when stop is requested
// still gets its response, with `Connection: close`.

#include <harness.hpp>

#include <opensocket/runtime.hpp>

#include <atomic>

using namespace opensocket;
using namespace opensocket::http_testing;

namespace {

double ms_since(clock::time_point t) {
    return std::chrono::duration<double, std::milli>(clock::now() - t).count();
}

/// Set by `until_stop` once it runs; the client waits for it before stopping the runtime.
std::atomic<bool> handler_entered{false};
std::atomic<bool> handler_saw_stop{false};
std::atomic<bool> handler_slept_after_stop{false};

task<result<void>> sleep_task(clock::duration d) { co_return co_await sleep_for(d); }

/// Waits (up to 10 s) for the runtime to stop, then does more asynchronous work before
/// answering: the work in progress is not cut short by the drain.
task<http::response> until_stop(http::request&) {
    handler_entered.store(true);
    handler_entered.notify_all();
    std::stop_token stop = executor::current()->stop_token();
    auto woke = co_await sleep_task(10s).with_stop_token(stop);
    handler_saw_stop.store(!woke && woke.error() == std::errc::operation_canceled);
    auto slept = co_await sleep_for(20ms);  // the handler itself is not cancelled
    handler_slept_after_stop.store(static_cast<bool>(slept));
    co_return http::response::text(200, "finished after stop");
}

http::router drain_routes() {
    http::router r = basic_routes();
    r.get("/until-stop", until_stop);
    return r;
}

struct running_server {
    runtime rt{runtime_options{.threads = 2}};
    std::optional<http::http_server> server;

    explicit running_server(http::server_config cfg) {
        auto s = http::http_server::bind(rt, socket_address::loopback_v4(0), drain_routes(), cfg);
        if (!s) throw std::system_error(s.error(), "http_server::bind");
        server.emplace(std::move(*s));
        server->start();
    }
};

task<> idle_then_stop(socket_address addr, runtime& rt, int connections) {
    std::vector<tcp_stream> streams;
    for (int i = 0; i < connections; ++i) {
        auto s = co_await tcp_stream::connect(addr, 5s);
        EXPECT_TRUE(s);
        if (!s) co_return;
        streams.push_back(std::move(*s));
    }
    for (auto& s : streams) {
        raw_client c(s);
        co_await c.send("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
        auto r = co_await c.next();
        EXPECT_TRUE(r);
        if (!r) co_return;
        EXPECT_EQ(r->status, 200);
        EXPECT_FALSE(r->closes());
    }
    // Every connection is now idle (the idle timeout is 5 s).
    const auto start = clock::now();
    rt.stop();
    for (auto& s : streams) {
        raw_client c(s);
        EXPECT_TRUE(co_await c.closed_by_server(clock::now() + 3s)) << c.pending();
        EXPECT_TRUE(c.pending().empty()) << "an idle connection closed on stop sends nothing";
    }
    EXPECT_LT(ms_since(start), 1000) << "idle connections waited for their idle timeout";
}

TEST(drain, stop_closes_idle_keep_alive_connections_at_once) {
    running_server srv(test_config());
    opensocket::testing::run(idle_then_stop(srv.server->local_address(), srv.rt, 8));
    const auto start = clock::now();
    srv.rt.join();
    EXPECT_LT(ms_since(start), 1000);
}

task<> busy_then_stop(socket_address addr, runtime& rt, bool pipelined) {
    auto s = co_await tcp_stream::connect(addr, 5s);
    EXPECT_TRUE(s);
    if (!s) co_return;
    raw_client c(*s);
    std::string req = "GET /until-stop HTTP/1.1\r\nHost: a\r\n\r\n";
    if (pipelined) req += "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n";
    co_await c.send(req);
    // The handler is running (and waiting for the stop): stop the runtime now. This blocks the
    // client's executor, which has nothing else to do meanwhile.
    handler_entered.wait(false);
    rt.stop();
    auto r = co_await c.next();
    EXPECT_TRUE(r);
    if (!r) co_return;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "finished after stop");
    EXPECT_TRUE(r->closes()) << r->raw;
    std::string rest = co_await c.read_to_eof();
    EXPECT_EQ(rest, "") << "a pipelined request was started after stop";
    EXPECT_TRUE(c.saw_eof());
}

void busy_test(bool pipelined) {
    handler_entered = false;
    handler_saw_stop = false;
    handler_slept_after_stop = false;
    running_server srv(test_config());
    opensocket::testing::run(busy_then_stop(srv.server->local_address(), srv.rt, pipelined));
    srv.rt.join();
    EXPECT_TRUE(handler_saw_stop);
    EXPECT_TRUE(handler_slept_after_stop);
}

TEST(drain, request_in_progress_at_stop_gets_its_response_with_connection_close) {
    busy_test(false);
}

TEST(drain, pipelined_request_behind_the_one_in_progress_is_not_started) { busy_test(true); }

task<> connect_after_stop(socket_address addr, runtime& rt) {
    rt.stop();
    // The listeners are closed as the runtime drains: a new connection is refused or closed
    // without an answer.
    auto s = co_await tcp_stream::connect(addr, 2s);
    if (!s) co_return;
    raw_client c(*s);
    std::string req = "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n";
    auto w = co_await s->write_all(req);
    (void)w;
    std::string got = co_await c.read_to_eof(clock::now() + 3s);
    EXPECT_EQ(got, "");
    EXPECT_TRUE(c.saw_eof());
}

TEST(drain, no_new_request_is_answered_after_stop) {
    running_server srv(test_config());
    srv.rt.stop();
    srv.rt.join();
    opensocket::testing::run(connect_after_stop(srv.server->local_address(), srv.rt));
}

}  // namespace
