// readiness_engine driven by a scripted fake poller: the engine's own bookkeeping (slot
// generations, parked-op queues, cancellation, interest updates) checked event by event. The
// syscalls are real, on AF_UNIX socket pairs (loopback TCP pairs on Windows); completions go to
// a real executor's run queue,
// where tiny probe coroutines record the order in which they are resumed.

#include <opensocket/backends/readiness_engine.hpp>
#include <opensocket/executor.hpp>
#include <opensocket/poller.hpp>

#include <gtest/gtest.h>
#include <test_support.hpp>

#include <array>
#include <cerrno>
#include <coroutine>
#include <cstring>
#include <deque>
#include <exception>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

using namespace opensocket;

namespace {

// ---- the fake poller -------------------------------------------------------------------------

struct poller_call {
    enum kind_t { add, update, remove } kind;
    native_handle fd;
    uint64_t token;
    uint8_t interest;
};

/// Records every registration call; `wait` returns the next scripted batch of events (or none).
class fake_poller final : public poller {
public:
    explicit fake_poller(bool edge_triggered) : edge_triggered_(edge_triggered) {}

    std::string_view name() const noexcept override { return "fake"; }
    bool edge_triggered() const noexcept override { return edge_triggered_; }
    result<void> add(native_handle fd, uint64_t token, uint8_t interest) noexcept override {
        calls.push_back({poller_call::add, fd, token, interest});
        return {};
    }
    result<void> update(native_handle fd, uint64_t token, uint8_t interest) noexcept override {
        calls.push_back({poller_call::update, fd, token, interest});
        return {};
    }
    void remove(native_handle fd) noexcept override {
        calls.push_back({poller_call::remove, fd, 0, 0});
    }
    result<std::size_t> wait(std::span<poll_event> out, int64_t) noexcept override {
        if (script.empty()) return std::size_t{0};
        std::vector<poll_event> batch = std::move(script.front());
        script.pop_front();
        std::size_t n = std::min(batch.size(), out.size());
        std::copy_n(batch.begin(), n, out.begin());
        return n;
    }
    void wake() noexcept override {}
    bool close_unregisters() const noexcept override { return unregisters_on_close; }

    /// The interests passed to update(), in order.
    std::vector<uint8_t> updates() const {
        std::vector<uint8_t> out;
        for (const auto& c : calls)
            if (c.kind == poller_call::update) out.push_back(c.interest);
        return out;
    }
    std::size_t count(poller_call::kind_t k) const {
        std::size_t n = 0;
        for (const auto& c : calls) n += c.kind == k ? 1 : 0;
        return n;
    }

    std::deque<std::vector<poll_event>> script;
    std::vector<poller_call> calls;
    bool unregisters_on_close = false;  ///< what close_unregisters() says (epoll: true)

private:
    bool edge_triggered_;
};

// ---- probes: coroutines that log each resumption ---------------------------------------------

class probe {
public:
    struct promise_type {
        probe get_return_object() {
            return probe(std::coroutine_handle<promise_type>::from_promise(*this));
        }
        std::suspend_never initial_suspend() noexcept { return {}; }
        std::suspend_always final_suspend() noexcept { return {}; }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { std::terminate(); }
    };
    explicit probe(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
    probe(probe&& o) noexcept : h_(std::exchange(o.h_, {})) {}
    probe& operator=(probe&&) = delete;
    ~probe() {
        if (h_) h_.destroy();
    }
    std::coroutine_handle<> handle() const noexcept { return h_; }

private:
    std::coroutine_handle<promise_type> h_;
};

// Runs to its first suspension at once; every later resumption appends `id` to `log`.
probe log_resumptions(std::vector<int>& log, int id) {
    for (;;) {
        co_await std::suspend_always{};
        log.push_back(id);
    }
}

struct test_op {
    test_op(std::vector<int>& log, int op_id) : id(op_id), p(log_resumptions(log, op_id)) {}
    int id;
    io_op op;
    std::array<std::byte, 64> buf{};
    probe p;
    char byte(std::size_t i = 0) const { return static_cast<char>(buf[i]); }
};

// ---- the harness: a fake-poller engine inside an executor ------------------------------------

class harness {
public:
    explicit harness(bool edge_triggered) : ex_(make(edge_triggered, poller_, engine_)) {}

    fake_poller& poller() { return *poller_; }
    readiness_engine& engine() { return *engine_; }
    /// Ids of the ops whose waiters were resumed, in resumption order.
    const std::vector<int>& resumed() const { return resumed_; }

    /// A receive of up to `len` bytes on `fd` (attached as `t`); not started.
    test_op& recv_op(io_token t, native_handle fd, std::size_t len) {
        test_op& o = new_op(t, fd);
        o.op.kind = io_kind::recv;
        o.op.buf = o.buf.data();
        o.op.len = len;
        return o;
    }
    /// A send of `text` on `fd`; not started.
    test_op& send_op(io_token t, native_handle fd, std::string_view text) {
        test_op& o = new_op(t, fd);
        std::memcpy(o.buf.data(), text.data(), text.size());
        o.op.kind = io_kind::send;
        o.op.buf = o.buf.data();
        o.op.len = text.size();
        return o;
    }

    /// Runs what the engine scheduled (one loop turn without polling).
    void run_ready() {
        std::atomic<bool> done{true};
        ex_.run_until(done);
    }
    /// Makes the next poll() return `events`, polls, and runs what completed.
    void deliver(std::vector<poll_event> events) {
        poller_->script.push_back(std::move(events));
        engine_->poll(0);
        run_ready();
    }

private:
    static std::unique_ptr<opensocket::engine> make(bool et, fake_poller*& p,
                                                    readiness_engine*& e) {
        auto fake = std::make_unique<fake_poller>(et);
        p = fake.get();
        auto eng = std::make_unique<readiness_engine>(std::move(fake));
        e = eng.get();
        return eng;
    }
    test_op& new_op(io_token t, native_handle fd) {
        test_op& o = ops_.emplace_back(resumed_, static_cast<int>(ops_.size()) + 1);
        o.op.ex = &ex_;
        o.op.waiter = o.p.handle();
        o.op.token = t;
        o.op.fd = fd;
        return o;
    }

    // Destroyed in reverse: the executor (which may still resume scheduled probes) goes first.
    std::vector<int> resumed_;
    fake_poller* poller_ = nullptr;
    readiness_engine* engine_ = nullptr;
    std::deque<test_op> ops_;
    executor ex_;
};

/// A non-blocking stream pair: the engine watches `mine`; the test plays the peer. AF_UNIX on
/// POSIX; a loopback TCP pair on Windows (no socketpair there).
struct socket_pair {
    socket_pair() {
#ifdef _WIN32
        auto l = opensocket::testing::loopback_listener();
        auto p = opensocket::testing::raw_loopback_pair(l);
        mine = p.client.release();
        peer = p.server.release();
#else
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0)
            throw std::system_error(errno, std::generic_category(), "socketpair");
        mine = fds[0];
        peer = fds[1];
#endif
    }
    ~socket_pair() {
        detail::close_socket(mine);
        detail::close_socket(peer);
    }
    socket_pair(const socket_pair&) = delete;
    socket_pair& operator=(const socket_pair&) = delete;

    void peer_writes(std::string_view text) const {
        ASSERT_EQ(opensocket::testing::raw_send(peer, text.data(), text.size()),
                  static_cast<long>(text.size()));
    }
    /// Fills `mine`'s send buffer until the kernel refuses even a single byte (EAGAIN).
    void fill_my_send_buffer() const {
        std::vector<char> chunk(16384, 'f');
        for (std::size_t size : {chunk.size(), std::size_t{1}}) {
            while (opensocket::testing::raw_send(mine, chunk.data(), size) > 0) {
            }
            int e = detail::last_socket_errno();
            ASSERT_TRUE(e == EAGAIN || e == EWOULDBLOCK) << std::strerror(e);
        }
    }
    /// Reads and discards everything queued for the peer.
    void peer_drains() const {
        std::vector<char> sink(65536);
        while (opensocket::testing::raw_recv(peer, sink.data(), sink.size()) > 0) {
        }
    }
    /// The next `want` bytes the peer receives, skipping fill bytes ('f') still in flight. A
    /// TCP pair (Windows) may deliver them in several segments, later than an AF_UNIX pair.
    std::string peer_reads(std::size_t want) const {
        std::string got;
        (void)detail::set_blocking(peer, true);
        while (got.size() < want) {
            char c;
            if (opensocket::testing::raw_recv(peer, &c, 1) != 1) break;
            if (c != 'f') got += c;
        }
        (void)detail::set_blocking(peer, false);
        return got;
    }

    native_handle mine = invalid_native_handle;
    native_handle peer = invalid_native_handle;
};

poll_event readable(io_token t) { return {.token = t.pack(), .readable = true}; }
poll_event writable(io_token t) { return {.token = t.pack(), .writable = true}; }

}  // namespace

// ---- generations ---------------------------------------------------------------------------

TEST(readiness_engine, stale_event_for_a_detached_token_is_dropped_after_the_slot_is_reused) {
    harness h(true);
    socket_pair first, second;
    auto old_token = h.engine().attach(first.mine);
    ASSERT_TRUE(old_token);
    h.engine().detach(*old_token);
    auto token = h.engine().attach(second.mine);
    ASSERT_TRUE(token);
    ASSERT_EQ(token->index, old_token->index) << "the freed slot should be reused";
    ASSERT_NE(token->generation, old_token->generation);

    test_op& op = h.recv_op(*token, second.mine, 8);
    ASSERT_FALSE(h.engine().start(op.op));  // nothing to read yet: parks
    // Data is now waiting, so driving this slot would complete the op: only the generation
    // check stops the stale event (also one with every flag set) from doing so.
    second.peer_writes("x");
    poll_event stale{.token = old_token->pack(),
                     .readable = true,
                     .writable = true,
                     .error = true,
                     .read_closed = true};
    h.deliver({stale});
    // An event for a slot that never existed is dropped too.
    h.deliver({readable(io_token{token->index + 100, 1})});
    EXPECT_TRUE(h.resumed().empty());

    h.deliver({readable(*token)});
    EXPECT_EQ(h.resumed(), std::vector<int>{op.id});
    EXPECT_EQ(op.op.res, 1);
    EXPECT_EQ(op.byte(), 'x');
}

TEST(readiness_engine, detached_token_is_rejected_by_start_and_cancel) {
    harness h(true);
    socket_pair s;
    auto token = h.engine().attach(s.mine);
    ASSERT_TRUE(token);
    h.engine().detach(*token);
    test_op& op = h.recv_op(*token, s.mine, 8);
    EXPECT_TRUE(h.engine().start(op.op));  // completes at once...
    EXPECT_EQ(op.op.res, -EBADF);          // ...with EBADF, never parking on a dead slot
    h.engine().cancel(op.op);
    h.run_ready();
    EXPECT_TRUE(h.resumed().empty());  // inline completions are not scheduled
}

// ---- detach ----------------------------------------------------------------------------------

TEST(readiness_engine, detach_completes_every_parked_op_with_ecanceled_exactly_once) {
    harness h(true);
    socket_pair s;
    auto token = h.engine().attach(s.mine);
    ASSERT_TRUE(token);
    s.fill_my_send_buffer();
    std::vector<test_op*> ops;
    for (int i = 0; i < 3; ++i) ops.push_back(&h.recv_op(*token, s.mine, 8));
    for (int i = 0; i < 2; ++i) ops.push_back(&h.send_op(*token, s.mine, "w"));
    for (test_op* o : ops) ASSERT_FALSE(h.engine().start(o->op)) << "op " << o->id;
    h.run_ready();
    ASSERT_TRUE(h.resumed().empty());

    h.engine().detach(*token);
    EXPECT_EQ(h.poller().count(poller_call::remove), 1u);
    for (test_op* o : ops) EXPECT_EQ(o->op.res, -ECANCELED) << "op " << o->id;
    h.run_ready();
    // Readers, then writers, each list in the order the ops parked.
    EXPECT_EQ(h.resumed(), (std::vector<int>{1, 2, 3, 4, 5}));

    // Nothing can complete them again: not a late event, a cancel, or a second detach.
    s.peer_writes("late");
    s.peer_drains();
    h.deliver({poll_event{.token = token->pack(), .readable = true, .writable = true}});
    for (test_op* o : ops) h.engine().cancel(o->op);
    h.engine().detach(*token);
    h.run_ready();
    EXPECT_EQ(h.resumed().size(), 5u);
    EXPECT_EQ(h.poller().count(poller_call::remove), 1u);
}

TEST(readiness_engine, detach_before_close_skips_remove_only_where_closing_unregisters) {
    for (bool unregisters : {false, true}) {
        SCOPED_TRACE(unregisters ? "poller drops closed descriptors" : "poller keeps a table");
        harness h(true);
        h.poller().unregisters_on_close = unregisters;
        socket_pair s;
        auto token = h.engine().attach(s.mine);
        ASSERT_TRUE(token);
        test_op& op = h.recv_op(*token, s.mine, 8);
        ASSERT_FALSE(h.engine().start(op.op));

        h.engine().detach_closing(*token);
        EXPECT_EQ(h.poller().count(poller_call::remove), unregisters ? 0u : 1u);
        EXPECT_EQ(op.op.res, -ECANCELED);  // parked ops end exactly as with detach
        h.run_ready();
        EXPECT_EQ(h.resumed(), std::vector<int>{op.id});
        // A late event for the old token finds a new generation: dropped.
        s.peer_writes("late");
        h.deliver({readable(*token)});
        EXPECT_EQ(h.resumed().size(), 1u);
        // Plain detach (the descriptor stays open) always unregisters.
        socket_pair t;
        auto other = h.engine().attach(t.mine);
        ASSERT_TRUE(other);
        h.engine().detach(*other);
        EXPECT_EQ(h.poller().count(poller_call::remove), unregisters ? 1u : 2u);
    }
}

// ---- FIFO ------------------------------------------------------------------------------------

TEST(readiness_engine, readers_on_one_slot_complete_in_fifo_order) {
    harness h(true);
    socket_pair s;
    auto token = h.engine().attach(s.mine);
    ASSERT_TRUE(token);
    test_op& a = h.recv_op(*token, s.mine, 1);
    test_op& b = h.recv_op(*token, s.mine, 1);
    ASSERT_FALSE(h.engine().start(a.op));
    ASSERT_FALSE(h.engine().start(b.op));
    s.peer_writes("ab");
    // Data is there, but c must queue behind a and b rather than take it.
    test_op& c = h.recv_op(*token, s.mine, 1);
    ASSERT_FALSE(h.engine().start(c.op));

    h.deliver({readable(*token)});
    EXPECT_EQ(h.resumed(), (std::vector<int>{a.id, b.id}));
    EXPECT_EQ(a.byte(), 'a');
    EXPECT_EQ(b.byte(), 'b');

    s.peer_writes("c");
    h.deliver({readable(*token)});
    EXPECT_EQ(h.resumed(), (std::vector<int>{a.id, b.id, c.id}));
    EXPECT_EQ(c.byte(), 'c');
    EXPECT_EQ(h.poller().count(poller_call::update), 0u) << "edge-triggered: no updates";
}

TEST(readiness_engine, writers_on_one_slot_complete_in_fifo_order) {
    harness h(true);
    socket_pair s;
    auto token = h.engine().attach(s.mine);
    ASSERT_TRUE(token);
    s.fill_my_send_buffer();
    test_op& a = h.send_op(*token, s.mine, "1");
    test_op& b = h.send_op(*token, s.mine, "2");
    test_op& c = h.send_op(*token, s.mine, "3");
    for (test_op* o : {&a, &b, &c}) ASSERT_FALSE(h.engine().start(o->op));
    s.peer_drains();

    h.deliver({writable(*token)});
    EXPECT_EQ(h.resumed(), (std::vector<int>{a.id, b.id, c.id}));
    for (test_op* o : {&a, &b, &c}) EXPECT_EQ(o->op.res, 1);
    EXPECT_EQ(s.peer_reads(3), "123");
}

// ---- cancel ----------------------------------------------------------------------------------

TEST(readiness_engine, cancel_completes_one_parked_op_once_and_leaves_the_others_parked) {
    harness h(true);
    socket_pair s;
    auto token = h.engine().attach(s.mine);
    ASSERT_TRUE(token);
    test_op& a = h.recv_op(*token, s.mine, 1);
    test_op& b = h.recv_op(*token, s.mine, 1);
    test_op& c = h.recv_op(*token, s.mine, 1);
    for (test_op* o : {&a, &b, &c}) ASSERT_FALSE(h.engine().start(o->op));

    h.engine().cancel(b.op);
    EXPECT_EQ(b.op.res, -ECANCELED);
    h.run_ready();
    EXPECT_EQ(h.resumed(), std::vector<int>{b.id});
    h.engine().cancel(b.op);  // no longer parked: nothing happens
    h.run_ready();
    EXPECT_EQ(h.resumed(), std::vector<int>{b.id});

    s.peer_writes("xy");
    h.deliver({readable(*token)});
    EXPECT_EQ(h.resumed(), (std::vector<int>{b.id, a.id, c.id}));
    EXPECT_EQ(a.byte(), 'x');
    EXPECT_EQ(c.byte(), 'y');
    EXPECT_EQ(b.op.res, -ECANCELED);

    h.engine().cancel(a.op);  // already completed: nothing happens
    h.run_ready();
    EXPECT_EQ(h.resumed().size(), 3u);
    EXPECT_EQ(a.op.res, 1);
}

// ---- level-triggered interest ----------------------------------------------------------------

TEST(readiness_engine, level_triggered_poller_gets_the_interest_of_the_parked_ops) {
    harness h(false);
    socket_pair s;
    auto token = h.engine().attach(s.mine);
    ASSERT_TRUE(token);
    ASSERT_EQ(h.poller().calls.size(), 1u);
    EXPECT_EQ(h.poller().calls[0].kind, poller_call::add);
    EXPECT_EQ(h.poller().calls[0].token, token->pack());
    EXPECT_EQ(h.poller().calls[0].interest, interest_none) << "nothing parked, nothing wanted";

    test_op& reader = h.recv_op(*token, s.mine, 1);
    ASSERT_FALSE(h.engine().start(reader.op));
    EXPECT_EQ(h.poller().updates(), std::vector<uint8_t>{interest_read});

    s.fill_my_send_buffer();
    test_op& writer = h.send_op(*token, s.mine, "w");
    ASSERT_FALSE(h.engine().start(writer.op));
    EXPECT_EQ(h.poller().updates(),
              (std::vector<uint8_t>{interest_read, interest_read | interest_write}));

    s.peer_writes("r");
    h.deliver({readable(*token)});
    EXPECT_EQ(h.resumed(), std::vector<int>{reader.id});
    EXPECT_EQ(h.poller().updates().back(), interest_write) << "the reader is done";

    // Ready data and nothing parked: a new read completes inline, without an update.
    s.peer_writes("s");
    test_op& quick = h.recv_op(*token, s.mine, 1);
    auto before = h.poller().updates().size();
    EXPECT_TRUE(h.engine().start(quick.op));
    EXPECT_EQ(quick.byte(), 's');
    EXPECT_EQ(h.poller().updates().size(), before);

    h.engine().cancel(writer.op);
    EXPECT_EQ(writer.op.res, -ECANCELED);
    EXPECT_EQ(h.poller().updates().back(), interest_none) << "nothing parked any more";
    for (const auto& c : h.poller().calls) {
        if (c.kind == poller_call::update) {
            EXPECT_EQ(c.fd, s.mine);
            EXPECT_EQ(c.token, token->pack());
        }
    }

    h.engine().detach(*token);
    EXPECT_EQ(h.poller().calls.back().kind, poller_call::remove);
    EXPECT_EQ(h.poller().calls.back().fd, s.mine);
}

// ---- end of stream ---------------------------------------------------------------------------

TEST(readiness_engine, after_the_peers_fin_reads_keep_trying_without_a_new_edge) {
    // An edge-triggered poller reports the FIN once. A short read after it must not leave the
    // slot waiting for an edge that will never come.
    harness h(true);
    socket_pair s;
    auto token = h.engine().attach(s.mine);
    ASSERT_TRUE(token);
    test_op& first = h.recv_op(*token, s.mine, 16);
    ASSERT_FALSE(h.engine().start(first.op));
    s.peer_writes("hi");
    ::shutdown(s.peer, SHUT_WR);
    h.deliver({poll_event{.token = token->pack(), .readable = true, .read_closed = true}});
    EXPECT_EQ(h.resumed(), std::vector<int>{first.id});
    EXPECT_EQ(first.op.res, 2);

    test_op& eof = h.recv_op(*token, s.mine, 16);
    EXPECT_TRUE(h.engine().start(eof.op)) << "parked waiting for an edge that never comes";
    EXPECT_EQ(eof.op.res, 0);
}

TEST(readiness_engine, after_the_fin_event_a_short_inline_read_does_not_stop_later_reads) {
    // The FIN is reported while nothing is parked; a later read that comes up short inline must
    // leave the slot readable, or the read after it would wait for an edge forever.
    harness h(true);
    socket_pair s;
    auto token = h.engine().attach(s.mine);
    ASSERT_TRUE(token);
    s.peer_writes("bye");
    ::shutdown(s.peer, SHUT_WR);
    h.deliver({poll_event{.token = token->pack(), .readable = true, .read_closed = true}});

    test_op& data = h.recv_op(*token, s.mine, 16);
    EXPECT_TRUE(h.engine().start(data.op));
    EXPECT_EQ(data.op.res, 3);
    test_op& eof = h.recv_op(*token, s.mine, 16);
    EXPECT_TRUE(h.engine().start(eof.op)) << "parked waiting for an edge that never comes";
    EXPECT_EQ(eof.op.res, 0);
    h.run_ready();
    EXPECT_TRUE(h.resumed().empty());
}
