#pragma once
// Test rigs for the io_uring engine's suites (uring_engine_test.cpp, uring_accept_test.cpp,
// uring_lent_test.cpp, uring_read_ahead_test.cpp, uring_close_test.cpp, uring_batch_test.cpp):
// skips for missing kernel features, an engine inside an executor, and raw operations driven one
// loop turn at a time with a coroutine that counts its resumptions.

#include <test_support.hpp>

#include <opensocket/backends/uring_engine.hpp>
#include <opensocket/executor.hpp>
#include <opensocket/sync_wait.hpp>

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace opensocket::testing {

using namespace std::chrono_literals;

/// Skips the calling test (with the probe's reason) when io_uring cannot run here.
#define SKIP_WITHOUT_URING()                                      \
    do {                                                          \
        if (auto s = probe_uring(); !s.available)                 \
            GTEST_SKIP() << "io_uring unavailable: " << s.reason; \
    } while (0)

/// Skips the calling test when `engine` lacks the optional feature `field` (a `uring_features`
/// member); `why` names what the kernel needs.
#define SKIP_WITHOUT_FEATURE(engine, field, why)               \
    do {                                                       \
        if (!(engine).features().field) GTEST_SKIP() << (why); \
    } while (0)
#define SKIP_WITHOUT_MULTISHOT_RECV(engine)                                             \
    SKIP_WITHOUT_FEATURE(engine, multishot_recv,                                        \
                         "the kernel lacks multishot recv into a provided-buffer ring " \
                         "(IORING_RECV_MULTISHOT, 6.0)")
#define SKIP_WITHOUT_MULTISHOT_ACCEPT(engine)      \
    SKIP_WITHOUT_FEATURE(engine, multishot_accept, \
                         "the kernel lacks multishot accept (IORING_ACCEPT_MULTISHOT, 5.19)")
#define SKIP_WITHOUT_RING_CLOSE(engine)      \
    SKIP_WITHOUT_FEATURE(engine, ring_close, \
                         "the kernel lacks IORING_OP_CLOSE (5.6) or it is disabled")
#define SKIP_WITHOUT_BATCH_WAIT(engine)      \
    SKIP_WITHOUT_FEATURE(engine, batch_wait, \
                         "the kernel lacks IORING_FEAT_MIN_TIMEOUT (6.12) for min_wait_usec")

/// A uring engine inside an executor; `eng` stays valid for the executor's life.
struct uring_rig {
    explicit uring_rig(const uring_options& opts = {}) {
        std::string why;
        auto e = uring_engine::create(opts, &why);
        if (!e) throw std::system_error(e.error(), why);
        eng = e->get();
        ex = std::make_unique<executor>(std::move(*e));
    }
    template <class T>
    T run(task<T> t) {
        return sync_wait_here(*ex, std::move(t));
    }
    uring_engine* eng = nullptr;
    std::unique_ptr<executor> ex;
};

/// A coroutine that counts its resumptions: the waiter of a raw op.
struct counter {
    struct promise_type {
        counter get_return_object() {
            return counter(std::coroutine_handle<promise_type>::from_promise(*this));
        }
        std::suspend_never initial_suspend() noexcept { return {}; }
        std::suspend_always final_suspend() noexcept { return {}; }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { std::terminate(); }
    };
    explicit counter(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
    counter(counter&& o) noexcept : h_(std::exchange(o.h_, {})) {}
    counter& operator=(counter&&) = delete;
    ~counter() {
        if (h_) h_.destroy();
    }
    std::coroutine_handle<> handle() const noexcept { return h_; }

private:
    std::coroutine_handle<promise_type> h_;
};

inline counter count_resumptions(int& n) {
    for (;;) {
        co_await std::suspend_always{};
        ++n;
    }
}

struct raw_op {
    raw_op() : waiter(count_resumptions(resumed)) {}
    io_op op;
    std::array<std::byte, 64> buf{};
    int resumed = 0;
    counter waiter;
};

/// An AF_UNIX pair: the engine drives `mine`, the test plays the peer with plain syscalls.
struct unix_pair {
    unix_pair() {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0)
            throw std::system_error(errno, std::generic_category(), "socketpair");
        mine = fds[0];
        peer = fds[1];
    }
    ~unix_pair() {
        if (mine >= 0) ::close(mine);
        ::close(peer);
    }
    unix_pair(const unix_pair&) = delete;
    unix_pair& operator=(const unix_pair&) = delete;
    void peer_writes(std::byte b) const { ASSERT_EQ(::send(peer, &b, 1, MSG_NOSIGNAL), 1); }
    void fill_my_send_buffer() const {
        std::vector<char> chunk(16384, 'f');
        for (std::size_t size : {chunk.size(), std::size_t{1}})
            while (::send(mine, chunk.data(), size, MSG_NOSIGNAL) > 0) {
            }
    }
    int mine = -1;
    int peer = -1;
};

class raw_rig {
public:
    explicit raw_rig(const uring_options& opts = {.entries = 8}) : rig_(opts) {}
    uring_engine& engine() { return *rig_.eng; }

    /// Starts `o` as `kind` on `fd` (attached as `t`); true if it completed inline.
    bool start(raw_op& o, io_kind kind, io_token t, int fd, std::size_t len) {
        o.op.kind = kind;
        o.op.ex = rig_.ex.get();
        o.op.waiter = o.waiter.handle();
        o.op.token = t;
        o.op.fd = fd;
        o.op.buf = o.buf.data();
        o.op.len = len;
        return engine().start(o.op);
    }
    /// One loop turn: submit and reap (waiting up to `wait`), then resume what completed.
    void turn(std::chrono::nanoseconds wait = 0ns) {
        engine().poll(wait.count());
        std::atomic<bool> done{true};
        rig_.ex->run_until(done);
    }
    /// Turns until `pred()` holds (at most ~2 s), then a few more to catch a second resumption.
    template <class Pred>
    void settle(Pred pred) {
        for (int i = 0; i < 2000 && !pred(); ++i) turn(1ms);
        for (int i = 0; i < 3; ++i) turn();
    }

private:
    uring_rig rig_;
};

}  // namespace opensocket::testing
