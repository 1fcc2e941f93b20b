// The io_uring engine's own behaviours: ring limits (a 4-entry ring under thousands of
// concurrent operations), cancellation racing completion, detach with operations in the
// kernel, the EAGAIN fallback, cross-thread wake-ups, and the run-time fallback when a seccomp
// filter refuses io_uring. The engine-generic suites (tcp_stream, accept, stress) run on this
// engine through OPENSOCKET_ENGINE=uring (the "uring." tests in ctest). Every test here skips,
// with the probe's reason, where io_uring is not available.

#include <test_support.hpp>

#include <opensocket/backends/engine_select.hpp>
#include <opensocket/error.hpp>
#include <opensocket/executor.hpp>
#include <opensocket/log.hpp>
#include <opensocket/spawn.hpp>
#include <opensocket/sync_wait.hpp>
#include <opensocket/tcp.hpp>
#include <opensocket/when_all.hpp>

#ifdef OPENSOCKET_HAVE_URING
#include "uring_rig.hpp"
#endif

#include <gtest/gtest.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <random>
#include <thread>
#include <vector>

using namespace opensocket;
using namespace opensocket::testing;
using namespace std::chrono_literals;

namespace {

// ---- the seccomp fallback (runs in every build: without liburing, uring is simply absent) ----

sock_filter stmt(uint16_t code, uint32_t k) { return {code, 0, 0, k}; }
sock_filter jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) { return {code, jt, jf, k}; }

#if defined(__x86_64__)
constexpr uint32_t this_arch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr uint32_t this_arch = AUDIT_ARCH_AARCH64;
#else
constexpr uint32_t this_arch = 0;
#endif

/// Installs a filter that makes the io_uring syscalls fail with `err` (io_uring_setup too, or
/// only io_uring_enter and io_uring_register). Returns false if the kernel refuses the filter.
bool deny_io_uring(int err, bool setup_too) {
    const uint32_t deny = SECCOMP_RET_ERRNO | (static_cast<uint32_t>(err) & SECCOMP_RET_DATA);
    std::vector<sock_filter> f{
        stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
        jump(BPF_JMP | BPF_JEQ | BPF_K, this_arch, 1, 0),
        stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
    };
    std::vector<uint32_t> denied{__NR_io_uring_enter, __NR_io_uring_register};
    if (setup_too) denied.push_back(__NR_io_uring_setup);
    for (uint32_t nr : denied) {
        f.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1));
        f.push_back(stmt(BPF_RET | BPF_K, deny));
    }
    f.push_back(stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    sock_fprog prog{static_cast<unsigned short>(f.size()), f.data()};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return false;
    return ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0;
}

task<bool> echo_once() {
    auto pair = co_await connected_pair();
    if (!pair) co_return false;
    std::array<std::byte, 5> in{};
    auto w = co_await pair->client.write_all(std::string_view("hello"));
    auto r = co_await pair->server.read_exact(in);
    co_return w&& r&& std::memcmp(in.data(), "hello", 5) == 0;
}

/// The child's checks; its exit code says which one failed (0 = all passed).
int fallback_checks(int err, bool setup_too) {
    ::unsetenv("OPENSOCKET_ENGINE");  // `automatic` must decide by itself
    set_log_level(log_level::off);    // the expected "unavailable" error is not news here
    if (!deny_io_uring(err, setup_too)) return 10;
#ifdef OPENSOCKET_HAVE_URING
    uring_support probe = probe_uring();
    if (probe.available) return 11;
    if (probe.error.value() != err) return 12;
    if (err == EPERM && setup_too && probe.reason.find("seccomp") == std::string::npos) return 13;
    std::string why;
    if (uring_engine::create({}, &why) || why.empty()) return 14;
#endif
    auto forced = make_engine(engine_kind::uring);
    if (forced || forced.error() != error::engine_unavailable) return 15;
    auto automatic = make_engine(engine_kind::automatic);
    if (!automatic || (*automatic)->name() != "epoll") return 16;
    try {
        if (!sync_wait(echo_once(), engine_kind::automatic)) return 17;
    } catch (...) {
        return 18;
    }
    return 0;
}

void expect_fallback(int err, bool setup_too) {
    if (this_arch == 0) GTEST_SKIP() << "no seccomp architecture constant for this CPU";
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0) << std::strerror(errno);
    if (pid == 0) ::_exit(fallback_checks(err, setup_too));
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status)) << "child died with signal " << WTERMSIG(status);
    EXPECT_EQ(WEXITSTATUS(status), 0)
        << "failed check (see fallback_checks): " << WEXITSTATUS(status);
}

}  // namespace

TEST(uring_fallback, seccomp_eperm_on_setup_makes_auto_use_epoll_and_uring_fail) {
    expect_fallback(EPERM, true);
}

TEST(uring_fallback, seccomp_enosys_on_setup_makes_auto_use_epoll_and_uring_fail) {
    expect_fallback(ENOSYS, true);
}

TEST(uring_fallback, seccomp_refusing_only_submission_is_caught_by_the_probe) {
    expect_fallback(EPERM, false);
}

#ifndef OPENSOCKET_HAVE_URING

TEST(uring_engine, is_not_in_this_build) {
    auto e = make_engine(engine_kind::uring);
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error(), error::engine_unavailable);
    GTEST_SKIP() << "built without liburing: no io_uring engine";
}

#else  // OPENSOCKET_HAVE_URING

TEST(uring_fallback, automatic_picks_uring_where_the_kernel_allows_it) {
    SKIP_WITHOUT_URING();
    ::unsetenv("OPENSOCKET_ENGINE");  // ctest pins the plain run to epoll
    auto automatic = make_engine(engine_kind::automatic);
    ASSERT_TRUE(automatic) << automatic.error().message();
    EXPECT_EQ((*automatic)->name(), "uring");
    EXPECT_TRUE(sync_wait(echo_once(), engine_kind::automatic));
}

TEST(uring_fallback, opensocket_engine_overrides_automatic_either_way) {
    SKIP_WITHOUT_URING();
    ::setenv("OPENSOCKET_ENGINE", "epoll", 1);
    auto epoll = make_engine(engine_kind::automatic);
    ASSERT_TRUE(epoll) << epoll.error().message();
    EXPECT_EQ((*epoll)->name(), "epoll");
    ::setenv("OPENSOCKET_ENGINE", "uring", 1);
    auto uring = make_engine(engine_kind::automatic);
    ASSERT_TRUE(uring) << uring.error().message();
    EXPECT_EQ((*uring)->name(), "uring");
    // An explicit kind is not overridden.
    auto explicit_epoll = make_engine(engine_kind::epoll);
    ASSERT_TRUE(explicit_epoll);
    EXPECT_EQ((*explicit_epoll)->name(), "epoll");
}

namespace {

// ---- running coroutines on an engine made here ------------------------------------------------

/// Non-blocking AF_UNIX stream pairs wrapped as streams.
std::vector<stream_pair> socket_pairs(std::size_t n) {
    std::vector<stream_pair> out;
    for (std::size_t i = 0; i < n; ++i) {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0)
            throw std::system_error(errno, std::generic_category(), "socketpair");
        out.push_back({tcp_stream(socket_handle(fds[0])), tcp_stream(socket_handle(fds[1]))});
    }
    return out;
}

std::array<std::byte, 16> message_for(std::size_t id) {
    std::array<std::byte, 16> m{};
    for (std::size_t i = 0; i < m.size(); ++i) m[i] = pattern_byte(id * 16 + i);
    return m;
}

task<> read_message(tcp_stream& s, std::size_t id, std::vector<int>& resumed,
                    std::vector<bool>& intact) {
    std::array<std::byte, 16> buf{};
    auto r = co_await s.read_exact(buf);
    ++resumed[id];
    intact[id] = r && buf == message_for(id);
}

task<> write_message(tcp_stream& s, std::size_t id) {
    auto m = message_for(id);
    auto r = co_await s.write_all(m);
    EXPECT_TRUE(r) << r.error().message();
}

task<result<std::size_t> > read_exactly(tcp_stream& s, std::span<std::byte> buf) {
    co_return co_await s.read_exact(buf);
}

task<result<std::size_t> > write_text(tcp_stream& s, std::string_view text) {
    co_return co_await s.write_all(text);
}

}  // namespace

TEST(uring_engine, four_entry_ring_carries_thousands_of_concurrent_operations) {
    SKIP_WITHOUT_URING();
    uring_rig rig({.entries = 4, .cq_entries = 8});
    constexpr std::size_t pairs = 500;  // 1000 reads and 1000 writes in flight together
    std::vector<int> resumed(2 * pairs, 0);
    std::vector<bool> intact(2 * pairs, false);
    rig.run([&]() -> task<> {
        auto streams = socket_pairs(pairs);  // closed on the executor, before the join returns
        task_scope scope;
        for (std::size_t i = 0; i < pairs; ++i) {
            scope.spawn(read_message(streams[i].client, 2 * i, resumed, intact));
            scope.spawn(read_message(streams[i].server, 2 * i + 1, resumed, intact));
        }
        for (std::size_t i = 0; i < pairs; ++i) {
            scope.spawn(write_message(streams[i].server, 2 * i));
            scope.spawn(write_message(streams[i].client, 2 * i + 1));
        }
        co_await scope.join();
    }());
    EXPECT_EQ(std::count(resumed.begin(), resumed.end(), 1), static_cast<long>(2 * pairs));
    EXPECT_EQ(std::count(intact.begin(), intact.end(), true), static_cast<long>(2 * pairs));
    // The limits were really hit: the SQ filled inside a loop turn and the CQ overflowed.
    EXPECT_GT(rig.eng->stats().sq_full_submits, 0u);
    EXPECT_GT(rig.eng->stats().overflow_flushes, 0u);
}

TEST(uring_engine, engine_created_on_one_thread_runs_on_another) {
    SKIP_WITHOUT_URING();
    uring_rig rig;  // created here; with SINGLE_ISSUER the ring binds to its first user
    bool ok = false;
    std::thread t([&] { ok = rig.run(echo_once()); });
    t.join();
    EXPECT_TRUE(ok);
}

TEST(uring_engine, readiness_fallback_waits_after_eagain_and_retries) {
    SKIP_WITHOUT_URING();
    uring_rig rig({.force_readiness_fallback = true});
    auto r = rig.run([]() -> task<result<void> > {
        auto pair = co_await connected_pair();
        if (!pair) co_return fail(pair.error());
        std::array<std::byte, 5> in{};
        // The read finds nothing (EAGAIN), waits for POLLIN, and then reads what was sent.
        auto [got, sent] =
            co_await when_all(read_exactly(pair->server, in), write_text(pair->client, "hello"));
        if (!got) co_return fail(got.error());
        if (!sent) co_return fail(sent.error());
        EXPECT_EQ(std::memcmp(in.data(), "hello", 5), 0);
        // A read cancelled by its deadline while it waits for readiness.
        auto late = co_await pair->server.read_some(in, clock::now() + 20ms);
        EXPECT_TRUE(!late && late.error() == std::errc::timed_out);
        auto after = co_await pair->client.write_all(std::string_view("after"));
        if (!after) co_return fail(after.error());
        auto last = co_await pair->server.read_exact(in);
        if (!last) co_return fail(last.error());
        EXPECT_EQ(std::memcmp(in.data(), "after", 5), 0);
        co_return result<void>{};
    }());
    EXPECT_TRUE(r) << r.error().message();
    EXPECT_GT(rig.eng->stats().readiness_retries, 0u);
}

TEST(uring_engine, wake_from_another_thread_ends_a_blocking_poll) {
    SKIP_WITHOUT_URING();
    uring_rig rig;
    for (int round = 0; round < 20; ++round) {
        std::thread waker([&] { rig.eng->wake(); });
        auto t0 = std::chrono::steady_clock::now();
        rig.eng->poll(std::chrono::nanoseconds(10s).count());
        waker.join();
        // A wake that came before the poll stays pending in the eventfd: either way, prompt.
        EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s) << "round " << round;
    }
}

TEST(uring_engine, poll_with_a_timeout_returns_when_nothing_happens) {
    SKIP_WITHOUT_URING();
    uring_rig rig;
    rig.eng->poll(0);  // arms the wake-up read
    auto t0 = std::chrono::steady_clock::now();
    rig.eng->poll(std::chrono::nanoseconds(5ms).count());
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 4ms);
}

// ---- raw operations: the engine's protocol checked step by step ------------------------------

namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int race_iterations = 600;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr int race_iterations = 600;
#else
constexpr int race_iterations = 3000;
#endif
#else
constexpr int race_iterations = 3000;
#endif

}  // namespace

TEST(uring_engine, op_on_a_stale_token_fails_inline_with_ebadf) {
    SKIP_WITHOUT_URING();
    raw_rig rig;
    unix_pair sp;
    auto t = rig.engine().attach(sp.mine);
    ASSERT_TRUE(t);
    rig.engine().detach(*t);
    raw_op o;
    EXPECT_TRUE(rig.start(o, io_kind::recv, *t, sp.mine, 8));
    EXPECT_EQ(o.op.res, -EBADF);
}

TEST(uring_engine, cancel_racing_completion_completes_each_op_exactly_once) {
    SKIP_WITHOUT_URING();
    raw_rig rig;
    std::mt19937 rng(12345);
    long canceled = 0, completed = 0;
    for (int i = 0; i < race_iterations; ++i) {
        unix_pair sp;
        auto t = rig.engine().attach(sp.mine);
        ASSERT_TRUE(t);
        raw_op o;
        ASSERT_FALSE(rig.start(o, io_kind::recv, *t, sp.mine, 16));
        const auto value = static_cast<std::byte>(i & 0xff);
        switch (i % 5) {
            case 0:  // cancelled in the same batch as its SQE, data after
                rig.engine().cancel(o.op);
                sp.peer_writes(value);
                break;
            case 1:  // in the kernel, cancelled, then data
                rig.turn();
                rig.engine().cancel(o.op);
                sp.peer_writes(value);
                break;
            case 2:  // in the kernel, data arrives, then the cancel: a real race in the kernel
                rig.turn();
                sp.peer_writes(value);
                rig.engine().cancel(o.op);
                break;
            case 3: {  // data from another thread while the cancel is submitted
                rig.turn();
                std::thread writer([&] { sp.peer_writes(value); });
                spin_briefly(rng() % 2000);
                rig.engine().cancel(o.op);
                rig.turn();
                writer.join();
                break;
            }
            case 4:  // completed first; a late cancel (a deadline firing) and a second one
                rig.turn();
                sp.peer_writes(value);
                rig.settle([&] { return o.resumed > 0; });
                rig.engine().cancel(o.op);
                rig.engine().cancel(o.op);
                break;
        }
        rig.engine().cancel(o.op);  // asking twice changes nothing
        rig.settle([&] { return o.resumed > 0; });
        ASSERT_EQ(o.resumed, 1) << "iteration " << i;
        if (o.op.res == -ECANCELED) {
            ++canceled;
            std::byte b{};  // the byte lost the race, not its place in the stream
            ASSERT_EQ(::recv(sp.mine, &b, 1, 0), 1) << "iteration " << i;
            EXPECT_EQ(b, value);
        } else {
            ++completed;
            ASSERT_EQ(o.op.res, 1) << "iteration " << i;
            EXPECT_EQ(o.buf[0], value);
        }
        rig.engine().detach(*t);
    }
    EXPECT_GT(canceled, 0);
    EXPECT_GT(completed, 0);
    RecordProperty("canceled", static_cast<int>(canceled));
    RecordProperty("completed", static_cast<int>(completed));
}

TEST(uring_engine, cancelled_recv_exact_reports_its_progress) {
    SKIP_WITHOUT_URING();
    raw_rig rig;
    unix_pair sp;
    auto t = rig.engine().attach(sp.mine);
    ASSERT_TRUE(t);
    raw_op o;
    ASSERT_FALSE(rig.start(o, io_kind::recv_exact, *t, sp.mine, 8));
    for (int i = 0; i < 3; ++i) sp.peer_writes(std::byte{7});
    rig.settle([&] { return o.op.done == 3; });
    ASSERT_EQ(o.op.done, 3u);
    EXPECT_EQ(o.resumed, 0);  // still waiting for the other 5
    rig.engine().cancel(o.op);
    rig.settle([&] { return o.resumed > 0; });
    EXPECT_EQ(o.resumed, 1);
    EXPECT_EQ(o.op.res, -ECANCELED);
    EXPECT_EQ(o.op.done, 3u);
    rig.engine().detach(*t);
}

TEST(uring_engine, ops_of_one_direction_run_one_at_a_time_in_order) {
    SKIP_WITHOUT_URING();
    raw_rig rig;
    unix_pair sp;
    auto t = rig.engine().attach(sp.mine);
    ASSERT_TRUE(t);
    std::deque<raw_op> ops(3);
    for (auto& o : ops) ASSERT_FALSE(rig.start(o, io_kind::recv, *t, sp.mine, 1));
    rig.turn();
    for (int i = 0; i < 3; ++i) sp.peer_writes(static_cast<std::byte>('a' + i));
    rig.settle([&] { return ops[2].resumed > 0; });
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(ops[i].resumed, 1);
        EXPECT_EQ(ops[i].op.res, 1);
        EXPECT_EQ(ops[i].buf[0], static_cast<std::byte>('a' + i)) << "op " << i;
    }
    rig.engine().detach(*t);
}

TEST(uring_engine, detach_completes_every_pending_op_once_and_the_fd_can_be_reused) {
    SKIP_WITHOUT_URING();
    raw_rig rig;
    auto sp = std::make_unique<unix_pair>();
    sp->fill_my_send_buffer();
    auto t = rig.engine().attach(sp->mine);
    ASSERT_TRUE(t);
    raw_op reader, waiter, writer, queued_writer;
    ASSERT_FALSE(rig.start(reader, io_kind::recv, *t, sp->mine, 16));
    ASSERT_FALSE(rig.start(waiter, io_kind::wait_readable, *t, sp->mine, 0));  // behind reader
    ASSERT_FALSE(rig.start(writer, io_kind::send_all, *t, sp->mine, 64));
    rig.turn();  // reader and writer are in the kernel now
    ASSERT_FALSE(rig.start(queued_writer, io_kind::send, *t, sp->mine, 8));  // behind writer
    const int old_fd = sp->mine;
    rig.engine().detach(*t);
    ::close(sp->mine);  // what io_object::close does right after detach
    sp->mine = -1;
    rig.settle([&] { return reader.resumed > 0 && writer.resumed > 0; });
    for (raw_op* o : {&reader, &waiter, &writer, &queued_writer}) {
        EXPECT_EQ(o->resumed, 1);
        EXPECT_EQ(o->op.res, -ECANCELED);
    }
    // A new socket with the same number is a new descriptor to the engine and the kernel.
    unix_pair next;
    auto t2 = rig.engine().attach(next.mine);
    ASSERT_TRUE(t2);
    RecordProperty("fd_reused", next.mine == old_fd ? "yes" : "no");
    raw_op fresh;
    ASSERT_FALSE(rig.start(fresh, io_kind::recv, *t2, next.mine, 16));
    rig.turn();
    next.peer_writes(std::byte{42});
    rig.settle([&] { return fresh.resumed > 0; });
    EXPECT_EQ(fresh.resumed, 1);
    EXPECT_EQ(fresh.op.res, 1);
    EXPECT_EQ(fresh.buf[0], std::byte{42});
    rig.engine().detach(*t2);
}

#endif  // OPENSOCKET_HAVE_URING
