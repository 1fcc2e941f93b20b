// select_poller on its own (no engine): the fd_set limit, the wake-up, level-triggered
// readiness, interest changes, fairness when more descriptors are ready than the caller takes,
// refused connects (exceptfds on Windows), and a descriptor closed while still registered.
// Loopback TCP pairs of plain sockets throughout, so that the same tests run on Winsock.

#include <test_support.hpp>

#include <opensocket/backends/select_poller.hpp>
#include <opensocket/error.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <semaphore>
#include <set>
#include <thread>
#include <vector>

#ifndef _WIN32
#include <sys/resource.h>
#include <unistd.h>
#endif

using namespace opensocket;
using namespace opensocket::testing;
using namespace std::chrono_literals;

namespace {

constexpr int64_t forever = -1;
constexpr int64_t five_seconds = 5'000'000'000;

/// The events of one wait, by token.
struct batch {
    std::vector<poll_event> events;
    const poll_event* find(uint64_t token) const {
        for (const auto& e : events)
            if (e.token == token) return &e;
        return nullptr;
    }
};

batch wait_once(select_poller& p, int64_t timeout_ns, std::size_t max = 64) {
    std::vector<poll_event> out(max);
    auto n = p.wait(out, timeout_ns);
    EXPECT_TRUE(n) << n.error().message();
    out.resize(n ? *n : 0);
    return {out};
}

void send_byte(const socket_handle& h) { ASSERT_EQ(raw_send(h.get(), "x", 1), 1); }

}  // namespace

#ifndef _WIN32
// POSIX: an fd_set is a bitmap of FD_SETSIZE bits; FD_SET on a larger fd writes past it.
TEST(select_poller, refuses_an_fd_at_or_above_fd_setsize_with_a_clear_error) {
    rlimit lim{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &lim), 0);
    if (lim.rlim_max <= FD_SETSIZE)
        GTEST_SKIP() << "RLIMIT_NOFILE hard limit " << lim.rlim_max << " <= FD_SETSIZE";
    if (lim.rlim_cur <= FD_SETSIZE) {
        rlimit raised = lim;
        raised.rlim_cur = FD_SETSIZE + 16;
        ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &raised), 0);
    }
    auto l = loopback_listener();
    auto pair = raw_loopback_pair(l);
    const int big = FD_SETSIZE;  // the first fd that does not fit
    ASSERT_EQ(::dup2(pair.server.get(), big), big);
    socket_handle big_handle(big);

    select_poller p;
    auto r = p.add(big, 7, interest_read);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), error::descriptor_too_large);
    EXPECT_NE(r.error().message().find("FD_SETSIZE"), std::string::npos) << r.error().message();
    EXPECT_EQ(p.size(), 0u);

    // Nothing was corrupted: the poller still watches the same socket under its small fd.
    send_byte(pair.client);
    ASSERT_TRUE(p.add(pair.server.get(), 8, interest_read));
    auto b = wait_once(p, five_seconds);
    ASSERT_EQ(b.events.size(), 1u);
    EXPECT_EQ(b.events[0].token, 8u);
    EXPECT_TRUE(b.events[0].readable);
}

// The same refusal through the engine: the first operation on such a socket fails cleanly.
task<std::error_code> read_on(socket_handle h) {
    tcp_stream s(std::move(h));
    std::array<std::byte, 4> buf;
    auto n = co_await s.read_some(buf);
    co_return n ? std::error_code{} : n.error();
}

TEST(select_poller, engine_op_on_an_fd_above_fd_setsize_fails_with_descriptor_too_large) {
    rlimit lim{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &lim), 0);
    if (lim.rlim_max <= FD_SETSIZE)
        GTEST_SKIP() << "RLIMIT_NOFILE hard limit " << lim.rlim_max << " <= FD_SETSIZE";
    rlimit raised = lim;
    raised.rlim_cur = std::max<rlim_t>(lim.rlim_cur, FD_SETSIZE + 16);
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &raised), 0);
    auto l = loopback_listener();
    auto pair = raw_loopback_pair(l);
    ASSERT_EQ(::dup2(pair.server.get(), FD_SETSIZE + 3), FD_SETSIZE + 3);
    auto ec = sync_wait(read_on(socket_handle(FD_SETSIZE + 3)), engine_kind::select);
    EXPECT_EQ(ec, error::descriptor_too_large) << ec.message();
}
#else
// Windows: an fd_set is a counted array; the build sizes it (FD_SETSIZE=4096), and the poller
// counts sockets. Handle values are not checked by add(), so the limit is testable with fakes.
TEST(select_poller, refuses_a_socket_once_the_fd_set_is_full) {
    select_poller p;
    ASSERT_GE(select_poller::capacity(), 4000u);
    for (std::size_t i = 0; i < select_poller::capacity(); ++i)
        ASSERT_TRUE(p.add(static_cast<native_handle>(4 * (i + 1)), i, interest_none));
    auto r =
        p.add(static_cast<native_handle>(4 * (select_poller::capacity() + 1)), 0, interest_none);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), error::descriptor_too_large);
    EXPECT_NE(r.error().message().find("FD_SETSIZE"), std::string::npos);
    for (std::size_t i = 0; i < select_poller::capacity(); ++i)
        p.remove(static_cast<native_handle>(4 * (i + 1)));
    EXPECT_EQ(p.size(), 0u);
}
#endif

TEST(select_poller, is_level_triggered_and_reports_unread_data_again) {
    auto l = loopback_listener();
    auto pair = raw_loopback_pair(l);
    select_poller p;
    EXPECT_FALSE(p.edge_triggered());
    ASSERT_TRUE(p.add(pair.server.get(), 1, interest_read));
    send_byte(pair.client);
    for (int i = 0; i < 3; ++i) {  // not read: reported on every wait
        auto b = wait_once(p, five_seconds);
        ASSERT_EQ(b.events.size(), 1u);
        EXPECT_TRUE(b.events[0].readable);
        EXPECT_FALSE(b.events[0].writable);  // no write interest
    }
    char c;
    ASSERT_EQ(raw_recv(pair.server.get(), &c, 1), 1);
    EXPECT_TRUE(wait_once(p, 0).events.empty());
}

TEST(select_poller, update_changes_interest_and_token_and_remove_forgets) {
    auto l = loopback_listener();
    auto pair = raw_loopback_pair(l);
    select_poller p;
    ASSERT_TRUE(p.add(pair.server.get(), 1, interest_none));
    send_byte(pair.client);
    EXPECT_TRUE(wait_once(p, 0).events.empty());  // no interest: not in any set

    ASSERT_TRUE(p.update(pair.server.get(), 2, interest_read | interest_write));
    auto b = wait_once(p, five_seconds);
    ASSERT_EQ(b.events.size(), 1u);
    EXPECT_EQ(b.events[0].token, 2u);
    EXPECT_TRUE(b.events[0].readable);
    EXPECT_TRUE(b.events[0].writable);  // a fresh connection has send space

    ASSERT_TRUE(p.update(pair.server.get(), 3, interest_write));
    b = wait_once(p, five_seconds);
    ASSERT_EQ(b.events.size(), 1u);
    EXPECT_EQ(b.events[0].token, 3u);
    EXPECT_FALSE(b.events[0].readable);

    p.remove(pair.server.get());
    EXPECT_EQ(p.size(), 0u);
    EXPECT_TRUE(wait_once(p, 0).events.empty());
    p.remove(pair.server.get());  // unknown: ignored
    EXPECT_EQ(p.update(pair.server.get(), 4, interest_read).error(),
              std::errc::no_such_file_or_directory);
    ASSERT_TRUE(p.add(pair.server.get(), 5, interest_read));  // re-added after removal
    EXPECT_EQ(p.add(pair.server.get(), 6, interest_read).error(), std::errc::file_exists);
    b = wait_once(p, five_seconds);
    ASSERT_EQ(b.events.size(), 1u);
    EXPECT_EQ(b.events[0].token, 5u);
}

TEST(select_poller, removing_one_of_many_keeps_the_others_tokens) {
    auto l = loopback_listener();
    std::vector<raw_socket_pair> pairs;
    select_poller p;
    for (uint64_t i = 0; i < 5; ++i) {
        pairs.push_back(raw_loopback_pair(l));
        ASSERT_TRUE(p.add(pairs.back().server.get(), 100 + i, interest_read));
        send_byte(pairs.back().client);
    }
    p.remove(pairs[1].server.get());  // swap-removal moves the last entry into its place
    p.remove(pairs[0].server.get());
    auto b = wait_once(p, five_seconds);
    std::set<uint64_t> tokens;
    for (const auto& e : b.events) tokens.insert(e.token);
    EXPECT_EQ(tokens, (std::set<uint64_t>{102, 103, 104}));
}

TEST(select_poller, wake_from_another_thread_interrupts_a_wait_without_an_event) {
    select_poller p;
    std::thread waker([&] { p.wake(); });
    auto b = wait_once(p, forever);  // returns: the wake-up may come before or during the wait
    waker.join();
    EXPECT_TRUE(b.events.empty());
}

TEST(select_poller, wake_ups_racing_with_waits_never_leave_the_poller_deaf) {
    // A wake() that lands while the poller consumes an earlier one must not be lost, nor leave
    // later wakes skipped as "already pending" with nothing in the channel. Phase 1 races a
    // stream of wakes against waits; phase 2 then needs every single wake to end a wait.
    select_poller p;
    std::atomic<bool> hammering{true};
    std::thread hammer([&] {
        for (int i = 0; i < 200'000; ++i) p.wake();
        hammering = false;
    });
    while (hammering) (void)wait_once(p, 1'000'000);
    hammer.join();
    (void)wait_once(p, 0);  // consume a last pending wake, if any

    std::binary_semaphore go{0};
    std::atomic<bool> quit{false};
    std::thread waker([&] {
        for (;;) {
            go.acquire();
            if (quit) return;
            p.wake();
            p.wake();  // a second wake while one is pending: coalesced
        }
    });
    int slow = 0;
    for (int i = 0; i < 200; ++i) {
        go.release();
        const auto start = std::chrono::steady_clock::now();
        auto b = wait_once(p, 2'000'000'000);  // ends by the wake, or by this 2 s timeout
        EXPECT_TRUE(b.events.empty());
        if (std::chrono::steady_clock::now() - start > 1s && ++slow > 2) break;
    }
    quit = true;
    go.release();
    waker.join();
    EXPECT_EQ(slow, 0) << "waits ended by their timeout: a wake-up was lost";
}

TEST(select_poller, a_timeout_never_ends_the_wait_early) {
    select_poller p;
    auto l = loopback_listener();
    auto pair = raw_loopback_pair(l);
    ASSERT_TRUE(p.add(pair.server.get(), 1, interest_read));  // never readable
    const auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(wait_once(p, 1'500'500).events.empty());  // 1.5005 ms rounds up to 1501 us
    EXPECT_GE(std::chrono::steady_clock::now() - start, 1500us);
    EXPECT_TRUE(wait_once(p, 1).events.empty());  // 1 ns: rounds up, returns
}

TEST(select_poller, more_ready_than_the_caller_takes_are_reported_over_the_next_waits) {
    auto l = loopback_listener();
    std::vector<raw_socket_pair> pairs;
    select_poller p;
    for (uint64_t i = 0; i < 10; ++i) {
        pairs.push_back(raw_loopback_pair(l));
        ASSERT_TRUE(p.add(pairs.back().server.get(), i, interest_read));
        send_byte(pairs.back().client);
    }
    std::set<uint64_t> seen;
    for (int round = 0; round < 4; ++round) {  // 3 + 3 + 3 + 1: nobody starves
        auto b = wait_once(p, five_seconds, 3);
        EXPECT_LE(b.events.size(), 3u);
        for (const auto& e : b.events) seen.insert(e.token);
    }
    EXPECT_EQ(seen.size(), 10u);
}

TEST(select_poller, refused_connect_is_reported_for_its_token) {
    // Windows reports a refused non-blocking connect in exceptfds only (as `error`); POSIX
    // select marks the socket writable (and readable). Either way the event arrives and
    // SO_ERROR says why.
    socket_address addr;
    {
        auto l = loopback_listener();
        addr = address_of(l);
    }
    auto s = socket_handle::open(AF_INET, SOCK_STREAM);
    ASSERT_TRUE(s);
    int rc = ::connect(s->get(), addr.native(), addr.native_size());
    if (rc == 0) GTEST_SKIP() << "connect to a closed port succeeded?";
    int e = detail::last_socket_errno();
    if (e == ECONNREFUSED) GTEST_SKIP() << "refused synchronously; nothing to wait for";
    ASSERT_TRUE(e == EINPROGRESS || e == EWOULDBLOCK) << e;
    select_poller p;
    ASSERT_TRUE(p.add(s->get(), 42, interest_write));
    auto b = wait_once(p, 10 * five_seconds);
    ASSERT_EQ(b.events.size(), 1u);
    EXPECT_EQ(b.events[0].token, 42u);
#ifdef _WIN32
    EXPECT_TRUE(b.events[0].error);
#else
    EXPECT_TRUE(b.events[0].writable || b.events[0].error);
#endif
    auto err = get_int_option(s->get(), SOL_SOCKET, SO_ERROR);
    ASSERT_TRUE(err);
    EXPECT_EQ(detail::errno_from_socket_error(*err), ECONNREFUSED);
}

TEST(select_poller, a_descriptor_closed_while_registered_is_reported_not_fatal) {
    // Misuse (close before remove) makes select itself fail (EBADF / WSAENOTSOCK): the poller
    // reports the dead entry as an error once and keeps serving the others.
    auto l = loopback_listener();
    auto live = raw_loopback_pair(l);
    auto dead = raw_loopback_pair(l);
    select_poller p;
    ASSERT_TRUE(p.add(live.server.get(), 1, interest_read));
    ASSERT_TRUE(p.add(dead.server.get(), 2, interest_read));
    dead.server.reset();
    auto b = wait_once(p, five_seconds);
    ASSERT_EQ(b.events.size(), 1u);
    EXPECT_EQ(b.events[0].token, 2u);
    EXPECT_TRUE(b.events[0].error);
    send_byte(live.client);
    b = wait_once(p, five_seconds);
    ASSERT_EQ(b.events.size(), 1u);
    EXPECT_EQ(b.events[0].token, 1u);
}

TEST(select_poller, watches_many_sockets_at_once) {
    // Windows: far past Winsock's default of 64 sockets per fd_set (1200 here). POSIX: as many
    // as fit under FD_SETSIZE with room for the test's other descriptors.
#ifdef _WIN32
    constexpr std::size_t pairs_wanted = 600;
#else
    constexpr std::size_t pairs_wanted = (FD_SETSIZE - 128) / 2;
#endif
    auto l = loopback_listener();
    std::vector<raw_socket_pair> pairs;
    pairs.reserve(pairs_wanted);
    select_poller p;
    for (std::size_t i = 0; i < pairs_wanted; ++i) {
        pairs.push_back(raw_loopback_pair(l));
        ASSERT_TRUE(p.add(pairs[i].client.get(), 2 * i, interest_read));
        ASSERT_TRUE(p.add(pairs[i].server.get(), 2 * i + 1, interest_read));
    }
    EXPECT_EQ(p.size(), 2 * pairs_wanted);
    for (auto& pr : pairs) {
        send_byte(pr.client);
        send_byte(pr.server);
    }
    std::set<uint64_t> seen;
    for (int round = 0; round < 100 && seen.size() < 2 * pairs_wanted; ++round) {
        auto b = wait_once(p, five_seconds, 256);
        for (const auto& e : b.events) {
            EXPECT_TRUE(e.readable);
            if (seen.insert(e.token).second) {
                // Read it so that the next waits report the others.
                char c;
                const auto& pr = pairs[e.token / 2];
                EXPECT_EQ(raw_recv((e.token % 2 ? pr.server : pr.client).get(), &c, 1), 1);
            }
        }
    }
    EXPECT_EQ(seen.size(), 2 * pairs_wanted);
}
