// echo_load: the TCP echo load generator of bench/run.
//   echo_load --port P [--host 127.0.0.1] [--mode pingpong|stream] [--connections C]
//             [--size BYTES] [--duration SECONDS]
// pingpong: each of C connections sends a SIZE-byte message, waits for all of it to come back,
//           and sends the next one; reports messages/s and the round-trip latency percentiles.
// stream:   each of C connections writes SIZE-byte chunks as fast as the socket takes them and
//           reads whatever comes back; reports echoed MB/s (10^6 bytes).
// Ends after DURATION seconds and prints one JSON line on stdout; exit 1 if it cannot connect.
//
// Plain epoll on one thread, on purpose: the client shares the 2 cores with the server under
// test, so it must be cheap and identical for every server; and a generator built on OpenSocket
// would move with every change to OpenSocket, measuring us with ourselves.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

struct options {
    std::string host = "127.0.0.1";
    int port = 0;
    bool stream = false;
    int connections = 64;
    std::size_t size = 64;
    double duration = 5.0;
};

[[noreturn]] void usage(const char* prog, const char* why) {
    std::fprintf(stderr,
                 "%s: %s\nusage: %s --port P [--host ADDR] [--mode pingpong|stream] "
                 "[--connections C] [--size BYTES] [--duration SECONDS]\n",
                 prog, why, prog);
    std::exit(2);
}

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; i += 2) {
        std::string_view flag = argv[i];
        if (i + 1 >= argc) usage(argv[0], "a flag without a value");
        const char* v = argv[i + 1];
        char* end = nullptr;
        double n = std::strtod(v, &end);
        bool number = end != v && *end == '\0';
        if (flag == "--host") {
            o.host = v;
        } else if (flag == "--mode" &&
                   (std::string_view(v) == "pingpong" || std::string_view(v) == "stream")) {
            o.stream = std::string_view(v) == "stream";
        } else if (flag == "--port" && number && n >= 1 && n <= 65535) {
            o.port = static_cast<int>(n);
        } else if (flag == "--connections" && number && n >= 1 && n <= 10000) {
            o.connections = static_cast<int>(n);
        } else if (flag == "--size" && number && n >= 1 && n <= (1 << 24)) {
            o.size = static_cast<std::size_t>(n);
        } else if (flag == "--duration" && number && n > 0 && n <= 3600) {
            o.duration = n;
        } else {
            usage(argv[0], ("bad flag or value: " + std::string(flag) + " " + v).c_str());
        }
    }
    if (o.port == 0) usage(argv[0], "--port is required");
    return o;
}

struct connection {
    int fd = -1;
    std::size_t received = 0;  // pingpong: bytes of the current echo received so far
    clock_type::time_point sent_at;
};

int connect_to(const options& o) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(o.port));
    if (fd < 0 || inet_pton(AF_INET, o.host.c_str(), &a.sin_addr) != 1 ||
        connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        std::fprintf(stderr, "echo_load: connect to %s:%d: %s\n", o.host.c_str(), o.port,
                     std::strerror(errno));
        std::exit(1);
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

double percentile_us(std::vector<uint32_t>& ns, double p) {
    if (ns.empty()) return 0;
    auto k = static_cast<std::size_t>(p * static_cast<double>(ns.size() - 1));
    std::nth_element(ns.begin(), ns.begin() + static_cast<std::ptrdiff_t>(k), ns.end());
    return ns[k] / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
    options o = parse(argc, argv);
    std::vector<connection> conns(static_cast<std::size_t>(o.connections));
    int ep = epoll_create1(EPOLL_CLOEXEC);
    for (std::size_t i = 0; i < conns.size(); ++i) {
        conns[i].fd = connect_to(o);
        epoll_event ev{};
        ev.events = o.stream ? EPOLLIN | EPOLLOUT : EPOLLIN;
        ev.data.u64 = i;
        epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
    }

    std::vector<char> message(o.size, 'x');
    std::vector<char> buf(std::max<std::size_t>(o.size, 65536));
    std::vector<uint32_t> latencies_ns;
    latencies_ns.reserve(1 << 20);
    uint64_t messages = 0, bytes_in = 0, bytes_out = 0, errors = 0;
    int open = o.connections;

    auto drop = [&](connection& c) {
        close(c.fd);  // also leaves the epoll set
        c.fd = -1;
        ++errors;
        --open;
    };
    auto send_message = [&](connection& c, clock_type::time_point now) {
        // A message up to the socket buffer size goes out in one write on an idle connection.
        ssize_t n = write(c.fd, message.data(), message.size());
        if (n != static_cast<ssize_t>(message.size())) return drop(c);
        bytes_out += message.size();
        c.received = 0;
        c.sent_at = now;
    };

    auto start = clock_type::now();
    auto end = start + std::chrono::duration_cast<clock_type::duration>(
                           std::chrono::duration<double>(o.duration));
    if (!o.stream)
        for (auto& c : conns) send_message(c, start);

    std::vector<epoll_event> events(conns.size());
    auto now = start;
    while (now < end && open > 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - now).count() + 1;
        int n =
            epoll_wait(ep, events.data(), static_cast<int>(events.size()), static_cast<int>(left));
        now = clock_type::now();
        for (int i = 0; i < n && now < end; ++i) {
            connection& c = conns[events[static_cast<std::size_t>(i)].data.u64];
            uint32_t what = events[static_cast<std::size_t>(i)].events;
            if (c.fd < 0) continue;
            if (what & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                ssize_t r = read(c.fd, buf.data(), buf.size());
                if (r <= 0 && !(r < 0 && errno == EAGAIN)) {
                    drop(c);
                    continue;
                }
                if (r > 0) {
                    bytes_in += static_cast<uint64_t>(r);
                    c.received += static_cast<std::size_t>(r);
                }
                if (!o.stream && c.received >= o.size) {
                    if (c.received > o.size) {  // the server echoed more than we sent
                        drop(c);
                        continue;
                    }
                    ++messages;
                    latencies_ns.push_back(static_cast<uint32_t>(
                        std::min<int64_t>(UINT32_MAX, (now - c.sent_at).count())));
                    send_message(c, now);
                }
            }
            if (o.stream && (what & EPOLLOUT) && c.fd >= 0) {
                ssize_t w = write(c.fd, message.data(), message.size());
                if (w > 0)
                    bytes_out += static_cast<uint64_t>(w);
                else if (!(w < 0 && errno == EAGAIN))
                    drop(c);
            }
        }
    }
    double elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
    for (auto& c : conns)
        if (c.fd >= 0) close(c.fd);

    std::printf(
        "{\"mode\":\"%s\",\"connections\":%d,\"size\":%zu,\"duration_s\":%.3f,"
        "\"messages\":%llu,\"msg_per_s\":%.1f,\"p50_us\":%.1f,\"p99_us\":%.1f,"
        "\"p999_us\":%.1f,\"bytes_in\":%llu,\"bytes_out\":%llu,\"mb_per_s\":%.1f,"
        "\"errors\":%llu}\n",
        o.stream ? "stream" : "pingpong", o.connections, o.size, elapsed,
        static_cast<unsigned long long>(messages), static_cast<double>(messages) / elapsed,
        percentile_us(latencies_ns, 0.50), percentile_us(latencies_ns, 0.99),
        percentile_us(latencies_ns, 0.999), static_cast<unsigned long long>(bytes_in),
        static_cast<unsigned long long>(bytes_out), static_cast<double>(bytes_in) / elapsed / 1e6,
        static_cast<unsigned long long>(errors));
    return 0;
}
