// The io_uring engine closes sockets with an IORING_OP_CLOSE SQE (uring_options::ring_close):
// the close goes out with the loop turn's other SQEs, behind the socket's own, and no close(2)
// or early submit is made. The peer still sees EOF at once, the descriptor is really gone after
// the next submit, the descriptor number cannot be reused while its close is queued, a loop
// that returns submits what it queued, and with the option off the caller's close(2) does it.

#include <test_support.hpp>

#ifdef OPENSOCKET_HAVE_URING
#include "uring_rig.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cerrno>
#include <string>

using namespace opensocket;
using namespace opensocket::testing;

namespace {

bool descriptor_open(int fd) { return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

/// Whether the peer end reads EOF within a second (it has no executor: plain poll + recv).
bool peer_sees_eof(int fd) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) != 1) return false;
    char c;
    return ::recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}

/// A socketpair: `mine` to wrap in a stream, `peer` stays a plain descriptor.
struct plain_pair {
    plain_pair() {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0)
            throw std::system_error(errno, std::generic_category(), "socketpair");
        mine = fds[0];
        peer = fds[1];
    }
    ~plain_pair() { ::close(peer); }
    int mine = -1;
    int peer = -1;
};

}  // namespace

TEST(uring_engine, ring_close_closes_a_reading_ahead_stream_and_the_peer_sees_eof) {
    SKIP_WITHOUT_URING();
    uring_rig rig;
    SKIP_WITHOUT_RING_CLOSE(*rig.eng);
    plain_pair p;
    bool open_after_close = false, open_at_the_end = true, reused = true;
    rig.run([&]() -> task<> {
        tcp_stream s{socket_handle(p.mine)};
        s.read_ahead();
        const char hello = 'h';
        EXPECT_EQ(::send(p.peer, &hello, 1, 0), 1);
        std::array<std::byte, 4> buf{};
        auto n = co_await s.read_some(buf);  // arms the multishot recv, which stays armed
        EXPECT_TRUE(n && *n == 1);
        s.close();
        // Queued, not run: the number still names the socket, so a new descriptor cannot get it.
        open_after_close = descriptor_open(p.mine);
        int fresh = ::dup(p.peer);
        reused = fresh == p.mine;
        ::close(fresh);
        // One more operation: on io_uring it completes only through a poll, which submits the
        // queued cancel and close ahead of its own SQE.
        plain_pair other;
        tcp_stream o{socket_handle(other.mine)};
        EXPECT_EQ(::send(other.peer, &hello, 1, 0), 1);
        EXPECT_TRUE(co_await o.read_some(buf));
        open_at_the_end = descriptor_open(p.mine);
    }());
    EXPECT_TRUE(open_after_close);
    EXPECT_FALSE(reused);
    EXPECT_FALSE(open_at_the_end);
    EXPECT_TRUE(peer_sees_eof(p.peer));
    EXPECT_EQ(rig.eng->stats().ring_closes, 2u);  // this stream's, and the other one's
}

TEST(uring_engine, a_loop_that_returns_submits_its_queued_closes) {
    SKIP_WITHOUT_URING();
    uring_rig rig;
    SKIP_WITHOUT_RING_CLOSE(*rig.eng);
    plain_pair p;
    rig.run([&]() -> task<> {
        tcp_stream s{socket_handle(p.mine)};
        s.read_ahead();
        const char hello = 'h';
        EXPECT_EQ(::send(p.peer, &hello, 1, 0), 1);
        std::array<std::byte, 4> buf{};
        EXPECT_TRUE(co_await s.read_some(buf));  // the multishot recv stays armed
        EXPECT_TRUE(co_await s.write_all(std::string_view("bye")));
        s.close();  // the last thing the loop does before run() returns
    }());
    // No further poll: the executor flushed the cancel and the close when its loop returned.
    EXPECT_FALSE(descriptor_open(p.mine));
    char got[4] = {};
    EXPECT_EQ(::recv(p.peer, got, sizeof got, MSG_DONTWAIT), 3);
    EXPECT_TRUE(peer_sees_eof(p.peer));
    EXPECT_EQ(rig.eng->stats().ring_closes, 1u);
}

TEST(uring_engine, without_ring_close_the_caller_closes_at_once) {
    SKIP_WITHOUT_URING();
    uring_rig rig({.ring_close = false});
    EXPECT_FALSE(rig.eng->features().ring_close);
    plain_pair p;
    bool open_after_close = true;
    rig.run([&]() -> task<> {
        tcp_stream s{socket_handle(p.mine)};
        s.read_ahead();
        const char hello = 'h';
        EXPECT_EQ(::send(p.peer, &hello, 1, 0), 1);
        std::array<std::byte, 4> buf{};
        EXPECT_TRUE(co_await s.read_some(buf));
        s.close();
        open_after_close = descriptor_open(p.mine);
    }());
    EXPECT_FALSE(open_after_close);
    EXPECT_TRUE(peer_sees_eof(p.peer));
    EXPECT_EQ(rig.eng->stats().ring_closes, 0u);
}

#endif  // OPENSOCKET_HAVE_URING
