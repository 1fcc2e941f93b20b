// The io_uring engine's recv_lent: multishot recv into a provided-buffer ring. A tiny ring under
// many connections that hold their buffers (the ring runs dry: -ENOBUFS falls back to a plain
// recv, nothing is lost), idle reads pinning no buffer, cancel racing completion exactly once,
// the read-ahead bound, detach giving kept buffers back, and the path without a buffer ring.
// The generic read_lent suite (read_lent_test.cpp) runs on this engine through
// OPENSOCKET_ENGINE=uring. Skips where io_uring, multishot recv or buffer rings are missing.

#include <test_support.hpp>

#ifdef OPENSOCKET_HAVE_URING
#include "uring_rig.hpp"

#include <opensocket/lent_buffer.hpp>
#include <opensocket/spawn.hpp>
#include <opensocket/when_all.hpp>

#include <sys/socket.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <random>
#include <thread>
#include <vector>

using namespace opensocket;
using namespace opensocket::testing;

namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int race_iterations = 400;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr int race_iterations = 400;
#else
constexpr int race_iterations = 2000;
#endif
#else
constexpr int race_iterations = 2000;
#endif

/// Non-blocking AF_UNIX stream pairs wrapped as streams.
std::vector<stream_pair> stream_pairs(std::size_t n) {
    std::vector<stream_pair> out;
    for (std::size_t i = 0; i < n; ++i) {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0)
            throw std::system_error(errno, std::generic_category(), "socketpair");
        out.push_back({tcp_stream(socket_handle(fds[0])), tcp_stream(socket_handle(fds[1]))});
    }
    return out;
}

std::byte byte_of(std::size_t stream, std::size_t i) { return pattern_byte(stream * 7919 + i); }

task<> write_stream(tcp_stream& s, std::size_t id, std::size_t total, unsigned seed) {
    std::mt19937 rng(seed);
    std::vector<std::byte> chunk;
    for (std::size_t sent = 0; sent < total;) {
        const std::size_t n = std::min<std::size_t>(total - sent, 1 + rng() % 300);
        chunk.resize(n);
        for (std::size_t i = 0; i < n; ++i) chunk[i] = byte_of(id, sent + i);
        auto r = co_await s.write_all(chunk);
        EXPECT_TRUE(r) << r.error().message();
        if (!r) co_return;
        sent += n;
    }
}

/// Reads `total` bytes with read_lent and keeps every buffer until `all_done` reaches `streams`.
task<> read_and_hold(tcp_stream& s, std::size_t id, std::size_t total, std::size_t& bad,
                     std::size_t& all_done, std::vector<lent_buffer>& held) {
    std::size_t got = 0;
    while (got < total) {
        auto b = co_await s.read_lent();
        EXPECT_TRUE(b) << b.error().message();
        if (!b || b->empty()) break;
        for (std::byte x : b->bytes())
            if (x != byte_of(id, got++)) ++bad;
        held.push_back(std::move(*b));
    }
    EXPECT_EQ(got, total) << "stream " << id;
    ++all_done;
}

/// Releases a raw recv_lent's buffer, if it lent one.
void give_back(raw_rig& rig, raw_op& o) {
    if (o.op.res > 0) rig.engine().release(o.op.buf, o.op.done);
}

}  // namespace

TEST(uring_engine, tiny_buffer_ring_under_many_held_reads_loses_no_byte) {
    SKIP_WITHOUT_URING();
    uring_rig rig({.lent_buffers = 4, .lent_buffer_size = 64, .lent_readahead = 2});
    SKIP_WITHOUT_MULTISHOT_RECV(*rig.eng);
    constexpr std::size_t streams = 64, per_stream = 2000;
    std::size_t bad = 0, done = 0;
    rig.run([&]() -> task<> {
        auto pairs = stream_pairs(streams);
        // Every reader holds all it was lent until the end: 4 ring buffers cannot serve 64
        // connections, so the ring runs dry again and again.
        std::vector<std::vector<lent_buffer>> held(streams);
        task_scope scope;
        for (std::size_t i = 0; i < streams; ++i)
            scope.spawn(read_and_hold(pairs[i].server, i, per_stream, bad, done, held[i]));
        for (std::size_t i = 0; i < streams; ++i)
            scope.spawn(write_stream(pairs[i].client, i, per_stream, static_cast<unsigned>(i)));
        co_await scope.join();
        held.clear();
    }());
    EXPECT_EQ(done, streams);
    EXPECT_EQ(bad, 0u);
    const auto& st = rig.eng->stats();
    EXPECT_GT(st.ring_dry, 0u);
    EXPECT_GT(st.lent_fallbacks, 0u);
    EXPECT_EQ(st.ring_buffers_out, 0u);  // every ring buffer went back
    RecordProperty("ring_dry", static_cast<int>(st.ring_dry));
    RecordProperty("lent_fallbacks", static_cast<int>(st.lent_fallbacks));
    RecordProperty("recv_arms", static_cast<int>(st.recv_arms));
}

TEST(uring_engine, tiny_completion_queue_ends_multishot_recvs_without_losing_data) {
    SKIP_WITHOUT_URING();
    // An 8-entry CQ: a multishot recv whose CQE does not fit ends (no IORING_CQE_F_MORE), and
    // the overflow list holds the rest; the engine re-arms and every byte still arrives.
    uring_rig rig({.entries = 4, .cq_entries = 8, .lent_buffers = 64, .lent_buffer_size = 128});
    SKIP_WITHOUT_MULTISHOT_RECV(*rig.eng);
    constexpr std::size_t streams = 64, per_stream = 4000;
    std::size_t bad = 0, done = 0;
    rig.run([&]() -> task<> {
        auto pairs = stream_pairs(streams);
        std::vector<std::vector<lent_buffer>> held(streams);  // released as soon as read
        task_scope scope;
        for (std::size_t i = 0; i < streams; ++i)
            scope.spawn([](tcp_stream& s, std::size_t id, std::size_t& n_bad,
                           std::size_t& n_done) -> task<> {
                std::size_t got = 0;
                while (got < per_stream) {
                    auto b = co_await s.read_lent();
                    EXPECT_TRUE(b) << b.error().message();
                    if (!b || b->empty()) break;
                    for (std::byte x : b->bytes())
                        if (x != byte_of(id, got++)) ++n_bad;
                }
                if (got == per_stream) ++n_done;
            }(pairs[i].server, i, bad, done));
        for (std::size_t i = 0; i < streams; ++i)
            scope.spawn(write_stream(pairs[i].client, i, per_stream, static_cast<unsigned>(i)));
        co_await scope.join();
    }());
    EXPECT_EQ(done, streams);
    EXPECT_EQ(bad, 0u);
    const auto& st = rig.eng->stats();
    EXPECT_GT(st.overflow_flushes, 0u);
    EXPECT_EQ(st.ring_buffers_out, 0u);
    RecordProperty("overflow_flushes", static_cast<int>(st.overflow_flushes));
    RecordProperty("recv_arms", static_cast<int>(st.recv_arms));
}

TEST(uring_engine, idle_lent_reads_pin_no_buffer) {
    SKIP_WITHOUT_URING();
    uring_rig rig;
    SKIP_WITHOUT_MULTISHOT_RECV(*rig.eng);
    constexpr std::size_t streams = 100;
    std::size_t ok = 0;
    uint64_t out_while_idle = ~uint64_t{0}, arms_while_idle = 0;
    rig.run([&]() -> task<> {
        auto pairs = stream_pairs(streams);
        task_scope scope;
        for (std::size_t i = 0; i < streams; ++i)
            scope.spawn([](tcp_stream& s, std::byte want, std::size_t& n) -> task<> {
                auto b = co_await s.read_lent();
                if (b && b->size() == 1 && b->bytes()[0] == want) ++n;
            }(pairs[i].server, byte_of(i, 0), ok));
        // Spawned last: it runs once every read is parked (each with its multishot recv).
        scope.spawn([](std::vector<stream_pair>& ps, uring_engine& eng, uint64_t& out,
                       uint64_t& arms) -> task<> {
            out = eng.stats().ring_buffers_out;
            arms = eng.stats().recv_arms;
            for (std::size_t i = 0; i < ps.size(); ++i) {
                const std::byte v = byte_of(i, 0);
                EXPECT_TRUE(co_await ps[i].client.write_all(std::span(&v, 1)));
            }
        }(pairs, *rig.eng, out_while_idle, arms_while_idle));
        co_await scope.join();
    }());
    EXPECT_EQ(ok, streams);
    EXPECT_EQ(arms_while_idle, streams);
    EXPECT_EQ(out_while_idle, 0u);
    EXPECT_EQ(rig.eng->stats().ring_buffers_out, 0u);
}

TEST(uring_engine, cancel_racing_a_lent_read_completes_once_and_loses_no_byte) {
    SKIP_WITHOUT_URING();
    raw_rig rig;
    SKIP_WITHOUT_MULTISHOT_RECV(rig.engine());
    std::mt19937 rng(777);
    long canceled = 0, completed = 0;
    for (int i = 0; i < race_iterations; ++i) {
        unix_pair sp;
        auto t = rig.engine().attach(sp.mine);
        ASSERT_TRUE(t);
        raw_op o;
        ASSERT_FALSE(rig.start(o, io_kind::recv_lent, *t, sp.mine, 0));
        const auto value = static_cast<std::byte>(i & 0xff);
        switch (i % 4) {
            case 0:  // cancelled before its SQE left, data after
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
        rig.engine().cancel(o.op);
        rig.settle([&] { return o.resumed > 0; });
        ASSERT_EQ(o.resumed, 1) << "iteration " << i;
        if (o.op.res == -ECANCELED) {
            ++canceled;
            // The byte lost the race, not its place: the next lent read gets it.
            raw_op next;
            if (!rig.start(next, io_kind::recv_lent, *t, sp.mine, 0))
                rig.settle([&] { return next.resumed > 0; });
            ASSERT_EQ(next.op.res, 1) << "iteration " << i;
            EXPECT_EQ(next.op.buf[0], value);
            give_back(rig, next);
        } else {
            ++completed;
            ASSERT_EQ(o.op.res, 1) << "iteration " << i;
            EXPECT_EQ(o.op.buf[0], value);
            give_back(rig, o);
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

TEST(uring_engine, lent_read_ahead_is_bounded_and_kept_in_order) {
    SKIP_WITHOUT_URING();
    raw_rig rig({.entries = 8, .lent_buffer_size = 16, .lent_readahead = 2});
    SKIP_WITHOUT_MULTISHOT_RECV(rig.engine());
    unix_pair sp;
    auto t = rig.engine().attach(sp.mine);
    ASSERT_TRUE(t);
    raw_op first;
    ASSERT_FALSE(rig.start(first, io_kind::recv_lent, *t, sp.mine, 0));
    rig.turn();
    sp.peer_writes(std::byte{0});
    rig.settle([&] { return first.resumed > 0; });
    ASSERT_EQ(first.op.res, 1);
    give_back(rig, first);
    // No read waits now: the multishot recv keeps what comes, one 16-byte buffer per write, and
    // stops after two. The rest stays in the socket.
    for (int i = 1; i <= 6; ++i) {
        sp.peer_writes(static_cast<std::byte>(i));
        for (int k = 0; k < 3; ++k) rig.turn();
    }
    EXPECT_EQ(rig.engine().stats().reads_kept, 2u);
    EXPECT_EQ(rig.engine().stats().ring_buffers_out, 2u);
    // Every byte still comes, in order: two kept (at once), then from the socket.
    for (int i = 1; i <= 6;) {
        raw_op o;
        if (!rig.start(o, io_kind::recv_lent, *t, sp.mine, 0))
            rig.settle([&] { return o.resumed > 0; });
        ASSERT_GT(o.op.res, 0);
        for (int64_t k = 0; k < o.op.res; ++k, ++i)
            EXPECT_EQ(o.op.buf[k], static_cast<std::byte>(i));
        give_back(rig, o);
    }
    rig.engine().detach(*t);
    rig.turn();
    EXPECT_EQ(rig.engine().stats().ring_buffers_out, 0u);
}

TEST(uring_engine, detach_gives_kept_ring_buffers_back) {
    SKIP_WITHOUT_URING();
    raw_rig rig({.entries = 8, .lent_buffer_size = 16, .lent_readahead = 4});
    SKIP_WITHOUT_MULTISHOT_RECV(rig.engine());
    auto sp = std::make_unique<unix_pair>();
    auto t = rig.engine().attach(sp->mine);
    ASSERT_TRUE(t);
    raw_op first;
    ASSERT_FALSE(rig.start(first, io_kind::recv_lent, *t, sp->mine, 0));
    rig.turn();
    sp->peer_writes(std::byte{1});
    rig.settle([&] { return first.resumed > 0; });
    give_back(rig, first);
    for (int i = 0; i < 3; ++i) {
        sp->peer_writes(std::byte{2});
        rig.settle([&] { return rig.engine().stats().reads_kept == i + 1u; });
    }
    EXPECT_EQ(rig.engine().stats().ring_buffers_out, 3u);
    rig.engine().detach(*t);
    ::close(sp->mine);
    sp->mine = -1;
    for (int i = 0; i < 5; ++i) rig.turn();
    EXPECT_EQ(rig.engine().stats().ring_buffers_out, 0u);
}

TEST(uring_engine, plain_reads_after_lent_reads_stop_the_multishot_and_keep_the_order) {
    SKIP_WITHOUT_URING();
    raw_rig rig({.entries = 8, .lent_buffer_size = 16});
    SKIP_WITHOUT_MULTISHOT_RECV(rig.engine());
    unix_pair sp;
    auto t = rig.engine().attach(sp.mine);
    ASSERT_TRUE(t);
    raw_op lent;
    ASSERT_FALSE(rig.start(lent, io_kind::recv_lent, *t, sp.mine, 0));
    rig.turn();
    sp.peer_writes(std::byte{10});
    rig.settle([&] { return lent.resumed > 0; });
    give_back(rig, lent);
    sp.peer_writes(std::byte{11});  // kept by the multishot recv, still armed
    rig.settle([&] { return rig.engine().stats().reads_kept == 1; });
    raw_op plain;  // takes the kept byte at once
    ASSERT_TRUE(rig.start(plain, io_kind::recv, *t, sp.mine, 8));
    EXPECT_EQ(plain.op.res, 1);
    EXPECT_EQ(plain.buf[0], std::byte{11});
    raw_op waiting;  // must not race the multishot recv: it ends it, then reads itself
    ASSERT_FALSE(rig.start(waiting, io_kind::recv, *t, sp.mine, 8));
    for (int i = 0; i < 3; ++i) rig.turn();
    sp.peer_writes(std::byte{12});
    rig.settle([&] { return waiting.resumed > 0; });
    EXPECT_EQ(waiting.op.res, 1);
    EXPECT_EQ(waiting.buf[0], std::byte{12});
    rig.engine().detach(*t);
    rig.turn();
    EXPECT_EQ(rig.engine().stats().ring_buffers_out, 0u);
}

TEST(uring_engine, lent_reads_without_a_buffer_ring_use_heap_buffers) {
    SKIP_WITHOUT_URING();
    uring_rig rig({.multishot_recv = false});
    EXPECT_FALSE(rig.eng->features().multishot_recv);
    std::size_t bad = 0, done = 0;
    rig.run([&]() -> task<> {
        auto pairs = stream_pairs(8);
        std::vector<std::vector<lent_buffer>> held(pairs.size());
        task_scope scope;
        for (std::size_t i = 0; i < pairs.size(); ++i) {
            scope.spawn(read_and_hold(pairs[i].server, i, 5000, bad, done, held[i]));
            scope.spawn(write_stream(pairs[i].client, i, 5000, static_cast<unsigned>(i)));
        }
        co_await scope.join();
    }());
    EXPECT_EQ(done, 8u);
    EXPECT_EQ(bad, 0u);
    EXPECT_EQ(rig.eng->stats().recv_arms, 0u);
    EXPECT_GT(rig.eng->stats().lent_fallbacks, 0u);
}

#endif  // OPENSOCKET_HAVE_URING
