// Accepting: descriptor exhaustion, SO_REUSEPORT per executor, and the hand-off mode.

#include <test_support.hpp>

#include <opensocket/runtime.hpp>
#include <opensocket/sleep.hpp>
#include <opensocket/tcp_server.hpp>

#ifndef _WIN32
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>
#endif
#include <array>
#include <numeric>
#include <vector>

using namespace opensocket;
using namespace opensocket::testing;
using namespace std::chrono_literals;

#ifndef _WIN32
namespace {

/// Uses up every descriptor below a lowered RLIMIT_NOFILE; frees them on request.
class descriptor_hog {
public:
    descriptor_hog() {
        ::getrlimit(RLIMIT_NOFILE, &saved_);
        rlimit low = saved_;
        low.rlim_cur = 256;
        ::setrlimit(RLIMIT_NOFILE, &low);
        for (;;) {
            int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (fd < 0) break;
            fds_.push_back(fd);
        }
    }
    ~descriptor_hog() {
        release();
        ::setrlimit(RLIMIT_NOFILE, &saved_);
    }
    void release() {
        for (int fd : fds_) ::close(fd);
        fds_.clear();
    }
    bool exhausted() const { return !fds_.empty(); }

private:
    rlimit saved_{};
    std::vector<int> fds_;
};

struct emfile_outcome {
    bool accepted = false;
    uint64_t backoffs = 0;
};

task<emfile_outcome> accept_through_emfile() {
    auto l = loopback_listener();
    auto addr = address_of(l);
    // The client socket exists before the table fills, so connecting needs no new descriptor.
    auto client = socket_handle::open(AF_INET, SOCK_STREAM);
    EXPECT_TRUE(client);
    // Attach the listener while descriptors are still free (a timed-out accept does it). This
    // also warms UBSan's vptr cache: its slow path needs a pipe, which EMFILE would deny.
    auto warm = co_await with_timeout(l.accept(), 1ms);
    EXPECT_EQ(warm.error(), std::errc::timed_out);
    auto hog = std::make_unique<descriptor_hog>();
    EXPECT_TRUE(hog->exhausted());
    ::connect(client->get(), addr.native(), addr.native_size());  // EINPROGRESS: handshake runs
    auto freer = [](tcp_listener& lst, descriptor_hog& h) -> task<> {
        // Wait (on timers, not by sleeping the thread) until accept has backed off 3 times.
        while (lst.backoffs() < 3) (void)co_await sleep_for(1ms);
        h.release();
    };
    auto [conn, unused] = co_await when_all(l.accept(), freer(l, *hog));
    (void)unused;
    co_return emfile_outcome{static_cast<bool>(conn), l.backoffs()};
}

}  // namespace
#endif

TEST(accept, backs_off_on_emfile_and_serves_again_when_descriptors_free_up) {
#ifdef _WIN32
    GTEST_SKIP() << "POSIX only: needs RLIMIT_NOFILE to run out of descriptors (Windows has no "
                    "per-process socket limit to lower)";
#else
    auto out = run(accept_through_emfile());
    EXPECT_TRUE(out.accepted);
    // Exponential back-off (1, 2, 4 ms...): a spinning accept loop would retry thousands of times.
    EXPECT_GE(out.backoffs, 3u);
    EXPECT_LE(out.backoffs, 8u);
#endif
}

namespace {

task<> echo(tcp_stream s, executor&) {
    std::array<std::byte, 1024> buf;
    for (;;) {
        auto n = co_await s.read_some(buf);
        if (!n || *n == 0) co_return;
        if (!co_await s.write_all(std::span(buf).first(*n))) co_return;
    }
}

task<int> clients(socket_address addr, int count) {
    int ok = 0;
    for (int i = 0; i < count; ++i) {
        auto c = co_await tcp_stream::connect(addr, 5s);
        if (!c) continue;
        std::array<std::byte, 4> msg{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
        std::array<std::byte, 4> back{};
        if (co_await c->write_all(msg) && co_await c->read_exact(back) && back == msg) ++ok;
    }
    co_return ok;
}

std::vector<uint64_t> serve_and_count(accept_mode mode, int connections) {
    runtime rt({.threads = 2});
    server_options opts;
    opts.mode = mode;
    auto server = tcp_server::bind(rt, socket_address::loopback_v4(0), opts);
    EXPECT_TRUE(server);
    server->start(echo);
    int ok = sync_wait(clients(server->local_address(), connections));
    EXPECT_EQ(ok, connections);
    rt.stop();
    rt.join();
    return server->accept_counts();
}

}  // namespace

TEST(tcp_server, reuse_port_listeners_serve_every_connection) {
    auto counts = serve_and_count(accept_mode::reuse_port, 64);
    ASSERT_EQ(counts.size(), 2u);
    EXPECT_EQ(std::accumulate(counts.begin(), counts.end(), uint64_t{0}), 64u);
}

TEST(tcp_server, handoff_spreads_connections_round_robin) {
    auto counts = serve_and_count(accept_mode::handoff, 64);
    ASSERT_EQ(counts.size(), 2u);
    EXPECT_EQ(counts[0], 32u);
    EXPECT_EQ(counts[1], 32u);
}

TEST(tcp_server, busy_port_is_reported_at_bind) {
    auto taken = loopback_listener();
    runtime rt({.threads = 1});
    listen_options no_reuse;
    no_reuse.reuse_address = false;
    auto server = tcp_server::bind(rt, address_of(taken), {.listen = no_reuse});
    ASSERT_FALSE(server);
    EXPECT_EQ(server.error(), std::errc::address_in_use);
}

TEST(tcp_server, stop_closes_idle_connections_and_drains) {
    runtime rt({.threads = 2});
    auto server = tcp_server::bind(rt, socket_address::loopback_v4(0));
    ASSERT_TRUE(server);
    server->start(echo);
    // An idle client (a plain blocking socket): the server's session parks in read_some.
    auto idle = socket_handle::open(AF_INET, SOCK_STREAM);
    ASSERT_TRUE(idle);
    ASSERT_FALSE(detail::set_blocking(idle->get(), true));
    const auto& addr = server->local_address();
    ASSERT_EQ(::connect(idle->get(), addr.native(), addr.native_size()), 0);
    // One echoed byte proves the session is running (accepted, now parked in read_some).
    char c = 'x';
    ASSERT_EQ(::send(idle->get(), &c, 1, 0), 1);
    ASSERT_EQ(::recv(idle->get(), &c, 1, 0), 1);
    rt.stop();
    rt.join();  // returns only once every session and accept loop has ended
    // The server closed its end: the client reads EOF.
    EXPECT_EQ(::recv(idle->get(), &c, 1, 0), 0);
}

namespace {

/// The accepted stream knows its peer: the connecting side's own address (the accept itself
/// asks the kernel for no address; peer_address() reads it when wanted).
task<bool> accepted_stream_reports_its_peer() {
    auto pair = co_await connected_pair();
    EXPECT_TRUE(pair);
    if (!pair) co_return false;
    auto peer = pair->server.peer_address();
    auto client_side = pair->client.local_address();
    EXPECT_TRUE(peer && client_side);
    if (!peer || !client_side) co_return false;
    EXPECT_EQ(peer->to_string(), client_side->to_string());
    co_return peer->to_string() == client_side->to_string();
}

}  // namespace

TEST(accept, accepted_stream_reports_the_connecting_sides_address) {
    EXPECT_TRUE(run(accepted_stream_reports_its_peer()));
}
