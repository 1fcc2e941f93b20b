// send vs send_zc on io_uring over TCP loopback, 1 KiB .. 1 MiB per send: where (if anywhere)
// IORING_OP_SEND_ZC beats IORING_OP_SEND. A program of its own (not in opensocket_micro: it takes
// a while and measures the kernel, not OpenSocket). docs/backends.md ("Zero-copy send") has the
// numbers and the command.
//
// One ring, one connected loopback pair; a thread drains the receiving end with blocking recv.
// Each iteration submits one send of `size` bytes and waits for its completion; a zero-copy send
// also waits for its notification (only then may the buffer be reused). CPU time is the whole
// process's (sender and receiver, kernel work included): the cost of moving the bytes.

#include <benchmark/benchmark.h>

#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

// Kernel 6.2 (newer than liburing 2.3's headers): ask the notification to say whether the data
// was copied after all, and the bit that says so in its res.
constexpr unsigned send_zc_report_usage = 1U << 3;
constexpr unsigned notif_usage_zc_copied = 1U << 31;

struct loopback_pair {
    int sender = -1;
    int receiver = -1;
    loopback_pair() {
        int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            ::listen(listener, 1) != 0 ||
            ::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len) != 0)
            throw std::runtime_error("listener");
        sender = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (::connect(sender, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
            throw std::runtime_error("connect");
        receiver = ::accept(listener, nullptr, nullptr);
        ::close(listener);
        int one = 1;
        ::setsockopt(sender, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    ~loopback_pair() {
        if (sender >= 0) ::close(sender);
        if (receiver >= 0) ::close(receiver);
    }
};

/// Drains `fd` until the peer closes it.
void drain(int fd) {
    std::vector<char> sink(1 << 20);
    while (::recv(fd, sink.data(), sink.size(), 0) > 0) {
    }
}

bool send_zc_supported(io_uring& ring) {
    io_uring_probe* p = io_uring_get_probe_ring(&ring);
    if (p == nullptr) return false;
    bool ok = io_uring_opcode_supported(p, IORING_OP_SEND_ZC);
    io_uring_free_probe(p);
    return ok;
}

void run(benchmark::State& state, bool zero_copy) {
    const auto size = static_cast<std::size_t>(state.range(0));
    io_uring ring;
    if (io_uring_queue_init(64, &ring, 0) != 0) {
        state.SkipWithError("io_uring unavailable");
        return;
    }
    if (zero_copy && !send_zc_supported(ring)) {
        io_uring_queue_exit(&ring);
        state.SkipWithError("the kernel lacks IORING_OP_SEND_ZC (6.0)");
        return;
    }
    std::vector<char> buf(size, 'z');
    int64_t copied = 0, notifications = 0;
    {
        loopback_pair pair;
        std::thread reader(drain, pair.receiver);
        for (auto _ : state) {
            io_uring_sqe* sqe = io_uring_get_sqe(&ring);
            if (zero_copy)
                io_uring_prep_send_zc(sqe, pair.sender, buf.data(), size, MSG_NOSIGNAL,
                                      send_zc_report_usage);
            else
                io_uring_prep_send(sqe, pair.sender, buf.data(), size, MSG_NOSIGNAL);
            io_uring_submit(&ring);
            // A send of a large buffer may complete short: the rest goes in the next iteration's
            // bytes count only what was sent.
            bool result_seen = false, notif_pending = zero_copy;
            while (!result_seen || notif_pending) {
                io_uring_cqe* cqe = nullptr;
                if (io_uring_wait_cqe(&ring, &cqe) != 0) {
                    state.SkipWithError("io_uring_wait_cqe");
                    break;
                }
                if ((cqe->flags & IORING_CQE_F_NOTIF) != 0) {
                    notif_pending = false;
                    ++notifications;
                    if ((static_cast<unsigned>(cqe->res) & notif_usage_zc_copied) != 0) ++copied;
                } else {
                    result_seen = true;
                    if (cqe->res < 0) {
                        state.SkipWithError(std::strerror(-cqe->res));
                        notif_pending = false;
                    } else {
                        state.counters["bytes_sent"] += cqe->res;
                    }
                    // Without F_MORE no notification follows (an error, or nothing was sent).
                    if (zero_copy && (cqe->flags & IORING_CQE_F_MORE) == 0) notif_pending = false;
                }
                io_uring_cqe_seen(&ring, cqe);
            }
        }
        ::shutdown(pair.sender, SHUT_WR);
        reader.join();
    }
    io_uring_queue_exit(&ring);
    const double bytes = state.counters["bytes_sent"];
    state.SetBytesProcessed(static_cast<int64_t>(bytes));
    state.counters["bytes_sent"] = benchmark::Counter(bytes, benchmark::Counter::kAvgIterations);
    if (zero_copy)
        state.counters["copied_pct"] =
            notifications > 0 ? 100.0 * static_cast<double>(copied) / notifications : 0.0;
}

void send_copy(benchmark::State& state) { run(state, false); }
void send_zc(benchmark::State& state) { run(state, true); }

}  // namespace

BENCHMARK(send_copy)
    ->RangeMultiplier(4)
    ->Range(1 << 10, 1 << 20)
    ->UseRealTime()
    ->MeasureProcessCPUTime();
BENCHMARK(send_zc)
    ->RangeMultiplier(4)
    ->Range(1 << 10, 1 << 20)
    ->UseRealTime()
    ->MeasureProcessCPUTime();

BENCHMARK_MAIN();
