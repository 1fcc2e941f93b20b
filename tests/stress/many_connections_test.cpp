// A thousand concurrent connections to a tcp_server on a two-executor runtime: every one is
// echoed byte for byte, and every one is counted in accept_counts().

#include "stress_support.hpp"

#include <test_support.hpp>

#include <opensocket/runtime.hpp>
#include <opensocket/sleep.hpp>
#include <opensocket/tcp_server.hpp>
#include <opensocket/when_all.hpp>

#ifndef _WIN32
#include <sys/resource.h>
#endif
#include <array>
#include <numeric>
#include <vector>

using namespace opensocket;
using namespace opensocket::testing;
using namespace std::chrono_literals;

namespace {

// select() on POSIX watches only fds below FD_SETSIZE (1024 on glibc), and both ends of every
// connection live in this process: on the select engine, 400 connections (~800 descriptors).
// Windows' select counts sockets instead (FD_SETSIZE=4096 in this build): the full thousand.
const std::size_t connections = [] {
#ifndef _WIN32
    if (engine_under_test() == "select") return std::size_t{400};
#endif
    return std::size_t{1000};
}();
constexpr std::size_t message_size = 3000;  // odd-sized, more than one segment on small MTUs
constexpr int rounds = 3;

#ifdef _WIN32
using rlim_t = std::size_t;
/// Windows has no per-process descriptor limit to raise (sockets are handles).
rlim_t raise_descriptor_limit() { return ~rlim_t{0}; }
#else
/// Raises the soft descriptor limit to the hard one; returns the resulting soft limit.
rlim_t raise_descriptor_limit() {
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
    if (lim.rlim_cur < lim.rlim_max) {
        rlimit raised = lim;
        raised.rlim_cur = lim.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
    }
    return lim.rlim_cur;
}
#endif

task<> echo_session(tcp_stream s, executor&) {
    std::array<std::byte, 4096> buf;
    for (;;) {
        auto n = co_await s.read_some(buf);
        if (!n || *n == 0) co_return;
        if (!co_await s.write_all(std::span(buf).first(*n))) co_return;
    }
}

std::byte message_byte(std::size_t conn, int round, std::size_t i) {
    return pattern_byte(conn * 7919 + static_cast<std::size_t>(round) * 104729 + i);
}

struct client_outcome {
    bool connected = false;
    int verified_rounds = 0;
    std::string error;
};

task<result<tcp_stream>> connect_one(socket_address server) {
    co_return co_await tcp_stream::connect(server, 30s);
}

/// `rounds` times: sends a message unique to (conn, round) and checks the echo.
task<> echo_rounds(tcp_stream& s, std::size_t conn, client_outcome& out) {
    std::vector<std::byte> msg(message_size);
    std::vector<std::byte> back(message_size);
    for (int round = 0; round < rounds; ++round) {
        for (std::size_t i = 0; i < message_size; ++i) msg[i] = message_byte(conn, round, i);
        auto w = co_await s.write_all(msg);
        auto r = co_await with_timeout(s.read_exact(back), 30s);
        if (!w || !r) {
            out.error = "round " + std::to_string(round) + ": " +
                        (!w ? w.error().message() : r.error().message());
            co_return;
        }
        if (back != msg) {
            out.error = "round " + std::to_string(round) + ": echo differs";
            co_return;
        }
        ++out.verified_rounds;
    }
}

/// Connects every client first (so all connections are open at once), then runs the echo
/// rounds on all of them concurrently.
task<std::vector<client_outcome>> all_clients(socket_address server) {
    std::vector<client_outcome> out(connections);
    std::vector<task<result<tcp_stream>>> connects;
    for (std::size_t i = 0; i < connections; ++i) connects.push_back(connect_one(server));
    auto streams = co_await when_all(std::move(connects));
    std::vector<task<>> sessions;
    for (std::size_t i = 0; i < connections; ++i) {
        if (!streams[i]) {
            out[i].error = "connect: " + streams[i].error().message();
            continue;
        }
        out[i].connected = true;
        sessions.push_back(echo_rounds(*streams[i], i, out[i]));
    }
    co_await when_all(std::move(sessions));
    co_return out;
}

void serve_a_thousand(accept_mode mode) {
    // Two descriptors per connection (both ends live in this process), plus slack.
    const rlim_t need = connections * 2 + 64;
    if (rlim_t have = raise_descriptor_limit(); have < need)
        GTEST_SKIP() << "RLIMIT_NOFILE hard limit " << have << " < " << need << " descriptors";

    runtime rt({.threads = 2});
    server_options opts;
    opts.mode = mode;
    auto server = tcp_server::bind(rt, socket_address::loopback_v4(0), opts);
    ASSERT_TRUE(server) << server.error().message();
    server->start(echo_session);

    watchdog guard(std::chrono::seconds(scaled(30, 100)), "a thousand connections");
    auto outcomes = run(all_clients(server->local_address()));
    rt.stop();
    rt.join();

    std::size_t ok = 0;
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
        const auto& o = outcomes[i];
        if (o.connected && o.verified_rounds == rounds)
            ++ok;
        else
            ADD_FAILURE() << "connection " << i << ": " << o.error;
        if (ok + 10 < i) break;  // enough said
    }
    EXPECT_EQ(ok, connections);
    auto counts = server->accept_counts();
    ASSERT_EQ(counts.size(), 2u);
    EXPECT_EQ(std::accumulate(counts.begin(), counts.end(), uint64_t{0}), connections);
    if (mode == accept_mode::handoff) {
        EXPECT_EQ(counts[0], connections / 2);
        EXPECT_EQ(counts[1], connections / 2);
    }
    ::testing::Test::RecordProperty("executor0", std::to_string(counts[0]));
    ::testing::Test::RecordProperty("executor1", std::to_string(counts[1]));
}

}  // namespace

TEST(stress_many_connections, thousand_concurrent_echoes_with_reuse_port_listeners) {
    serve_a_thousand(accept_mode::reuse_port);
}

TEST(stress_many_connections, thousand_concurrent_echoes_with_handoff) {
    serve_a_thousand(accept_mode::handoff);
}
