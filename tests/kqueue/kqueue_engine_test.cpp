// The readiness engine over kqueue_poller (and the kqueue()/kevent() double): real loopback TCP
// through tcp_listener/tcp_stream on an executor of its own. Besides the I/O results, each test
// checks what the poller asked of kqueue: every registration deleted while its descriptor was
// still open, none left behind, none dropped by a close.

#include "kqueue_double.hpp"

#include <test_support.hpp>

#include <opensocket/backends/kqueue_poller.hpp>
#include <opensocket/backends/readiness_engine.hpp>
#include <opensocket/executor.hpp>
#include <opensocket/sync_wait.hpp>
#include <opensocket/when_all.hpp>
#include <opensocket/when_any.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <thread>
#include <vector>

using namespace opensocket;
using namespace opensocket::testing;
using namespace std::chrono_literals;
namespace kd = kqueue_double;

namespace {

/// An executor whose engine is readiness_engine(kqueue_poller); `kq` is the double's descriptor.
struct kqueue_executor {
    kqueue_executor() : ex(make(kq)) {}
    static std::unique_ptr<engine> make(int& kq) {
        kd::reset_log();
        auto poller = std::make_unique<kqueue_poller>();
        kq = kd::changes().at(0).kq;
        return std::make_unique<readiness_engine>(std::move(poller));
    }

    /// Runs `t` to completion on this executor, on the calling thread.
    template <class T>
    T run(task<T> t) {
        return sync_wait_here(ex, std::move(t));
    }

    int kq = -1;
    executor ex;
};

/// What the poller asked of kqueue, per descriptor: every READ/WRITE registration was deleted
/// while its descriptor was still open, nothing is registered but the wake-up, and the double
/// never had to drop a registration because its descriptor was closed first.
void expect_clean_registrations(int kq) {
    std::map<uintptr_t, int> live;  // ident -> filters added minus deleted
    for (const auto& c : kd::changes()) {
        if (c.kq != kq || (c.filter != EVFILT_READ && c.filter != EVFILT_WRITE) || c.error != 0)
            continue;
        if ((c.flags & EV_ADD) != 0) {
            EXPECT_TRUE(c.flags & EV_CLEAR) << "fd " << c.ident;
            ++live[c.ident];
        }
        if ((c.flags & EV_DELETE) != 0) {
            EXPECT_TRUE(c.fd_open) << "EV_DELETE after close() for fd " << c.ident;
            --live[c.ident];
        }
    }
    for (auto [fd, n] : live) EXPECT_EQ(n, 0) << "fd " << fd << " left registered";
    EXPECT_EQ(kd::registrations(kq), 1u) << "only the wake-up should be left";
    EXPECT_EQ(kd::dropped_on_close(), 0u) << "a descriptor was closed before EV_DELETE";
}

task<bool> echo_once(std::string_view msg) {
    auto pair = co_await connected_pair();
    EXPECT_TRUE(pair) << pair.error().message();
    if (!pair) co_return false;
    EXPECT_TRUE(co_await pair->client.write_all(msg));
    std::array<std::byte, 256> buf{};
    auto n = co_await pair->server.read_exact(std::span(buf).first(msg.size()));
    EXPECT_TRUE(n);
    EXPECT_TRUE(co_await pair->server.write_all(std::span(buf).first(msg.size())));
    std::array<std::byte, 256> back{};
    auto m = co_await pair->client.read_exact(std::span(back).first(msg.size()));
    EXPECT_TRUE(m);
    co_return m&& std::memcmp(back.data(), msg.data(), msg.size()) == 0;
}

}  // namespace

TEST(kqueue_engine, the_engine_runs_on_the_kqueue_poller) {
    kqueue_executor k;
    EXPECT_EQ(k.ex.io().name(), "kqueue");
}

TEST(kqueue_engine, echoes_over_loopback_tcp) {
    kqueue_executor k;
    EXPECT_TRUE(k.run(echo_once("hello, kqueue")));
    expect_clean_registrations(k.kq);
}

TEST(kqueue_engine, sequential_connections_reuse_descriptor_numbers_cleanly) {
    // Each round closes its sockets, so the next round's get the same numbers back: a stale
    // registration, or one deleted after close, would break the next round or show in the log.
    kqueue_executor k;
    std::set<uintptr_t> idents;
    for (int round = 0; round < 20; ++round) EXPECT_TRUE(k.run(echo_once("again"))) << round;
    for (const auto& c : kd::changes())
        if (c.filter == EVFILT_READ) idents.insert(c.ident);
    EXPECT_LT(idents.size(), 20u * 3) << "descriptor numbers were not reused";
    expect_clean_registrations(k.kq);
}

namespace {

constexpr std::size_t bulk_size = 4 << 20;  // far beyond the loopback socket buffers

task<bool> send_pattern(tcp_stream& s) {
    std::vector<std::byte> data(bulk_size);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = pattern_byte(i);
    auto r = co_await s.write_all(data);
    EXPECT_TRUE(r) << r.error().message();
    co_return r&&* r == bulk_size;
}

task<bool> receive_pattern(tcp_stream& s) {
    std::vector<std::byte> data(bulk_size);
    auto r = co_await s.read_exact(data);
    EXPECT_TRUE(r) << r.error().message();
    for (std::size_t i = 0; i < data.size(); ++i)
        if (data[i] != pattern_byte(i)) co_return false;
    co_return r.has_value();
}

task<bool> bulk_both_ways() {
    auto pair = co_await connected_pair();
    EXPECT_TRUE(pair);
    if (!pair) co_return false;
    auto [a, b, c, d] =
        co_await when_all(send_pattern(pair->client), receive_pattern(pair->server),
                          send_pattern(pair->server), receive_pattern(pair->client));
    co_return a&& b&& c&& d;
}

}  // namespace

TEST(kqueue_engine, moves_megabytes_both_ways_through_full_socket_buffers) {
    // The writers fill the send buffers and park on EAGAIN: only the EV_CLEAR write edge, when
    // the peer drains, gets them going again.
    kqueue_executor k;
    EXPECT_TRUE(k.run(bulk_both_ways()));
    expect_clean_registrations(k.kq);
}

namespace {

task<bool> fin_then_reads_return_zero() {
    auto pair = co_await connected_pair();
    EXPECT_TRUE(pair);
    if (!pair) co_return false;
    EXPECT_TRUE(co_await pair->client.write_all(std::string_view("last words")));
    EXPECT_TRUE(pair->client.shutdown_write());
    std::array<std::byte, 64> buf{};
    std::size_t got = 0;
    for (;;) {
        auto n = co_await pair->server.read_some(buf);
        EXPECT_TRUE(n);
        if (!n || *n == 0) break;
        got += *n;
    }
    EXPECT_EQ(got, 10u);
    auto again = co_await pair->server.read_some(buf);  // EOF is sticky, without a new edge
    EXPECT_TRUE(again && *again == 0);
    // The half-closed side can still write.
    EXPECT_TRUE(co_await pair->server.write_all(std::string_view("bye")));
    auto n = co_await pair->client.read_exact(std::span(buf).first(3));
    co_return n&& std::memcmp(buf.data(), "bye", 3) == 0;
}

}  // namespace

TEST(kqueue_engine, reads_return_zero_after_the_peers_fin_and_keep_doing_so) {
    kqueue_executor k;
    EXPECT_TRUE(k.run(fin_then_reads_return_zero()));
    expect_clean_registrations(k.kq);
}

namespace {

task<std::error_code> read_error(tcp_stream& s) {
    std::array<std::byte, 16> buf{};
    auto n = co_await s.read_some(buf);
    co_return n ? std::error_code() : n.error();
}

task<int> read_recording(tcp_stream& s, std::error_code& out) {
    out = co_await read_error(s);
    co_return 0;
}

task<int> nothing() { co_return 1; }

task<bool> cancel_a_parked_read() {
    auto pair = co_await connected_pair();
    EXPECT_TRUE(pair);
    if (!pair) co_return false;
    // The read parks (nothing to read); `nothing` wins and the read is cancelled.
    std::error_code read_result;
    auto r = co_await when_any(read_recording(pair->server, read_result), nothing());
    EXPECT_EQ(r.index(), 1u);
    EXPECT_EQ(read_result, std::errc::operation_canceled) << read_result.message();
    // The cancelled read leaves the stream usable.
    EXPECT_TRUE(co_await pair->client.write_all(std::string_view("still here")));
    std::array<std::byte, 10> buf{};
    auto n = co_await pair->server.read_exact(buf);
    co_return n&& std::memcmp(buf.data(), "still here", 10) == 0;
}

task<std::error_code> read_with_deadline() {
    auto pair = co_await connected_pair();
    EXPECT_TRUE(pair);
    if (!pair) co_return std::error_code();
    std::array<std::byte, 4> buf{};
    auto n = co_await pair->server.read_some(buf, executor::current()->now() + 20ms);
    co_return n ? std::error_code() : n.error();
}

}  // namespace

TEST(kqueue_engine, a_cancelled_read_ends_and_leaves_the_stream_usable) {
    kqueue_executor k;
    EXPECT_TRUE(k.run(cancel_a_parked_read()));
    expect_clean_registrations(k.kq);
}

TEST(kqueue_engine, a_read_past_its_deadline_fails_with_timed_out) {
    kqueue_executor k;
    EXPECT_EQ(k.run(read_with_deadline()), std::errc::timed_out);
    expect_clean_registrations(k.kq);
}

namespace {

task<std::error_code> close_under_a_parked_read(native_handle& fd) {
    auto pair = co_await connected_pair();
    EXPECT_TRUE(pair);
    if (!pair) co_return std::error_code();
    fd = pair->server.native();
    auto closer = [](tcp_stream& s) -> task<std::error_code> {
        co_await yield_now{};  // the reader runs first and parks
        s.close();
        co_return std::error_code();
    };
    auto [read, closed] = co_await when_all(read_error(pair->server), closer(pair->server));
    (void)closed;
    co_return read;
}

}  // namespace

TEST(kqueue_engine, closing_a_stream_cancels_its_parked_read_and_deletes_before_close) {
    kqueue_executor k;
    native_handle fd = invalid_native_handle;
    EXPECT_EQ(k.run(close_under_a_parked_read(fd)), std::errc::operation_canceled);
    ASSERT_NE(fd, invalid_native_handle);
    int deletes = 0;
    for (const auto& c : kd::changes()) {
        if (c.ident != static_cast<uintptr_t>(fd) || (c.flags & EV_DELETE) == 0) continue;
        EXPECT_TRUE(c.fd_open);
        EXPECT_TRUE(c.flags & EV_RECEIPT);
        ++deletes;
    }
    EXPECT_GE(deletes, 2) << "EV_DELETE for both filters";
    expect_clean_registrations(k.kq);
}

namespace {

task<bool> client(socket_address to, int id) {
    auto s = co_await tcp_stream::connect(to);
    EXPECT_TRUE(s) << s.error().message();
    if (!s) co_return false;
    std::array<char, 16> msg{};
    std::snprintf(msg.data(), msg.size(), "client %4d", id);
    EXPECT_TRUE(co_await s->write_all(std::string_view(msg.data(), 11)));
    std::array<std::byte, 11> back{};
    auto n = co_await s->read_exact(back);
    co_return n&& std::memcmp(back.data(), msg.data(), 11) == 0;
}

task<bool> echo_one(tcp_stream s) {
    std::array<std::byte, 11> buf{};
    auto n = co_await s.read_exact(buf);
    if (!n) co_return false;
    co_return (co_await s.write_all(std::span<const std::byte>(buf))).has_value();
}

task<bool> server(tcp_listener& l, int count) {
    std::vector<task<bool>> sessions;
    for (int i = 0; i < count; ++i) {
        auto s = co_await l.accept();
        EXPECT_TRUE(s) << s.error().message();
        if (!s) co_return false;
        sessions.push_back(echo_one(std::move(*s)));
    }
    auto ok = co_await when_all(std::move(sessions));
    co_return std::all_of(ok.begin(), ok.end(), [](bool b) { return b; });
}

task<bool> many_clients(int count, int kq) {
    auto l = loopback_listener();
    auto to = address_of(l);
    std::vector<task<bool>> clients;
    for (int i = 0; i < count; ++i) clients.push_back(client(to, i));
    auto [served, answered] = co_await when_all(server(l, count), when_all(std::move(clients)));
    l.close();
    bool all = std::all_of(answered.begin(), answered.end(), [](bool b) { return b; });
    // Still on the executor, with its kqueue open: everything must have been unregistered.
    expect_clean_registrations(kq);
    co_return served&& all;
}

}  // namespace

TEST(kqueue_engine, accepts_and_echoes_on_many_concurrent_connections) {
    kqueue_executor k;
    EXPECT_TRUE(k.run(many_clients(64, k.kq)));
}

TEST(kqueue_engine, connect_to_a_closed_port_is_refused) {
    socket_address addr;
    {
        auto l = loopback_listener();
        addr = address_of(l);
    }
    kqueue_executor k;
    auto r = k.run(tcp_stream::connect(addr));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::connection_refused) << r.error().message();
    expect_clean_registrations(k.kq);
}

namespace {

task<bool> wait_then_read() {
    auto pair = co_await connected_pair();
    EXPECT_TRUE(pair);
    if (!pair) co_return false;
    auto waiter = [](tcp_stream& s) -> task<bool> {
        co_return (co_await s.wait_readable()).has_value();
    };
    auto writer = [](tcp_stream& s) -> task<bool> {
        co_await yield_now{};  // the waiter parks first
        co_return (co_await s.write_all(std::string_view("ping"))).has_value();
    };
    auto [ready, wrote] = co_await when_all(waiter(pair->server), writer(pair->client));
    EXPECT_TRUE(ready);
    EXPECT_TRUE(wrote);
    std::array<std::byte, 4> buf{};
    auto n = co_await pair->server.read_exact(buf);
    co_return n&& std::memcmp(buf.data(), "ping", 4) == 0;
}

}  // namespace

TEST(kqueue_engine, wait_readable_completes_when_data_arrives) {
    kqueue_executor k;
    EXPECT_TRUE(k.run(wait_then_read()));
    expect_clean_registrations(k.kq);
}

TEST(kqueue_engine, work_posted_from_another_thread_wakes_the_sleeping_executor) {
    // The executor thread sleeps in kevent() with no timeout whenever it is idle; each
    // sync_wait_on posts from this thread, which only the EVFILT_USER trigger can deliver.
    auto k = std::make_unique<kqueue_executor>();
    std::thread loop([&] { k->ex.run(); });
    auto on_executor = []() -> task<int> { co_return 1; };
    int sum = 0;
    for (int i = 0; i < 100; ++i) sum += sync_wait_on(k->ex, on_executor());
    k->ex.request_stop();
    loop.join();
    EXPECT_EQ(sum, 100);
    int triggers = 0;
    for (const auto& c : kd::changes())
        if (c.filter == EVFILT_USER && (c.fflags & NOTE_TRIGGER) != 0) ++triggers;
    EXPECT_GE(triggers, 1) << "the executor never needed a wake-up";
}
