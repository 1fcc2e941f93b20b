// The io_uring engine's multishot accept: one SQE serves many accepts, connections that arrive
// with no accept waiting are kept (in order, up to a bound) for the next ones, the bound and a
// cancelled last accept stop the multishot, detach closes what was kept, and peer addresses are
// still filled in. The accept suite (tests/engine/accept_test.cpp, with its EMFILE back-off) runs
// on this engine through OPENSOCKET_ENGINE=uring. Skips where io_uring or multishot accept is
// missing.

#include <test_support.hpp>

#ifdef OPENSOCKET_HAVE_URING
#include "uring_rig.hpp"

#include <opensocket/spawn.hpp>
#include <opensocket/when_all.hpp>

#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cerrno>
#include <deque>
#include <vector>

using namespace opensocket;
using namespace opensocket::testing;

namespace {

/// A client connected (blocking connect, so the connection sits in the listener's backlog or
/// has been accepted when this returns) to `to`.
socket_handle connect_client(const socket_address& to) {
    auto c = socket_handle::open(AF_INET, SOCK_STREAM);
    if (!c) throw std::system_error(c.error(), "socket");
    if (auto ec = detail::set_blocking(c->get(), true)) throw std::system_error(ec, "blocking");
    if (::connect(c->get(), to.native(), to.native_size()) != 0)
        throw std::system_error(errno, std::generic_category(), "connect");
    timeval tv{5, 0};  // a bound for the reads below, should a test go wrong
    ::setsockopt(c->get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return std::move(*c);
}

uint16_t local_port(int fd) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return 0;
    return ntohs(a.sin_port);
}

uint16_t peer_port(int fd) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return 0;
    return ntohs(a.sin_port);
}

std::size_t open_descriptors() {
    std::size_t n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (::readdir(d) != nullptr) ++n;
        ::closedir(d);
    }
    return n;
}

/// An accept op with room for the peer's address.
struct accept_op : raw_op {
    accept_op() {
        op.addr = reinterpret_cast<sockaddr*>(&peer);
        op.addrlen = &peer_len;
    }
    sockaddr_in peer{};
    socklen_t peer_len = sizeof peer;
    uint16_t port() const { return ntohs(peer.sin_port); }
};

/// A raw rig with a loopback listener attached to its engine.
struct listener_rig {
    explicit listener_rig(const uring_options& opts = {.entries = 8})
        : rig(opts), listener(loopback_listener()), addr(address_of(listener)) {
        auto t = rig.engine().attach(listener.native());
        if (!t) throw std::system_error(t.error(), "attach");
        token = *t;
    }
    ~listener_rig() { detach(); }
    bool start(accept_op& o) { return rig.start(o, io_kind::accept, token, listener.native(), 0); }
    void detach() {
        if (attached) rig.engine().detach(token);
        attached = false;
    }
    raw_rig rig;
    tcp_listener listener;  // never attached through the coroutine layer: the rig drives it
    socket_address addr;
    io_token token{};
    bool attached = true;
};

/// Accepts one client through an accept op (arming the listener's multishot accept, which then
/// has no accept waiting) and closes the accepted end; the client goes into `clients`.
void accept_first_client(listener_rig& r, std::vector<socket_handle>& clients) {
    accept_op first;
    ASSERT_FALSE(r.start(first));
    clients.push_back(connect_client(r.addr));
    r.rig.settle([&] { return first.resumed > 0; });
    ASSERT_GE(first.op.res, 0);
    ::close(static_cast<int>(first.op.res));
}

/// Every client after the first sees its server end closed (EOF, or a reset).
void expect_clients_see_close(const std::vector<socket_handle>& clients) {
    for (std::size_t i = 1; i < clients.size(); ++i) {
        char c;
        long n = ::recv(clients[i].get(), &c, 1, 0);
        EXPECT_TRUE(n == 0 || (n < 0 && errno == ECONNRESET)) << "client " << i << ": " << n;
    }
}

}  // namespace

TEST(uring_engine, multishot_accept_serves_many_connections_from_one_sqe) {
    SKIP_WITHOUT_URING();
    listener_rig r;
    SKIP_WITHOUT_MULTISHOT_ACCEPT(r.rig.engine());
    constexpr int connections = 50;
    for (int i = 0; i < connections; ++i) {
        accept_op o;
        bool inline_done = r.start(o);
        auto client = connect_client(r.addr);
        if (!inline_done) r.rig.settle([&] { return o.resumed > 0; });
        ASSERT_TRUE(inline_done || o.resumed == 1) << "connection " << i;
        ASSERT_GE(o.op.res, 0) << "connection " << i;
        socket_handle accepted(static_cast<int>(o.op.res));
        // The address comes from getpeername (a multishot accept cannot return one).
        ASSERT_EQ(o.peer_len, sizeof(sockaddr_in));
        EXPECT_EQ(o.port(), local_port(client.get()));
        EXPECT_EQ(peer_port(accepted.get()), local_port(client.get()));
    }
    EXPECT_EQ(r.rig.engine().stats().accept_arms, 1u);
}

TEST(uring_engine, connections_arriving_with_no_accept_waiting_are_kept_in_order) {
    SKIP_WITHOUT_URING();
    listener_rig r;
    SKIP_WITHOUT_MULTISHOT_ACCEPT(r.rig.engine());
    accept_op first;
    ASSERT_FALSE(r.start(first));  // arms the multishot
    std::vector<socket_handle> clients;
    clients.push_back(connect_client(r.addr));
    r.rig.settle([&] { return first.resumed > 0; });
    ASSERT_GE(first.op.res, 0);
    socket_handle first_conn(static_cast<int>(first.op.res));
    for (int i = 0; i < 5; ++i) clients.push_back(connect_client(r.addr));
    r.rig.settle([&] { return r.rig.engine().stats().accepts_queued == 5; });
    ASSERT_EQ(r.rig.engine().stats().accepts_queued, 5u);
    // Each later accept completes at once, with the connections in arrival order.
    for (int i = 1; i <= 5; ++i) {
        accept_op o;
        ASSERT_TRUE(r.start(o)) << "accept " << i;
        ASSERT_GE(o.op.res, 0);
        socket_handle conn(static_cast<int>(o.op.res));
        EXPECT_EQ(o.port(), local_port(clients[i].get())) << "accept " << i;
        EXPECT_EQ(o.resumed, 0);
    }
    EXPECT_EQ(r.rig.engine().stats().accept_arms, 1u);
}

TEST(uring_engine, accept_queue_bound_leaves_the_rest_in_the_backlog_then_rearms) {
    SKIP_WITHOUT_URING();
    listener_rig r({.entries = 8, .accept_queue = 3});
    SKIP_WITHOUT_MULTISHOT_ACCEPT(r.rig.engine());
    accept_op first;
    ASSERT_FALSE(r.start(first));
    std::vector<socket_handle> clients;
    clients.push_back(connect_client(r.addr));
    r.rig.settle([&] { return first.resumed > 0; });
    ASSERT_GE(first.op.res, 0);
    socket_handle first_conn(static_cast<int>(first.op.res));
    constexpr int more = 8;
    for (int i = 0; i < more; ++i) {
        clients.push_back(connect_client(r.addr));
        if (i < 3)
            r.rig.settle([&] { return r.rig.engine().stats().accepts_queued == i + 1u; });
        else
            for (int k = 0; k < 3; ++k) r.rig.turn(1ms);
    }
    // The multishot stopped once 3 were kept (connections that arrive within the same loop turn
    // as the third would be kept too: the bound takes effect with the next submission).
    const uint64_t kept = r.rig.engine().stats().accepts_queued;
    EXPECT_EQ(kept, 3u);
    // Every connection is still served, in order: the kept ones at once, then the multishot is
    // armed again for those left in the kernel's backlog.
    std::deque<accept_op> ops(more);
    for (int i = 0; i < more; ++i) {
        const bool inline_done = r.start(ops[i]);
        EXPECT_EQ(inline_done, static_cast<uint64_t>(i) < kept) << "accept " << i;
    }
    r.rig.settle([&] { return ops.back().resumed > 0; });
    for (int i = 0; i < more; ++i) {
        ASSERT_GE(ops[i].op.res, 0) << "accept " << i;
        socket_handle conn(static_cast<int>(ops[i].op.res));
        EXPECT_EQ(ops[i].port(), local_port(clients[i + 1].get())) << "accept " << i;
        EXPECT_LE(ops[i].resumed, 1);
    }
    EXPECT_EQ(r.rig.engine().stats().accept_arms, 2u);
}

TEST(uring_engine, tiny_completion_queue_ends_the_multishot_accept_without_losing_connections) {
    SKIP_WITHOUT_URING();
    // 8 CQEs: a burst of connections overflows the CQ, which ends the multishot accept (no
    // IORING_CQE_F_MORE); it is armed again and every connection is accepted, in order.
    listener_rig r({.entries = 4, .cq_entries = 8});
    SKIP_WITHOUT_MULTISHOT_ACCEPT(r.rig.engine());
    accept_op first;
    ASSERT_FALSE(r.start(first));
    r.rig.turn();
    constexpr int burst = 100;
    std::vector<socket_handle> clients;
    for (int i = 0; i < burst; ++i) clients.push_back(connect_client(r.addr));
    std::deque<accept_op> ops(burst - 1);
    r.rig.settle([&] { return first.resumed > 0; });
    ASSERT_GE(first.op.res, 0);
    socket_handle conn0(static_cast<int>(first.op.res));
    EXPECT_EQ(first.port(), local_port(clients[0].get()));
    for (int i = 1; i < burst; ++i) {
        accept_op& o = ops[i - 1];
        if (!r.start(o)) r.rig.settle([&] { return o.resumed > 0; });
        ASSERT_GE(o.op.res, 0) << "connection " << i;
        socket_handle conn(static_cast<int>(o.op.res));
        EXPECT_EQ(o.port(), local_port(clients[i].get())) << "connection " << i;
    }
    RecordProperty("accept_arms", static_cast<int>(r.rig.engine().stats().accept_arms));
    RecordProperty("overflow_flushes", static_cast<int>(r.rig.engine().stats().overflow_flushes));
}

TEST(uring_engine, detach_closes_connections_the_multishot_kept) {
    SKIP_WITHOUT_URING();
    const std::size_t fds_before = open_descriptors();
    std::vector<socket_handle> clients;
    {
        listener_rig r;
        SKIP_WITHOUT_MULTISHOT_ACCEPT(r.rig.engine());
        ASSERT_NO_FATAL_FAILURE(accept_first_client(r, clients));
        for (int i = 0; i < 4; ++i) clients.push_back(connect_client(r.addr));
        r.rig.settle([&] { return r.rig.engine().stats().accepts_queued == 4; });
        ASSERT_EQ(r.rig.engine().stats().accepts_queued, 4u);
        r.detach();
        r.rig.turn();
    }
    // Listener, engine and the four kept connections are gone; the clients see the close.
    EXPECT_EQ(open_descriptors(), fds_before + clients.size());
    expect_clients_see_close(clients);
}

TEST(uring_engine, cancelling_the_last_waiting_accept_stops_the_multishot) {
    SKIP_WITHOUT_URING();
    listener_rig r;
    SKIP_WITHOUT_MULTISHOT_ACCEPT(r.rig.engine());
    accept_op gone;
    ASSERT_FALSE(r.start(gone));
    r.rig.turn();  // the multishot is in the kernel
    r.rig.engine().cancel(gone.op);
    r.rig.engine().cancel(gone.op);  // twice changes nothing
    r.rig.settle([&] { return gone.resumed > 0; });
    EXPECT_EQ(gone.resumed, 1);
    EXPECT_EQ(gone.op.res, -ECANCELED);
    // Nobody wants connections now: this one stays in the kernel's backlog...
    auto client = connect_client(r.addr);
    for (int i = 0; i < 5; ++i) r.rig.turn(1ms);
    EXPECT_EQ(r.rig.engine().stats().accepts_queued, 0u);
    // ...until the next accept, which arms a new multishot and gets it.
    accept_op next;
    ASSERT_FALSE(r.start(next));
    r.rig.settle([&] { return next.resumed > 0; });
    ASSERT_GE(next.op.res, 0);
    socket_handle conn(static_cast<int>(next.op.res));
    EXPECT_EQ(next.port(), local_port(client.get()));
    EXPECT_EQ(r.rig.engine().stats().accept_arms, 2u);
}

TEST(uring_engine, accept_ops_queued_behind_each_other_complete_in_order_or_cancel_at_once) {
    SKIP_WITHOUT_URING();
    listener_rig r;
    SKIP_WITHOUT_MULTISHOT_ACCEPT(r.rig.engine());
    std::deque<accept_op> ops(3);
    for (auto& o : ops) ASSERT_FALSE(r.start(o));
    r.rig.turn();
    r.rig.engine().cancel(ops[1].op);  // the middle one: done at once, the others keep waiting
    r.rig.turn();
    EXPECT_EQ(ops[1].resumed, 1);
    EXPECT_EQ(ops[1].op.res, -ECANCELED);
    auto a = connect_client(r.addr);
    auto b = connect_client(r.addr);
    r.rig.settle([&] { return ops[2].resumed > 0; });
    for (int i : {0, 2}) {
        EXPECT_EQ(ops[i].resumed, 1);
        ASSERT_GE(ops[i].op.res, 0);
        ::close(static_cast<int>(ops[i].op.res));
    }
    EXPECT_EQ(ops[0].port(), local_port(a.get()));
    EXPECT_EQ(ops[2].port(), local_port(b.get()));
}

TEST(uring_engine, single_shot_accept_when_multishot_is_turned_off) {
    SKIP_WITHOUT_URING();
    listener_rig r({.entries = 8, .multishot_accept = false});
    EXPECT_FALSE(r.rig.engine().features().multishot_accept);
    for (int i = 0; i < 3; ++i) {
        accept_op o;
        ASSERT_FALSE(r.start(o));
        auto client = connect_client(r.addr);
        r.rig.settle([&] { return o.resumed > 0; });
        ASSERT_GE(o.op.res, 0);
        socket_handle conn(static_cast<int>(o.op.res));
        EXPECT_EQ(o.port(), local_port(client.get()));  // from the kernel's accept this time
    }
    EXPECT_EQ(r.rig.engine().stats().accept_arms, 0u);
    EXPECT_EQ(r.rig.engine().stats().accepts_queued, 0u);
}

TEST(uring_engine, destroying_the_engine_closes_connections_left_in_the_completion_queue) {
    // A loop that returns flushes its ring (an io_uring_enter that gets events) and then may
    // never reap again: connections the multishot accept took in that enter are in CQEs nobody
    // reads. The engine's destructor closes them; nobody else knows their descriptors.
    SKIP_WITHOUT_URING();
    const std::size_t fds_before = open_descriptors();
    std::vector<socket_handle> clients;
    {
        listener_rig r;
        SKIP_WITHOUT_MULTISHOT_ACCEPT(r.rig.engine());
        ASSERT_NO_FATAL_FAILURE(accept_first_client(r, clients));
        // A descriptor detached with a read in the kernel: flush() then has work to do.
        unix_pair pair;
        auto t = r.rig.engine().attach(pair.mine);
        ASSERT_TRUE(t);
        raw_op read;
        ASSERT_FALSE(r.rig.start(read, io_kind::recv, *t, pair.mine, 1));
        r.rig.turn();
        r.rig.engine().detach(*t);
        for (int i = 0; i < 3; ++i) clients.push_back(connect_client(r.addr));
        r.rig.engine().flush();  // the accepts complete into the CQ; no poll reaps them
        EXPECT_EQ(r.rig.engine().stats().accepts_queued, 0u);
    }
    EXPECT_EQ(open_descriptors(), fds_before + clients.size());
    expect_clients_see_close(clients);
}

#endif  // OPENSOCKET_HAVE_URING
