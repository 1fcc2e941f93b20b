// The io_uring engine's read-ahead (tcp_stream::read_ahead): plain reads ride the descriptor's
// multishot recv. One arm serves a whole request/response conversation; a dry buffer ring sends
// reads to their own recv SQEs without losing a byte; a cancel racing a read completes it exactly
// once and the byte that raced it is read next. The behaviour every engine shares is in
// read_ahead_test.cpp. Skips where io_uring, multishot recv or buffer rings are missing.

#include <test_support.hpp>

#ifdef OPENSOCKET_HAVE_URING
#include "uring_rig.hpp"

#include <opensocket/spawn.hpp>
#include <opensocket/when_all.hpp>

#include <sys/socket.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace opensocket;
using namespace opensocket::testing;

namespace {

/// Non-blocking AF_UNIX stream pairs; the server side reads ahead.
std::vector<stream_pair> read_ahead_pairs(std::size_t n) {
    std::vector<stream_pair> out;
    for (std::size_t i = 0; i < n; ++i) {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0)
            throw std::system_error(errno, std::generic_category(), "socketpair");
        out.push_back({tcp_stream(socket_handle(fds[0])), tcp_stream(socket_handle(fds[1]))});
        out.back().server.read_ahead();
    }
    return out;
}

std::byte byte_of(std::size_t stream, std::size_t i) { return pattern_byte(stream * 4099 + i); }

}  // namespace

TEST(uring_engine, read_ahead_serves_a_conversation_with_one_multishot_recv) {
    SKIP_WITHOUT_URING();
    uring_rig rig;
    SKIP_WITHOUT_MULTISHOT_RECV(*rig.eng);
    constexpr int rounds = 500;
    int answered = 0;
    rig.run([&]() -> task<> {
        auto pairs = read_ahead_pairs(1);
        auto server = [](tcp_stream& s) -> task<> {
            std::array<char, 64> buf{};
            for (;;) {
                if (!co_await s.wait_readable()) co_return;
                auto n = co_await s.read_some(std::as_writable_bytes(std::span(buf)));
                if (!n || *n == 0) co_return;
                if (!co_await s.write_all(std::string_view(buf.data(), *n))) co_return;
            }
        };
        auto client = [&answered](tcp_stream& c) -> task<> {
            for (int i = 0; i < rounds; ++i) {
                const std::string ask = "ping " + std::to_string(i);
                if (!co_await c.write_all(ask)) break;
                std::string got(ask.size(), '\0');
                auto n = co_await c.read_exact(std::as_writable_bytes(std::span(got)));
                EXPECT_TRUE(n && got == ask) << "round " << i;
                if (!n || got != ask) break;
                ++answered;
            }
            c.close();
        };
        co_await when_all(server(pairs[0].server), client(pairs[0].client));
    }());
    EXPECT_EQ(answered, rounds);
    const auto& st = rig.eng->stats();
    // Armed by the first wait and never stopped: no poll, no recv SQE per round.
    EXPECT_EQ(st.recv_arms, 1u);
    EXPECT_EQ(st.cancels, 0u);
    EXPECT_EQ(st.ring_buffers_out, 0u);  // every buffer went back once copied out
}

TEST(uring_engine, read_ahead_with_a_dry_buffer_ring_loses_no_byte) {
    SKIP_WITHOUT_URING();
    // 4 buffers of 64 bytes for 48 streams: what arrives while nobody reads fills the ring, the
    // multishot recvs end with -ENOBUFS, and reads fall back to their own recv SQEs.
    uring_rig rig({.lent_buffers = 4, .lent_buffer_size = 64, .lent_readahead = 2});
    SKIP_WITHOUT_MULTISHOT_RECV(*rig.eng);
    constexpr std::size_t streams = 48, per_stream = 3000;
    std::size_t bad = 0, done = 0;
    rig.run([&]() -> task<> {
        auto pairs = read_ahead_pairs(streams);
        task_scope scope;
        for (std::size_t i = 0; i < streams; ++i)
            scope.spawn([](tcp_stream& s, std::size_t id, std::size_t& n_bad,
                           std::size_t& n_done) -> task<> {
                std::mt19937 rng(static_cast<unsigned>(id));
                std::vector<std::byte> buf(200);
                std::size_t got = 0;
                while (got < per_stream) {
                    if (rng() % 4 == 0 && !co_await s.wait_readable()) break;
                    const std::size_t want =
                        std::min<std::size_t>(per_stream - got, 1 + rng() % buf.size());
                    auto span = std::span(buf).first(want);
                    auto n =
                        rng() % 2 == 0 ? co_await s.read_exact(span) : co_await s.read_some(span);
                    EXPECT_TRUE(n) << n.error().message();
                    if (!n || *n == 0) break;
                    for (std::size_t k = 0; k < *n; ++k)
                        if (buf[k] != byte_of(id, got++)) ++n_bad;
                }
                if (got == per_stream) ++n_done;
            }(pairs[i].server, i, bad, done));
        for (std::size_t i = 0; i < streams; ++i)
            scope.spawn([](tcp_stream& c, std::size_t id) -> task<> {
                std::mt19937 rng(static_cast<unsigned>(id) + 1000);
                std::vector<std::byte> chunk;
                for (std::size_t sent = 0; sent < per_stream;) {
                    const std::size_t n = std::min<std::size_t>(per_stream - sent, 1 + rng() % 300);
                    chunk.resize(n);
                    for (std::size_t k = 0; k < n; ++k) chunk[k] = byte_of(id, sent + k);
                    if (!co_await c.write_all(chunk)) co_return;
                    sent += n;
                }
            }(pairs[i].client, i));
        co_await scope.join();
    }());
    EXPECT_EQ(done, streams);
    EXPECT_EQ(bad, 0u);
    const auto& st = rig.eng->stats();
    EXPECT_GT(st.ring_dry, 0u);
    EXPECT_EQ(st.ring_buffers_out, 0u);
    RecordProperty("ring_dry", static_cast<int>(st.ring_dry));
    RecordProperty("recv_arms", static_cast<int>(st.recv_arms));
}

TEST(uring_engine, cancel_racing_an_ahead_read_completes_once_and_loses_no_byte) {
    SKIP_WITHOUT_URING();
    raw_rig rig;
    SKIP_WITHOUT_MULTISHOT_RECV(rig.engine());
    std::mt19937 rng(4242);
    long canceled = 0, completed = 0;
    const auto start_ahead = [&](raw_op& o, io_token t, int fd) {
        o.op.ahead = true;
        return rig.start(o, io_kind::recv, t, fd, 8);
    };
    for (int i = 0; i < 1000; ++i) {
        unix_pair sp;
        auto t = rig.engine().attach(sp.mine);
        ASSERT_TRUE(t);
        raw_op o;
        ASSERT_FALSE(start_ahead(o, *t, sp.mine));
        const auto value = static_cast<std::byte>(i & 0xff);
        switch (i % 4) {
            case 0:  // cancelled before the multishot recv left, data after
                rig.engine().cancel(o.op);
                sp.peer_writes(value);
                break;
            case 1:  // armed in the kernel, data, then the cancel in the same turn
                rig.turn();
                sp.peer_writes(value);
                rig.engine().cancel(o.op);
                break;
            case 2: {  // data from another thread while the cancel is asked
                rig.turn();
                std::thread writer([&] { sp.peer_writes(value); });
                spin_briefly(rng() % 2000);
                rig.engine().cancel(o.op);
                rig.turn();
                writer.join();
                break;
            }
            case 3:  // completed first; a late cancel changes nothing
                rig.turn();
                sp.peer_writes(value);
                rig.settle([&] { return o.resumed > 0; });
                rig.engine().cancel(o.op);
                break;
        }
        rig.settle([&] { return o.resumed > 0; });
        ASSERT_EQ(o.resumed, 1) << "iteration " << i;
        if (o.op.res == -ECANCELED) {
            ++canceled;
            raw_op next;  // the byte lost the race, not its place
            if (!start_ahead(next, *t, sp.mine)) rig.settle([&] { return next.resumed > 0; });
            ASSERT_EQ(next.op.res, 1) << "iteration " << i;
            EXPECT_EQ(next.buf[0], value);
        } else {
            ++completed;
            ASSERT_EQ(o.op.res, 1) << "iteration " << i;
            EXPECT_EQ(o.buf[0], value);
        }
        rig.engine().detach(*t);
        rig.turn();
    }
    EXPECT_GT(canceled, 0);
    EXPECT_GT(completed, 0);
    EXPECT_EQ(rig.engine().stats().ring_buffers_out, 0u);
    RecordProperty("canceled", static_cast<int>(canceled));
    RecordProperty("completed", static_cast<int>(completed));
}

#endif  // OPENSOCKET_HAVE_URING
