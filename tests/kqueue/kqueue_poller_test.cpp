// kqueue_poller against the kqueue()/kevent() double: what it asks the kernel for (one receipt-
// checked call per add, EV_CLEAR, EV_DELETE before close), and how it turns kevents into
// poll_events (edges, EOF, errors, wake-ups, timeouts). Real sockets: AF_UNIX pairs and TCP over
// 127.0.0.1 (port 0).

#include "kqueue_double.hpp"

#include <opensocket/backends/kqueue_poller.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

namespace os = opensocket;
namespace kd = kqueue_double;

namespace {

constexpr uint8_t both = os::interest_read | os::interest_write;

/// A non-blocking AF_UNIX stream pair: the poller watches `mine`; the test plays the peer.
struct socket_pair {
    socket_pair() {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0)
            throw std::system_error(errno, std::generic_category(), "socketpair");
        mine = fds[0];
        peer = fds[1];
    }
    ~socket_pair() {
        if (mine >= 0) ::close(mine);
        if (peer >= 0) ::close(peer);
    }
    socket_pair(const socket_pair&) = delete;
    socket_pair& operator=(const socket_pair&) = delete;

    void peer_writes(std::string_view text) const {
        ASSERT_EQ(::send(peer, text.data(), text.size(), 0), static_cast<ssize_t>(text.size()));
    }
    void fill_my_send_buffer() const {
        std::vector<char> chunk(16384, 'f');
        for (std::size_t size : {chunk.size(), std::size_t{1}})
            while (::send(mine, chunk.data(), size, 0) > 0) {
            }
    }
    void peer_drains() const {
        std::vector<char> sink(65536);
        while (::recv(peer, sink.data(), sink.size(), 0) > 0) {
        }
    }
    void i_drain() const {
        std::vector<char> sink(65536);
        while (::recv(mine, sink.data(), sink.size(), 0) > 0) {
        }
    }
    void close_mine() { ::close(std::exchange(mine, -1)); }

    int mine = -1;
    int peer = -1;
};

/// A TCP listener on 127.0.0.1, port 0.
struct tcp_listener {
    tcp_listener() {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
            ::listen(fd, 16) != 0 || ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
            throw std::system_error(errno, std::generic_category(), "listen on 127.0.0.1:0");
        addr = a;
    }
    ~tcp_listener() {
        if (fd >= 0) ::close(fd);
    }
    /// A non-blocking socket whose connect to this listener has been started.
    int connect_nonblocking() const {
        int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int r = ::connect(c, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
        EXPECT_TRUE(r == 0 || errno == EINPROGRESS) << std::strerror(errno);
        return c;
    }
    int fd = -1;
    sockaddr_in addr{};
};

/// The poller under test plus the kqueue descriptor the double handed it.
struct fixture_poller {
    fixture_poller() {
        kd::reset_log();
        poller = std::make_unique<os::kqueue_poller>();
        auto log = kd::changes();
        kq = log.empty() ? -1 : log.back().kq;
        kd::reset_log();
    }
    std::vector<os::poll_event> wait(int64_t timeout_ns = 0) {
        std::array<os::poll_event, 64> out{};
        auto n = poller->wait(out, timeout_ns);
        EXPECT_TRUE(n) << n.error().message();
        return {out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n ? *n : 0)};
    }
    std::unique_ptr<os::kqueue_poller> poller;
    int kq = -1;
};

constexpr int64_t generous_ns = 10'000'000'000;  // an upper bound for an event that is due

/// The one event in `events` for `token` (fails the test if there is not exactly one).
os::poll_event only_event(const std::vector<os::poll_event>& events, uint64_t token) {
    EXPECT_EQ(events.size(), 1u);
    if (events.empty()) return {};
    EXPECT_EQ(events[0].token, token);
    return events[0];
}

/// Waits until the events for `token` (OR-ed together) satisfy `done`; a socket state change can
/// take more than one edge to show completely (e.g. RST: the error, then the hang-up).
template <class Pred>
os::poll_event accumulate(fixture_poller& p, uint64_t token, Pred done) {
    os::poll_event sum{.token = token};
    for (int i = 0; i < 10 && !done(sum); ++i) {
        auto events = p.wait(generous_ns);
        for (const auto& e : events) {
            EXPECT_EQ(e.token, token);
            sum.readable |= e.readable;
            sum.writable |= e.writable;
            sum.error |= e.error;
            sum.read_closed |= e.read_closed;
        }
    }
    return sum;
}

std::vector<kd::change_record> changes_for(uintptr_t ident, short filter) {
    std::vector<kd::change_record> out;
    for (const auto& c : kd::changes())
        if (c.ident == ident && c.filter == filter) out.push_back(c);
    return out;
}

class kqueue_poller : public ::testing::Test {
protected:
    fixture_poller p;
};

}  // namespace

// ---- construction ------------------------------------------------------------------------------

TEST(kqueue_poller_setup, registers_its_wake_up_as_a_cleared_user_event_with_a_receipt) {
    kd::reset_log();
    os::kqueue_poller poller;
    auto log = kd::changes();
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(log[0].filter, EVFILT_USER);
    EXPECT_EQ(log[0].flags, EV_ADD | EV_CLEAR | EV_RECEIPT);
    EXPECT_EQ(log[0].error, 0);
    EXPECT_TRUE(kd::is_registered(log[0].kq, log[0].ident, EVFILT_USER));
    EXPECT_EQ(poller.name(), "kqueue");
    EXPECT_TRUE(poller.edge_triggered());
}

TEST(kqueue_poller_setup, throws_system_error_when_kqueue_fails) {
    kd::fail_next_kqueue(EMFILE);
    try {
        os::kqueue_poller poller;
        FAIL() << "constructed without a kqueue";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), EMFILE);
    }
}

TEST(kqueue_poller_setup, throws_and_closes_the_kqueue_when_the_wake_up_is_refused) {
    const std::size_t before = kd::live_kqueues();
    kd::fail_next_add(EVFILT_USER, ENOMEM);
    try {
        os::kqueue_poller poller;
        FAIL() << "constructed without a wake-up";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), ENOMEM);
    }
    EXPECT_EQ(kd::live_kqueues(), before) << "the kqueue descriptor leaked";
}

TEST(kqueue_poller_setup, destructor_closes_the_kqueue) {
    const std::size_t before = kd::live_kqueues();
    {
        os::kqueue_poller poller;
        EXPECT_EQ(kd::live_kqueues(), before + 1);
    }
    EXPECT_EQ(kd::live_kqueues(), before);
}

// ---- add ---------------------------------------------------------------------------------------

TEST_F(kqueue_poller, add_registers_both_filters_cleared_with_receipts_in_one_call) {
    socket_pair s;
    ASSERT_TRUE(p.poller->add(s.mine, 0x1234'0000'0005, both));
    auto log = kd::changes();
    ASSERT_EQ(log.size(), 2u);
    EXPECT_EQ(log[0].filter, EVFILT_READ);
    EXPECT_EQ(log[1].filter, EVFILT_WRITE);
    for (const auto& c : log) {
        EXPECT_EQ(c.ident, static_cast<uintptr_t>(s.mine));
        EXPECT_EQ(c.flags, EV_ADD | EV_CLEAR | EV_RECEIPT | EV_ENABLE);
        EXPECT_EQ(reinterpret_cast<uintptr_t>(c.udata), uintptr_t{0x1234'0000'0005});
        EXPECT_EQ(c.error, 0);
    }
    auto calls = kd::calls();
    ASSERT_EQ(calls.size(), 1u) << "one kevent() call for both filters";
    EXPECT_EQ(calls[0].nchanges, 2);
    EXPECT_EQ(calls[0].nevents, 2) << "room for both receipts";
    EXPECT_EQ(calls[0].result, 2);
    EXPECT_TRUE(kd::is_registered(p.kq, s.mine, EVFILT_READ));
    EXPECT_TRUE(kd::is_registered(p.kq, s.mine, EVFILT_WRITE));
}

TEST_F(kqueue_poller, add_registers_a_filter_outside_the_interest_disabled) {
    socket_pair s;
    ASSERT_TRUE(p.poller->add(s.mine, 7, os::interest_read));
    EXPECT_TRUE(kd::is_enabled(p.kq, s.mine, EVFILT_READ));
    EXPECT_TRUE(kd::is_registered(p.kq, s.mine, EVFILT_WRITE));
    EXPECT_FALSE(kd::is_enabled(p.kq, s.mine, EVFILT_WRITE));
    EXPECT_TRUE(p.wait().empty()) << "writable, but write interest is off";
}

TEST_F(kqueue_poller, add_of_a_closed_descriptor_fails_with_ebadf_and_registers_nothing) {
    socket_pair s;
    const int fd = s.mine;
    s.close_mine();
    auto r = p.poller->add(fd, 1, both);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().value(), EBADF);
    EXPECT_EQ(kd::registrations(p.kq), 1u) << "only the wake-up";
}

TEST_F(kqueue_poller, a_failed_write_filter_undoes_the_read_filter) {
    socket_pair s;
    kd::fail_next_add(EVFILT_WRITE, ENOMEM);
    auto r = p.poller->add(s.mine, 1, both);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().value(), ENOMEM);
    EXPECT_FALSE(kd::is_registered(p.kq, s.mine, EVFILT_READ)) << "half a registration left";
    EXPECT_FALSE(kd::is_registered(p.kq, s.mine, EVFILT_WRITE));
    auto reads = changes_for(s.mine, EVFILT_READ);
    ASSERT_EQ(reads.size(), 2u);
    EXPECT_TRUE(reads[1].flags & EV_DELETE);
    EXPECT_EQ(reads[1].error, 0);
    EXPECT_TRUE(changes_for(s.mine, EVFILT_WRITE).size() == 1u) << "nothing to undo there";
}

TEST_F(kqueue_poller, a_failed_read_filter_undoes_the_write_filter) {
    socket_pair s;
    kd::fail_next_add(EVFILT_READ, ENOMEM);
    auto r = p.poller->add(s.mine, 1, both);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().value(), ENOMEM);
    EXPECT_EQ(kd::registrations(p.kq), 1u) << "only the wake-up";
    auto writes = changes_for(s.mine, EVFILT_WRITE);
    ASSERT_EQ(writes.size(), 2u);
    EXPECT_TRUE(writes[1].flags & EV_DELETE);
    // The failed registration is never reported as an event either.
    s.peer_writes("x");
    EXPECT_TRUE(p.wait().empty());
}

// ---- edge semantics ----------------------------------------------------------------------------

TEST_F(kqueue_poller, a_connected_socket_reports_one_merged_event_then_nothing) {
    socket_pair s;
    s.peer_writes("hello");
    ASSERT_TRUE(p.poller->add(s.mine, 42, both));
    auto ev = only_event(p.wait(), 42);
    EXPECT_TRUE(ev.readable);
    EXPECT_TRUE(ev.writable);
    EXPECT_FALSE(ev.error);
    EXPECT_FALSE(ev.read_closed);
    EXPECT_TRUE(p.wait().empty()) << "EV_CLEAR: reported once, although still readable";
}

TEST_F(kqueue_poller, every_new_arrival_is_a_new_read_edge_even_with_data_unread) {
    socket_pair s;
    ASSERT_TRUE(p.poller->add(s.mine, 9, both));
    (void)p.wait();  // the initial writable edge
    s.peer_writes("a");
    auto ev = only_event(p.wait(generous_ns), 9);
    EXPECT_TRUE(ev.readable);
    EXPECT_TRUE(p.wait().empty());
    s.peer_writes("b");  // "a" is still unread
    ev = only_event(p.wait(generous_ns), 9);
    EXPECT_TRUE(ev.readable);
    s.i_drain();
    EXPECT_TRUE(p.wait().empty()) << "reading is no edge";
}

TEST_F(kqueue_poller, the_write_edge_returns_when_the_peer_drains_a_full_buffer) {
    socket_pair s;
    ASSERT_TRUE(p.poller->add(s.mine, 3, both));
    s.fill_my_send_buffer();
    (void)p.wait();
    EXPECT_TRUE(p.wait().empty());
    s.peer_drains();
    auto ev = only_event(p.wait(generous_ns), 3);
    EXPECT_TRUE(ev.writable);
    EXPECT_FALSE(ev.readable);
}

TEST_F(kqueue_poller, the_peers_fin_reports_read_closed_without_error) {
    socket_pair s;
    ASSERT_TRUE(p.poller->add(s.mine, 5, both));
    (void)p.wait();
    ::shutdown(s.peer, SHUT_WR);
    auto ev = only_event(p.wait(generous_ns), 5);
    EXPECT_TRUE(ev.readable);
    EXPECT_TRUE(ev.read_closed);
    EXPECT_FALSE(ev.error);
}

TEST_F(kqueue_poller, a_reset_reports_read_closed_and_error) {
    tcp_listener l;
    int client = l.connect_nonblocking();
    int server = ::accept4(l.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    ASSERT_GE(server, 0);
    ASSERT_TRUE(p.poller->add(client, 11, both));
    (void)p.wait(generous_ns);
    linger abortive{1, 0};  // close() now sends RST
    ::setsockopt(server, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
    ::close(server);
    auto ev = accumulate(p, 11, [](const os::poll_event& e) { return e.read_closed && e.error; });
    EXPECT_TRUE(ev.read_closed);
    EXPECT_TRUE(ev.error);
    char byte;
    EXPECT_EQ(::recv(client, &byte, 1, 0), -1);
    EXPECT_EQ(errno, ECONNRESET) << "the socket error is left for the syscall to report";
    p.poller->remove(client);
    ::close(client);
}

TEST_F(kqueue_poller, a_refused_connect_reports_error_and_leaves_so_error_to_the_caller) {
    sockaddr_in closed{};
    {
        tcp_listener l;  // bound, then closed: nothing listens on that port any more
        closed = l.addr;
    }
    int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int r = ::connect(c, reinterpret_cast<const sockaddr*>(&closed), sizeof closed);
    if (r != 0 && errno == ECONNREFUSED) {
        ::close(c);
        GTEST_SKIP() << "this kernel refused the loopback connect synchronously";
    }
    ASSERT_TRUE(p.poller->add(c, 13, both));
    auto ev = accumulate(p, 13, [](const os::poll_event& e) { return e.writable && e.error; });
    EXPECT_TRUE(ev.writable);
    EXPECT_TRUE(ev.error);
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len);
    EXPECT_EQ(err, ECONNREFUSED);
    p.poller->remove(c);
    ::close(c);
}

// ---- event mapping (events a socket here cannot produce, injected into the double) --------------

TEST_F(kqueue_poller, maps_error_eof_and_foreign_filters) {
    auto inject = [&](short filter, unsigned short flags, unsigned fflags, int64_t data,
                      uint64_t token) {
        struct kevent ev {};
        ev.ident = 99;
        ev.filter = filter;
        ev.flags = flags;
        ev.fflags = fflags;
        ev.data = static_cast<decltype(ev.data)>(data);
        ev.udata = reinterpret_cast<void*>(static_cast<uintptr_t>(token));
        kd::inject_event(p.kq, ev);
    };
    inject(EVFILT_READ, EV_ERROR, 0, EBADF, 1);                // an error entry
    inject(EVFILT_READ, EV_CLEAR | EV_EOF, ECONNRESET, 0, 2);  // EOF with a socket error
    inject(EVFILT_WRITE, EV_CLEAR | EV_EOF, 0, 0, 3);          // write side shut
    inject(EVFILT_TIMER, EV_CLEAR, 0, 1, 4);                   // not ours: ignored
    inject(EVFILT_USER, EV_CLEAR, 0, 0, 5);                    // a wake-up: no event
    inject(EVFILT_READ, EV_CLEAR | EV_RECEIPT, 0, 10, 6);      // EV_RECEIPT is not EV_ERROR
    auto events = p.wait();
    ASSERT_EQ(events.size(), 4u);
    EXPECT_EQ(events[0].token, 1u);
    EXPECT_TRUE(events[0].error);
    EXPECT_FALSE(events[0].readable);
    EXPECT_EQ(events[1].token, 2u);
    EXPECT_TRUE(events[1].readable && events[1].read_closed && events[1].error);
    EXPECT_EQ(events[2].token, 3u);
    EXPECT_TRUE(events[2].writable);
    EXPECT_FALSE(events[2].error || events[2].read_closed || events[2].readable);
    EXPECT_EQ(events[3].token, 6u);
    EXPECT_TRUE(events[3].readable && !events[3].error);
}

TEST_F(kqueue_poller, only_adjacent_events_of_one_token_are_merged) {
    auto inject = [&](short filter, uint64_t token) {
        struct kevent ev {};
        ev.ident = 1;
        ev.filter = filter;
        ev.flags = EV_CLEAR;
        ev.udata = reinterpret_cast<void*>(static_cast<uintptr_t>(token));
        kd::inject_event(p.kq, ev);
    };
    inject(EVFILT_READ, 1);
    inject(EVFILT_WRITE, 1);
    inject(EVFILT_READ, 2);
    inject(EVFILT_WRITE, 1);
    auto events = p.wait();
    ASSERT_EQ(events.size(), 3u);
    EXPECT_TRUE(events[0].token == 1 && events[0].readable && events[0].writable);
    EXPECT_TRUE(events[1].token == 2 && events[1].readable && !events[1].writable);
    EXPECT_TRUE(events[2].token == 1 && events[2].writable && !events[2].readable);
}

TEST_F(kqueue_poller, the_64_bit_token_round_trips_through_udata) {
    socket_pair s;
    const uint64_t token = 0xfedc'ba98'7654'3210;
    ASSERT_TRUE(p.poller->add(s.mine, token, both));
    auto ev = only_event(p.wait(generous_ns), token);
    EXPECT_EQ(ev.token, token);
}

// ---- remove ------------------------------------------------------------------------------------

TEST_F(kqueue_poller, remove_deletes_both_filters_while_the_descriptor_is_open) {
    socket_pair s;
    ASSERT_TRUE(p.poller->add(s.mine, 1, both));
    kd::reset_log();
    p.poller->remove(s.mine);
    s.close_mine();
    auto log = kd::changes();
    ASSERT_EQ(log.size(), 2u);
    for (const auto& c : log) {
        EXPECT_EQ(c.flags, EV_DELETE | EV_RECEIPT);
        EXPECT_TRUE(c.fd_open) << "EV_DELETE must come before close()";
        EXPECT_EQ(c.error, 0);
    }
    EXPECT_EQ(kd::calls().at(0).nevents, 2) << "receipts for both deletes";
    EXPECT_EQ(kd::registrations(p.kq), 1u);
    EXPECT_EQ(kd::dropped_on_close(), 0u);
}

TEST_F(kqueue_poller, remove_still_deletes_the_write_filter_when_the_read_filter_is_gone) {
    // Without EV_RECEIPT, kevent() would stop at the read filter's ENOENT.
    socket_pair s;
    ASSERT_TRUE(p.poller->add(s.mine, 1, both));
    struct kevent del {};
    EV_SET(&del, static_cast<uintptr_t>(s.mine), EVFILT_READ, EV_DELETE, 0, 0, nullptr);
    ASSERT_EQ(::kevent(p.kq, &del, 1, nullptr, 0, nullptr), 0);
    kd::reset_log();
    p.poller->remove(s.mine);
    auto log = kd::changes();
    ASSERT_EQ(log.size(), 2u);
    EXPECT_EQ(log[0].error, ENOENT);
    EXPECT_EQ(log[1].filter, EVFILT_WRITE);
    EXPECT_EQ(log[1].error, 0);
    EXPECT_FALSE(kd::is_registered(p.kq, s.mine, EVFILT_WRITE));
}

TEST_F(kqueue_poller, remove_of_an_unknown_descriptor_is_harmless) {
    socket_pair s;
    p.poller->remove(s.mine);
    auto log = kd::changes();
    ASSERT_EQ(log.size(), 2u);
    EXPECT_EQ(log[0].error, ENOENT);
    EXPECT_EQ(log[1].error, ENOENT);
    EXPECT_EQ(kd::registrations(p.kq), 1u);
}

TEST_F(kqueue_poller, a_removed_registration_reports_nothing_even_if_it_was_pending) {
    socket_pair s;
    ASSERT_TRUE(p.poller->add(s.mine, 1, both));
    s.peer_writes("pending");  // an edge queued before the remove
    p.poller->remove(s.mine);
    EXPECT_TRUE(p.wait().empty());
}

TEST_F(kqueue_poller, stale_token_of_a_reused_descriptor_number_is_never_reported) {
    auto first = std::make_unique<socket_pair>();
    const int number = first->mine;
    ASSERT_TRUE(p.poller->add(first->mine, 100, both));
    first->peer_writes("old");
    p.poller->remove(first->mine);
    first.reset();
    socket_pair second;  // usually gets the same descriptor number back
    ASSERT_TRUE(p.poller->add(second.mine, 200, both));
    second.peer_writes("new");
    auto ev = only_event(p.wait(generous_ns), 200);
    EXPECT_TRUE(ev.readable);
    if (second.mine != number && second.peer != number)
        std::printf("note: descriptor %d was not reused (got %d)\n", number, second.mine);
}

// ---- update ------------------------------------------------------------------------------------

TEST_F(kqueue_poller, update_switches_filters_and_token) {
    socket_pair s;
    ASSERT_TRUE(p.poller->add(s.mine, 1, os::interest_none));
    EXPECT_TRUE(p.wait().empty());
    ASSERT_TRUE(p.poller->update(s.mine, 2, os::interest_write));
    auto ev = only_event(p.wait(generous_ns), 2);
    EXPECT_TRUE(ev.writable);
    EXPECT_FALSE(ev.readable);
    s.peer_writes("x");
    EXPECT_TRUE(p.wait().empty()) << "read interest is off";
    ASSERT_TRUE(p.poller->update(s.mine, 3, os::interest_read));
    ev = only_event(p.wait(generous_ns), 3);
    EXPECT_TRUE(ev.readable);
    EXPECT_FALSE(kd::is_enabled(p.kq, s.mine, EVFILT_WRITE));
}

// ---- wait: timeouts, EINTR, wake-ups
// -------------------------------------------------------------

TEST_F(kqueue_poller, wait_passes_the_timeout_as_a_timespec_and_null_for_forever) {
    p.poller->wake();  // so that the infinite wait returns
    EXPECT_TRUE(p.wait(-1).empty());
    EXPECT_TRUE(p.wait(0).empty());
    p.poller->wake();
    EXPECT_TRUE(p.wait(1'500'000'001).empty());
    std::vector<int64_t> timeouts;
    for (const auto& c : kd::calls())
        if (c.nchanges == 0) timeouts.push_back(c.timeout_ns);
    EXPECT_EQ(timeouts, (std::vector<int64_t>{-1, 0, 1'500'000'001}));
}

TEST_F(kqueue_poller, a_timeout_with_nothing_ready_returns_no_events_after_the_timeout) {
    auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(p.wait(20'000'000).empty());
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(20));
}

TEST_F(kqueue_poller, eintr_returns_zero_events) {
    kd::interrupt_next_wait();
    std::array<os::poll_event, 4> out{};
    auto n = p.poller->wait(out, -1);
    ASSERT_TRUE(n) << n.error().message();
    EXPECT_EQ(*n, 0u);
    EXPECT_EQ(kd::calls().back().error, EINTR);
}

TEST_F(kqueue_poller, wake_triggers_the_user_event_without_changes_or_waiting) {
    p.poller->wake();
    auto log = kd::changes();
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(log[0].filter, EVFILT_USER);
    EXPECT_EQ(log[0].fflags, NOTE_TRIGGER);
    EXPECT_EQ(log[0].flags, 0);
    EXPECT_EQ(kd::calls().back().nevents, 0) << "wake() must not collect events";
}

TEST_F(kqueue_poller, a_wake_up_is_consumed_and_yields_no_event) {
    p.poller->wake();
    p.poller->wake();  // two wakes before a wait: one trigger, cleared once reported
    EXPECT_TRUE(p.wait(-1).empty());
    auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(p.wait(20'000'000).empty());
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(20))
        << "the trigger was not cleared";
}

TEST_F(kqueue_poller, wake_from_another_thread_ends_an_infinite_wait) {
    // The waker waits until this thread is really blocked inside kevent() before each wake, so
    // every round crosses threads into a sleeping wait (no sleeps: the double counts sleepers).
    constexpr int rounds = 50;
    std::atomic<int> woken{0};
    std::thread waker([&] {
        for (int i = 0; i < rounds; ++i) {
            while (kd::blocked_waiters(p.kq) == 0) std::this_thread::yield();
            p.poller->wake();
            while (woken.load() == i) std::this_thread::yield();
        }
    });
    for (int i = 0; i < rounds; ++i) {
        EXPECT_TRUE(p.wait(-1).empty()) << "a wake-up is not an event";
        woken.store(i + 1);
    }
    waker.join();
}

TEST_F(kqueue_poller, a_wake_up_does_not_hide_a_socket_event_in_the_same_batch) {
    socket_pair s;
    ASSERT_TRUE(p.poller->add(s.mine, 77, os::interest_read));
    s.peer_writes("x");
    p.poller->wake();
    auto ev = only_event(p.wait(generous_ns), 77);
    EXPECT_TRUE(ev.readable);
}

TEST_F(kqueue_poller, a_small_output_span_limits_the_batch_and_keeps_the_rest) {
    socket_pair a, b, c;
    ASSERT_TRUE(p.poller->add(a.mine, 1, os::interest_read));
    ASSERT_TRUE(p.poller->add(b.mine, 2, os::interest_read));
    ASSERT_TRUE(p.poller->add(c.mine, 3, os::interest_read));
    for (auto* s : {&a, &b, &c}) s->peer_writes("x");
    std::vector<uint64_t> seen;
    std::array<os::poll_event, 1> one{};
    for (int i = 0; i < 3; ++i) {
        auto n = p.poller->wait(one, generous_ns);
        ASSERT_TRUE(n);
        ASSERT_EQ(*n, 1u);
        seen.push_back(one[0].token);
    }
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(seen, (std::vector<uint64_t>{1, 2, 3}));
}

// ---- the poller's requests, whole --------------------------------------------------------------

TEST_F(kqueue_poller, every_descriptor_change_carries_ev_receipt) {
    socket_pair s;
    ASSERT_TRUE(p.poller->add(s.mine, 1, both));
    ASSERT_TRUE(p.poller->update(s.mine, 1, os::interest_read));
    p.poller->remove(s.mine);
    for (const auto& c : kd::changes()) {
        EXPECT_TRUE(c.flags & EV_RECEIPT) << "filter " << c.filter << " flags " << c.flags;
        if (c.flags & EV_ADD) {
            EXPECT_TRUE(c.flags & EV_CLEAR);
        }
    }
}
