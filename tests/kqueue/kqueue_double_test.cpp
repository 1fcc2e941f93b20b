// The kqueue()/kevent() double itself: the kernel behaviours the poller tests rely on, checked
// through the raw API (kqueue(2) on FreeBSD is the reference; see kqueue_double.hpp).

#include "kqueue_double.hpp"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>
#include <cerrno>
#include <memory>
#include <system_error>
#include <thread>
#include <utility>

namespace kd = kqueue_double;

namespace {

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
    void peer_writes() const { ASSERT_EQ(::send(peer, "x", 1, 0), 1); }
    int mine = -1;
    int peer = -1;
};

struct kq_fd {
    kq_fd() : fd(::kqueue()) {
        if (fd < 0) throw std::system_error(errno, std::generic_category(), "kqueue");
    }
    ~kq_fd() { ::close(fd); }
    kq_fd(const kq_fd&) = delete;
    kq_fd& operator=(const kq_fd&) = delete;
    operator int() const { return fd; }
    int fd;
};

struct kevent ev(int ident, short filter, unsigned short flags, unsigned fflags = 0) {
    struct kevent e {};
    EV_SET(&e, static_cast<uintptr_t>(ident), filter, flags, fflags, 0, nullptr);
    return e;
}

int change(int kq, struct kevent c) { return ::kevent(kq, &c, 1, nullptr, 0, nullptr); }

/// Non-blocking collect: the number of events pending.
int pending(int kq, struct kevent* out = nullptr, int room = 8) {
    struct kevent local[8];
    timespec zero{};
    return ::kevent(kq, nullptr, 0, out != nullptr ? out : local, room, &zero);
}

}  // namespace

TEST(kqueue_double, a_closed_descriptor_loses_its_registrations) {
    kd::reset_log();
    kq_fd kq;
    auto s = std::make_unique<socket_pair>();
    const int fd = s->mine;
    ASSERT_EQ(change(kq, ev(fd, EVFILT_READ, EV_ADD | EV_CLEAR)), 0);
    ::close(std::exchange(s->mine, -1));
    EXPECT_FALSE(kd::is_registered(kq, fd, EVFILT_READ));
    EXPECT_EQ(kd::dropped_on_close(), 1u);
    // Deleting it now is an error, as on a real kqueue (the descriptor is gone).
    errno = 0;
    EXPECT_EQ(change(kq, ev(fd, EVFILT_READ, EV_DELETE)), -1);
    EXPECT_EQ(errno, EBADF);
}

TEST(kqueue_double, a_reused_descriptor_number_starts_unregistered) {
    kd::reset_log();
    kq_fd kq;
    auto first = std::make_unique<socket_pair>();
    const int number = first->mine;
    ASSERT_EQ(change(kq, ev(number, EVFILT_READ, EV_ADD | EV_CLEAR)), 0);
    first.reset();
    socket_pair second;
    if (second.mine != number) GTEST_SKIP() << "the descriptor number was not reused";
    errno = 0;
    EXPECT_EQ(change(kq, ev(number, EVFILT_READ, EV_DELETE)), -1);
    EXPECT_EQ(errno, ENOENT);
    EXPECT_EQ(kd::dropped_on_close(), 1u);
}

TEST(kqueue_double, errors_fail_the_call_without_room_and_fill_an_entry_with_room) {
    kq_fd kq;
    socket_pair s;
    errno = 0;
    EXPECT_EQ(change(kq, ev(s.mine, EVFILT_READ, EV_DELETE)), -1);
    EXPECT_EQ(errno, ENOENT);
    struct kevent c = ev(s.mine, EVFILT_WRITE, EV_DELETE);
    struct kevent out {};
    ASSERT_EQ(::kevent(kq, &c, 1, &out, 1, nullptr), 1);
    EXPECT_TRUE(out.flags & EV_ERROR);
    EXPECT_EQ(out.data, ENOENT);
    EXPECT_EQ(out.filter, EVFILT_WRITE);
    errno = 0;
    EXPECT_EQ(change(kq, ev(9999, EVFILT_READ, EV_ADD)), -1);
    EXPECT_EQ(errno, EBADF);
    errno = 0;
    EXPECT_EQ(change(kq, ev(s.mine, EVFILT_TIMER, EV_ADD)), -1) << "unsupported filter";
    EXPECT_EQ(errno, EINVAL);
    errno = 0;
    EXPECT_EQ(change(s.mine, ev(s.mine, EVFILT_READ, EV_ADD)), -1) << "not a kqueue";
    EXPECT_EQ(errno, EBADF);
}

TEST(kqueue_double, receipts_report_success_with_data_zero) {
    kq_fd kq;
    socket_pair s;
    struct kevent c[2] = {ev(s.mine, EVFILT_READ, EV_ADD | EV_RECEIPT),
                          ev(s.mine, EVFILT_WRITE, EV_ADD | EV_RECEIPT)};
    struct kevent out[2] = {};
    ASSERT_EQ(::kevent(kq, c, 2, out, 2, nullptr), 2);
    for (const auto& r : out) {
        EXPECT_TRUE(r.flags & EV_ERROR);
        EXPECT_EQ(r.data, 0);
    }
    EXPECT_EQ(out[0].filter, EVFILT_READ);
    EXPECT_EQ(out[1].filter, EVFILT_WRITE);
}

#ifndef OPENSOCKET_KQUEUE_ABI_MACOS
TEST(kqueue_double, freebsd_stops_after_a_receipt_that_finds_no_room) {
    // FreeBSD's kqueue_kevent() applies a change, then returns at once if its receipt (or error)
    // has no eventlist entry left: the changes after it are not applied. This is why the poller
    // always gives room for every answer.
    kq_fd kq;
    socket_pair s;
    struct kevent c[3] = {ev(s.mine, EVFILT_READ, EV_ADD | EV_RECEIPT),
                          ev(s.mine, EVFILT_WRITE, EV_ADD | EV_RECEIPT),
                          ev(5, EVFILT_USER, EV_ADD | EV_RECEIPT)};
    struct kevent out {};
    EXPECT_EQ(::kevent(kq, c, 3, &out, 1, nullptr), 0);
    EXPECT_TRUE(kd::is_registered(kq, s.mine, EVFILT_READ));
    EXPECT_TRUE(kd::is_registered(kq, s.mine, EVFILT_WRITE));
    EXPECT_FALSE(kd::is_registered(kq, 5, EVFILT_USER));
}
#endif

TEST(kqueue_double, clear_reports_each_arrival_once_and_level_reports_until_read) {
    kq_fd kq;
    socket_pair edge, level;
    ASSERT_EQ(change(kq, ev(edge.mine, EVFILT_READ, EV_ADD | EV_CLEAR)), 0);
    ASSERT_EQ(change(kq, ev(level.mine, EVFILT_READ, EV_ADD)), 0);
    edge.peer_writes();
    level.peer_writes();
    EXPECT_EQ(pending(kq), 2);
    EXPECT_EQ(pending(kq), 1) << "only the level-triggered one again";
    struct kevent out[8];
    ASSERT_EQ(pending(kq, out), 1);
    EXPECT_EQ(out[0].ident, static_cast<uintptr_t>(level.mine));
    EXPECT_EQ(out[0].data, 1) << "bytes readable";
    edge.peer_writes();
    ASSERT_EQ(pending(kq, out), 2) << "a new arrival is a new edge";
}

TEST(kqueue_double, oneshot_fires_once_and_dispatch_disables_until_enabled) {
    kq_fd kq;
    socket_pair a, b;
    ASSERT_EQ(change(kq, ev(a.mine, EVFILT_READ, EV_ADD | EV_ONESHOT)), 0);
    ASSERT_EQ(change(kq, ev(b.mine, EVFILT_READ, EV_ADD | EV_DISPATCH)), 0);
    a.peer_writes();
    b.peer_writes();
    EXPECT_EQ(pending(kq), 2);
    EXPECT_FALSE(kd::is_registered(kq, a.mine, EVFILT_READ));
    EXPECT_TRUE(kd::is_registered(kq, b.mine, EVFILT_READ));
    EXPECT_FALSE(kd::is_enabled(kq, b.mine, EVFILT_READ));
    EXPECT_EQ(pending(kq), 0);
    ASSERT_EQ(change(kq, ev(b.mine, EVFILT_READ, EV_ENABLE)), 0);
    EXPECT_EQ(pending(kq), 1) << "enabling re-evaluates the condition";
}

TEST(kqueue_double, user_events_trigger_carry_fflags_and_clear) {
    kq_fd kq;
    ASSERT_EQ(change(kq, ev(7, EVFILT_USER, EV_ADD | EV_CLEAR)), 0);
    ASSERT_EQ(change(kq, ev(8, EVFILT_USER, EV_ADD)), 0);
    EXPECT_EQ(pending(kq), 0);
    ASSERT_EQ(change(kq, ev(7, EVFILT_USER, 0, NOTE_TRIGGER | NOTE_FFCOPY | 0x5)), 0);
    ASSERT_EQ(change(kq, ev(7, EVFILT_USER, 0, NOTE_FFOR | 0x2)), 0);
    ASSERT_EQ(change(kq, ev(8, EVFILT_USER, 0, NOTE_TRIGGER)), 0);
    struct kevent out[8];
    ASSERT_EQ(pending(kq, out), 2);
    EXPECT_EQ(out[0].ident, 7u);
    EXPECT_EQ(out[0].fflags, 0x7u);
    EXPECT_EQ(pending(kq, out), 1) << "without EV_CLEAR the trigger stays";
    EXPECT_EQ(out[0].ident, 8u);
}

TEST(kqueue_double, a_trigger_from_another_thread_ends_a_blocking_wait) {
    kq_fd kq;
    ASSERT_EQ(change(kq, ev(0, EVFILT_USER, EV_ADD | EV_CLEAR)), 0);
    std::thread t([&] { EXPECT_EQ(change(kq, ev(0, EVFILT_USER, 0, NOTE_TRIGGER)), 0); });
    struct kevent out {};
    EXPECT_EQ(::kevent(kq, nullptr, 0, &out, 1, nullptr), 1);
    EXPECT_EQ(out.filter, EVFILT_USER);
    t.join();
}

TEST(kqueue_double, a_closed_kqueue_is_forgotten) {
    const std::size_t before = kd::live_kqueues();
    int fd = ::kqueue();
    ASSERT_GE(fd, 0);
    EXPECT_EQ(kd::live_kqueues(), before + 1);
    ::close(fd);
    EXPECT_EQ(kd::live_kqueues(), before);
    errno = 0;
    EXPECT_EQ(::kevent(fd, nullptr, 0, nullptr, 0, nullptr), -1);
    EXPECT_EQ(errno, EBADF);
}
