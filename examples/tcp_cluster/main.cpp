// tcp_cluster: a client cluster that stress-tests an echo server with verified round trips.
//   tcp_cluster [--host 127.0.0.1] [--port 8888] [--clients 2] [--connections 16] [--seconds 5]
//               [--size 64] [--engine auto|epoll|...]
// Each connection sends a payload derived from (connection id, sequence number), reads the echo
// and compares it byte for byte, until the deadline. Prints throughput and latency percentiles.
// Exit 0 when at least one message completed and nothing failed or mismatched; 1 otherwise (with
// the reason on stderr); 2 for bad flags. SIGINT/SIGTERM end the run early, with a report.

#include "cli.hpp"

#include <opensocket/runtime.hpp>
#include <opensocket/sleep.hpp>
#include <opensocket/tcp.hpp>
#include <opensocket/when_all.hpp>

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

using namespace opensocket;
using namespace std::chrono_literals;

namespace {

constexpr int64_t max_payload = int64_t{1} << 20;
// Every connection holds two payload buffers; refuse runs that would need more than this.
constexpr int64_t max_buffer_bytes = int64_t{1} << 30;
// A round trip still unanswered this long after the deadline counts as a server failure.
constexpr auto grace = 2s;
constexpr auto connect_timeout = 5s;

struct config {
    socket_address server;
    unsigned clients = 2;
    uint64_t connections = 16;
    std::chrono::seconds duration{5};
    std::size_t size = 64;
    engine_kind engine = engine_kind::automatic;
};

socket_address parse_server(const examples::flags& f) {
    auto port = f.integer("port", 8888, 1, 65535);
    std::string host = f.str("host", "127.0.0.1");
    auto addr = socket_address::parse(host, static_cast<int>(port));
    if (!addr)
        f.die(fmt::format("--host: '{}' is not a numeric IP address ({})", host,
                          addr.error().message()));
    // parse() also accepts "a.b.c.d:port", which would silently override --port.
    if (addr->port() != port) f.die(fmt::format("--host '{}' must not include a port", host));
    return *addr;
}

config parse_config(const examples::flags& f) {
    config c;
    c.server = parse_server(f);
    c.clients = static_cast<unsigned>(f.integer("clients", 2, 1, 256));
    c.connections = static_cast<uint64_t>(f.integer("connections", 16, 1, 1'000'000));
    c.duration = std::chrono::seconds(f.integer("seconds", 5, 1, 86'400));
    c.size = static_cast<std::size_t>(f.integer("size", 64, 1, max_payload));
    c.engine = f.engine();
    if (c.connections * c.size * 2 > static_cast<uint64_t>(max_buffer_bytes))
        f.die(fmt::format("--connections x --size needs {} MiB of buffers (limit {} MiB)",
                          c.connections * c.size * 2 >> 20, max_buffer_bytes >> 20));
    return c;
}

// ---- payloads ------------------------------------------------------------------------------

// splitmix64's finaliser (Steele, Lea, Flood 2014): every output bit depends on every input bit,
// so payloads of different connections or sequence numbers differ almost everywhere.
uint64_t mix64(uint64_t z) noexcept {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

constexpr uint64_t golden_gamma = 0x9e3779b97f4a7c15ULL;

/// Fills `out` with the payload of message `seq` on connection `conn`; the same pair always gives
/// the same bytes, so corruption, reordering and cross-talk between connections all show.
void fill_payload(std::span<std::byte> out, uint64_t conn, uint64_t seq) noexcept {
    uint64_t state = mix64(mix64(conn + golden_gamma) + seq);
    for (std::size_t i = 0; i < out.size(); i += 8) {
        uint64_t word = mix64(state += golden_gamma);
        std::memcpy(out.data() + i, &word, std::min<std::size_t>(8, out.size() - i));
    }
}

std::string describe_mismatch(std::span<const std::byte> want, std::span<const std::byte> got,
                              uint64_t conn, uint64_t seq) {
    auto diff = std::mismatch(want.begin(), want.end(), got.begin());
    auto at = static_cast<std::size_t>(diff.first - want.begin());
    return fmt::format("connection {} message {}: byte {} of {} is {:#04x}, expected {:#04x}", conn,
                       seq, at, want.size(), std::to_integer<unsigned>(*diff.second),
                       std::to_integer<unsigned>(*diff.first));
}

// ---- statistics ----------------------------------------------------------------------------

/// Log-linear latency histogram (HdrHistogram's layout): exact below 64 ns, then 64 buckets per
/// power of two, so any quantile is within 1/64 (1.6%) of the true sample. Fixed size, no
/// allocation on record.
class latency_histogram {
public:
    void record(uint64_t ns) noexcept {
        ++buckets_[index_of(ns)];
        ++count_;
        max_ = std::max(max_, ns);
    }
    void merge(const latency_histogram& o) noexcept {
        for (std::size_t i = 0; i < bucket_count; ++i) buckets_[i] += o.buckets_[i];
        count_ += o.count_;
        max_ = std::max(max_, o.max_);
    }
    /// The sample at quantile `q` in (0, 1]; 0 when empty.
    uint64_t quantile(double q) const noexcept {
        if (count_ == 0) return 0;
        auto rank = std::max<uint64_t>(
            1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
        uint64_t seen = 0;
        for (std::size_t i = 0; i < bucket_count; ++i) {
            seen += buckets_[i];
            if (seen >= rank) return std::min(value_at(i), max_);
        }
        return max_;
    }
    uint64_t max() const noexcept { return max_; }

private:
    static constexpr int sub_bits = 6;
    static constexpr uint64_t sub_count = uint64_t{1} << sub_bits;
    static constexpr std::size_t bucket_count = (64 - sub_bits + 1) * sub_count;

    static std::size_t index_of(uint64_t v) noexcept {
        if (v < sub_count) return v;
        int shift = static_cast<int>(std::bit_width(v)) - 1 - sub_bits;
        return (static_cast<uint64_t>(shift) + 1) * sub_count + ((v >> shift) - sub_count);
    }
    // The middle of bucket `i`.
    static uint64_t value_at(std::size_t i) noexcept {
        if (i < sub_count) return i;
        uint64_t shift = i / sub_count - 1;
        uint64_t low = (i % sub_count + sub_count) << shift;
        return low + ((uint64_t{1} << shift) >> 1);
    }

    std::array<uint64_t, bucket_count> buckets_{};
    uint64_t count_ = 0;
    uint64_t max_ = 0;
};

/// The earliest of several events of one kind, kept for the one-line failure reason.
struct first_event {
    clock::time_point when = clock::time_point::max();
    std::string what;

    void note(std::string text) {
        if (!what.empty()) return;
        when = clock::now();
        what = std::move(text);
    }
    void merge(const first_event& o) {
        if (o.when < when) *this = o;
    }
};

/// One executor's counters. Only that executor's thread writes them during the run (no locks on
/// the hot path); aligned so that neighbours in the vector do not share a cache line.
struct alignas(64) executor_stats {
    uint64_t messages = 0;
    uint64_t bytes = 0;
    uint64_t errors = 0;
    uint64_t mismatches = 0;
    latency_histogram latency;
    first_event first_error;
    first_event first_mismatch;

    void note_error(std::string text) {
        ++errors;
        first_error.note(std::move(text));
    }
    void merge(const executor_stats& o) {
        messages += o.messages;
        bytes += o.bytes;
        errors += o.errors;
        mismatches += o.mismatches;
        latency.merge(o.latency);
        first_error.merge(o.first_error);
        first_mismatch.merge(o.first_mismatch);
    }
};

// ---- the cluster ---------------------------------------------------------------------------

/// What every connection needs to know; passed by value into the coroutines.
struct run_plan {
    socket_address server;
    std::size_t size = 0;
    clock::time_point deadline;  ///< no message starts after this
};

task<result<std::size_t>> send_all(tcp_stream& s, std::span<const std::byte> buf) {
    co_return co_await s.write_all(buf);
}

task<result<std::size_t>> receive_exact(tcp_stream& s, std::span<std::byte> buf) {
    co_return co_await s.read_exact(buf);
}

// Writes and reads at the same time: a payload larger than the socket buffers would otherwise
// deadlock against an echo server that stops reading while we are not yet reading its echo.
task<result<void>> round_trip(tcp_stream& s, std::span<const std::byte> out,
                              std::span<std::byte> in) {
    auto [sent, got] = co_await when_all(send_all(s, out), receive_exact(s, in));
    if (!sent) co_return fail(sent.error());
    if (!got) co_return fail(got.error());
    co_return result<void>{};
}

std::string describe_io_error(const std::error_code& ec) {
    if (ec == std::errc::timed_out)
        return fmt::format("no complete echo within {} s after the deadline", grace.count());
    return ec.message();
}

task<result<tcp_stream>> connect_for_run(const run_plan& plan) {
    // Never wait for a connect past the end of the grace period.
    auto budget = std::min<clock::duration>(connect_timeout, plan.deadline + grace - clock::now());
    return tcp_stream::connect(plan.server, std::max<clock::duration>(budget, 1ms));
}

/// One connection: connect, then verified round trips until the deadline or a stop request.
/// A failure ends the connection (its stream can no longer be trusted to be in step).
task<> run_connection(run_plan plan, uint64_t id, executor_stats& st) {
    std::stop_token stop = co_await get_stop_token();
    auto stream = co_await connect_for_run(plan);
    if (!stream) {
        if (!stop.stop_requested())
            st.note_error(fmt::format("connection {}: connect to {}: {}", id,
                                      plan.server.to_string(), stream.error().message()));
        co_return;
    }
    (void)stream->set_nodelay(true);  // a missed TCP_NODELAY only makes latencies worse
    std::vector<std::byte> out(plan.size);
    std::vector<std::byte> in(plan.size);
    for (uint64_t seq = 0; !stop.stop_requested() && clock::now() < plan.deadline; ++seq) {
        fill_payload(out, id, seq);
        auto start = clock::now();
        auto r = co_await with_timeout(round_trip(*stream, out, in), plan.deadline + grace - start);
        auto end = clock::now();
        if (!r) {
            if (!stop.stop_requested())
                st.note_error(fmt::format("connection {} message {}: {}", id, seq,
                                          describe_io_error(r.error())));
            co_return;
        }
        if (out != in) {
            ++st.mismatches;
            st.first_mismatch.note(describe_mismatch(out, in, id, seq));
            co_return;
        }
        ++st.messages;
        st.bytes += plan.size;
        st.latency.record(static_cast<uint64_t>((end - start).count()));
    }
}

/// Runs executor `index`'s share of the connections: ids index, index + clients, ...
task<> run_executor(run_plan plan, unsigned index, config cfg, executor_stats& st) {
    std::vector<task<>> connections;
    for (uint64_t id = index; id < cfg.connections; id += cfg.clients)
        connections.push_back(run_connection(plan, id, st));
    co_await when_all(std::move(connections));
}

// ---- supervision ---------------------------------------------------------------------------

/// What the supervisor thread saw; read by main after joining it.
struct supervision {
    int signal = 0;
    bool watchdog_fired = false;
};

[[noreturn]] void bail_out(const char* why) {
    fmt::print(stderr, "tcp_cluster: {}; exiting without a report\n", why);
    std::_Exit(1);
}

// Its own thread for the whole run. SIGINT/SIGTERM are blocked everywhere, so only this
// thread's wait sees them; a signal cancels the run. The watchdog is a backstop for a round trip
// escaping its timeout; if even the cancellation does not drain within `grace`, or a second
// signal comes, the process exits. Waits in short slices so that it notices `done` promptly.
void supervise(std::stop_token done, std::stop_source cancel, clock::time_point hard_deadline,
               supervision& out) {
    std::optional<clock::time_point> canceled_at;
    while (!done.stop_requested()) {
        int sig = examples::wait_for_termination_signal(std::chrono::milliseconds(50));
        auto now = clock::now();
        if (canceled_at) {
            if (sig > 0) bail_out("second signal");
            if (now > *canceled_at + grace) bail_out("the run did not drain after cancellation");
            continue;
        }
        if (sig <= 0 && now < hard_deadline) continue;
        out.signal = std::max(sig, 0);
        out.watchdog_fired = sig <= 0;
        canceled_at = now;
        cancel.request_stop();
    }
}

// ---- report --------------------------------------------------------------------------------

void print_report(const config& cfg, std::string_view engine, const executor_stats& total,
                  double seconds, const supervision& sup) {
    auto us = [&](double q) { return static_cast<double>(total.latency.quantile(q)) / 1e3; };
    auto plural = [](uint64_t n) { return n == 1 ? "" : "s"; };
    fmt::print("tcp_cluster: {} connection{} to {} from {} executor{} ({}), {}-byte messages\n",
               cfg.connections, plural(cfg.connections), cfg.server.to_string(), cfg.clients,
               plural(cfg.clients), engine, cfg.size);
    if (sup.signal != 0) fmt::print("interrupted   by signal {}\n", sup.signal);
    fmt::print("duration      {:.2f} s\n", seconds);
    fmt::print("messages      {} ({:.0f} msg/s)\n", total.messages,
               static_cast<double>(total.messages) / seconds);
    fmt::print("throughput    {:.2f} MB/s each way\n",
               static_cast<double>(total.bytes) / seconds / 1e6);
    fmt::print("latency (us)  p50 {:.1f}  p99 {:.1f}  p999 {:.1f}  max {:.1f}\n", us(0.5), us(0.99),
               us(0.999), static_cast<double>(total.latency.max()) / 1e3);
    fmt::print("errors        {}\n", total.errors);
    fmt::print("mismatches    {}\n", total.mismatches);
    std::fflush(stdout);
}

/// The one-line reason the run failed, or empty when it passed.
std::string failure_reason(const executor_stats& total, const supervision& sup) {
    if (sup.watchdog_fired) return "the run overran its deadline and was cancelled";
    if (total.mismatches != 0)
        return fmt::format("{} mismatched echoes (first: {})", total.mismatches,
                           total.first_mismatch.what);
    if (total.errors != 0)
        return fmt::format("{} errors (first: {})", total.errors, total.first_error.what);
    if (total.messages == 0) return "no message completed";
    return {};
}

}  // namespace

int main(int argc, char** argv) {
    examples::flags f(argc, argv,
                      {"host", "port", "clients", "connections", "seconds", "size", "engine"},
                      "[--host IP] [--port P] [--clients N] [--connections N] [--seconds S] "
                      "[--size BYTES] [--engine NAME]");
    config cfg = parse_config(f);

    examples::block_termination_signals();
    try {
        runtime rt({.threads = cfg.clients, .engine = cfg.engine});
        std::vector<executor_stats> stats(rt.size());
        std::stop_source cancel;
        supervision sup;
        auto start = clock::now();
        run_plan plan{cfg.server, cfg.size, start + cfg.duration};
        clock::time_point end;
        {
            std::jthread supervisor(supervise, cancel, plan.deadline + 2 * grace, std::ref(sup));
            // Our own stop source rather than rt.stop(): it can be requested at any moment, even
            // before every executor has received its task.
            rt.run_on_each_executor([&](executor& ex) {
                return run_executor(plan, ex.index(), cfg, stats[ex.index()])
                    .with_stop_token(cancel.get_token());
            });
            end = clock::now();
        }  // joins the supervisor

        executor_stats total;
        for (const auto& s : stats) total.merge(s);
        print_report(cfg, rt.engine_name(), total,
                     std::chrono::duration<double>(end - start).count(), sup);
        if (auto why = failure_reason(total, sup); !why.empty()) {
            fmt::print(stderr, "tcp_cluster: FAIL: {}\n", why);
            return 1;
        }
    } catch (const std::system_error& e) {
        f.die(e.what());
    }
    return 0;
}
