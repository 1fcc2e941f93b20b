// Heap allocations per keep-alive request in steady state: a `/plaintext`-style handler
// (`response::text(200, "Hello, World!")`), counted by replacing the global operator new of this
// executable. The goal is zero.
//
// OPENSOCKET_ALLOC_TRACE=1 prints a backtrace for every allocation made while counting (resolve
// the addresses with `addr2line -f -C -e http_alloc_tests`, or run it under gdb).

#include <harness.hpp>

#include <opensocket/runtime.hpp>

#include <execinfo.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>

#if defined(__GNUC__) && !defined(__clang__)
// g++ 12 pairs the inlined replacement new with std::free and warns falsely.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace {

std::atomic<long> allocations{0};
std::atomic<long> allocated_bytes{0};
// Allocations by size (16-byte buckets up to 4 KiB, then one bucket for larger ones).
constexpr std::size_t size_buckets = 257;
std::atomic<long> by_size[size_buckets];
std::atomic<bool> tracing{false};  // print a backtrace per allocation (while counting)
thread_local bool in_trace = false;

void note_allocation(std::size_t n) noexcept {
    allocations.fetch_add(1, std::memory_order_relaxed);
    allocated_bytes.fetch_add(static_cast<long>(n), std::memory_order_relaxed);
    by_size[std::min(n / 16, size_buckets - 1)].fetch_add(1, std::memory_order_relaxed);
    if (!tracing.load(std::memory_order_relaxed) || in_trace) return;
    in_trace = true;
    void* frames[32];
    int depth = backtrace(frames, 32);
    char line[64];
    int len = std::snprintf(line, sizeof line, "--- operator new(%zu)\n", n);
    if (len > 0) (void)!::write(2, line, static_cast<std::size_t>(len));
    backtrace_symbols_fd(frames, depth, 2);
    in_trace = false;
}

void* counted_alloc(std::size_t n) {
    note_allocation(n);
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}

void* counted_aligned_alloc(std::size_t n, std::align_val_t al) {
    note_allocation(n);
    std::size_t a = static_cast<std::size_t>(al);
    std::size_t size = (n + a - 1) / a * a;
    if (void* p = std::aligned_alloc(a, size == 0 ? a : size)) return p;
    throw std::bad_alloc();
}

}  // namespace

void* operator new(std::size_t n) { return counted_alloc(n); }
void* operator new[](std::size_t n) { return counted_alloc(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return counted_alloc(n);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void* operator new(std::size_t n, std::align_val_t al) { return counted_aligned_alloc(n, al); }
void* operator new[](std::size_t n, std::align_val_t al) { return counted_aligned_alloc(n, al); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

using namespace opensocket;
using namespace opensocket::http_testing;

namespace {

constexpr int warmup_requests = 100;
constexpr int measured_requests = 1000;

task<http::response> plaintext(http::request&) {
    co_return http::response::text(200, "Hello, World!");
}

http::router plaintext_routes() {
    http::router r;
    r.get("/plaintext", plaintext);
    return r;
}

constexpr std::string_view plaintext_request =
    "GET /plaintext HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: alloc-test\r\n"
    "Accept: text/plain,text/html;q=0.9\r\nConnection: keep-alive\r\n\r\n";
constexpr std::string_view body_end = "Hello, World!";

bool trace_requested() {
    const char* e = std::getenv("OPENSOCKET_ALLOC_TRACE");
    return e != nullptr && *e != '\0' && *e != '0';
}

void start_counting(long& before) {
    if (trace_requested()) {
        void* warm[1];
        backtrace(warm, 1);  // loads the unwinder now, not inside the counted window
        tracing = true;
    }
    before = allocations.load();
}

long stop_counting(long before) {
    long n = allocations.load() - before;
    tracing = false;
    return n;
}

/// `count` requests per round trip (pipelined when > 1); the responses are counted by their
/// last bytes. One coroutine frame for the whole loop: the client allocates nothing per request.
task<> plaintext_client(tcp_stream& c, int per_write, long& measured) {
    std::string burst;
    for (int i = 0; i < per_write; ++i) burst += plaintext_request;
    std::array<std::byte, 64 * 1024> buf;
    long before = 0;
    const int rounds = (warmup_requests + measured_requests) / per_write;
    const int warm_rounds = warmup_requests / per_write;
    for (int round = 0; round < rounds; ++round) {
        if (round == warm_rounds) start_counting(before);
        auto w = co_await c.write_all(burst).before(clock::now() + client_patience);
        if (!w) {
            tracing = false;
            ADD_FAILURE() << "write: " << w.error().message();
            co_return;
        }
        int seen = 0;
        std::size_t matched = 0;  // bytes of body_end matched at the end of the input so far
        while (seen < per_write) {
            auto n = co_await c.read_some(buf).before(clock::now() + client_patience);
            if (!n || *n == 0) {
                tracing = false;
                ADD_FAILURE() << "response " << round << " missing";
                co_return;
            }
            for (std::size_t i = 0; i < *n; ++i) {
                char ch = static_cast<char>(buf[i]);
                matched = ch == body_end[matched] ? matched + 1 : (ch == body_end[0] ? 1 : 0);
                if (matched == body_end.size()) {
                    ++seen;
                    matched = 0;
                }
            }
        }
    }
    measured = stop_counting(before);
    c.close();
}

task<> in_process(int per_write, long& measured) {
    static const http::router routes = plaintext_routes();
    static const http::server_config cfg = test_config();
    auto pair = co_await opensocket::testing::connected_pair();
    EXPECT_TRUE(pair);
    if (!pair) co_return;
    co_await when_all(http::serve_connection(std::move(pair->server), routes, cfg),
                      plaintext_client(pair->client, per_write, measured));
}

void report(const char* what, long measured, int requests) {
    double per_request = static_cast<double>(measured) / requests;
    std::printf("[ measured ] %s: %ld allocations over %d requests (%.3f per request)\n", what,
                measured, requests, per_request);
    ::testing::Test::RecordProperty("allocations", static_cast<int>(measured));
}

TEST(allocations, counter_sees_allocations) {
    long before = allocations.load();
    auto* p = new std::string(100, 'x');  // too long for the small-string buffer: two news
    long seen = allocations.load() - before;
    delete p;
    EXPECT_EQ(seen, 2) << "the replacement operator new is not in use";
}

TEST(allocations, keep_alive_plaintext_request_allocates_nothing_in_steady_state) {
    long measured = -1;
    opensocket::testing::run(in_process(1, measured));
    report("serve_connection, one request per write", measured, measured_requests);
    EXPECT_EQ(measured, 0) << "heap allocations over " << measured_requests
                           << " keep-alive requests (OPENSOCKET_ALLOC_TRACE=1 shows where)";
}

TEST(allocations, pipelined_plaintext_requests_allocate_nothing_in_steady_state) {
    long measured = -1;
    opensocket::testing::run(in_process(20, measured));
    report("serve_connection, 20 pipelined requests per write", measured, measured_requests);
    EXPECT_EQ(measured, 0);
}

// ---- Through http_server on a runtime, with a blocking client on this thread ---------------

bool blocking_round_trip(int fd, std::span<char> buf) {
    std::size_t off = 0;
    while (off < plaintext_request.size()) {
        ssize_t n = ::send(fd, plaintext_request.data() + off, plaintext_request.size() - off,
                           MSG_NOSIGNAL);
        if (n <= 0) return false;
        off += static_cast<std::size_t>(n);
    }
    std::size_t matched = 0;
    for (;;) {
        ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
        if (n <= 0) return false;
        for (ssize_t i = 0; i < n; ++i) {
            char ch = buf[static_cast<std::size_t>(i)];
            matched = ch == body_end[matched] ? matched + 1 : (ch == body_end[0] ? 1 : 0);
            if (matched == body_end.size()) return i + 1 == n;  // one response per request
        }
    }
}

TEST(allocations, http_server_on_a_runtime_allocates_nothing_per_request) {
    runtime rt(runtime_options{.threads = 1});
    auto server = http::http_server::bind(rt, socket_address::loopback_v4(0), plaintext_routes(),
                                          test_config());
    ASSERT_TRUE(server);
    server->start();
    const socket_address& addr = server->local_address();
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::connect(fd, addr.native(), addr.native_size()), 0);
    std::array<char, 4096> buf;
    for (int i = 0; i < warmup_requests; ++i) ASSERT_TRUE(blocking_round_trip(fd, buf));
    long before = 0;
    start_counting(before);
    bool ok = true;
    for (int i = 0; i < measured_requests && ok; ++i) ok = blocking_round_trip(fd, buf);
    long measured = stop_counting(before);
    ::close(fd);
    rt.stop();
    rt.join();
    EXPECT_TRUE(ok);
    report("http_server (1 executor) + blocking client", measured, measured_requests);
    EXPECT_EQ(measured, 0);
}

// ---- Report only: what an idle keep-alive connection allocates --------------------------------

int connect_blocking(const socket_address& addr) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    if (::connect(fd, addr.native(), addr.native_size()) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

TEST(allocations, report_heap_per_idle_keep_alive_connection) {
    constexpr int connections = 1000;
    runtime rt(runtime_options{.threads = 1});
    auto server = http::http_server::bind(rt, socket_address::loopback_v4(0), plaintext_routes(),
                                          test_config());
    ASSERT_TRUE(server);
    server->start();
    std::array<char, 4096> buf;
    std::vector<int> fds;
    fds.reserve(connections + 1);
    // Warm-up: one connection, one request (workspace pool, engine tables, date cache).
    fds.push_back(connect_blocking(server->local_address()));
    ASSERT_GE(fds.back(), 0);
    ASSERT_TRUE(blocking_round_trip(fds.back(), buf));
    std::array<long, size_buckets> sizes_before;
    for (std::size_t i = 0; i < size_buckets; ++i) sizes_before[i] = by_size[i].load();
    long count_before = 0;
    start_counting(count_before);
    const long bytes_before = allocated_bytes.load();
    bool ok = true;
    for (int i = 0; i < connections && ok; ++i) {
        int fd = connect_blocking(server->local_address());
        ok = fd >= 0 && blocking_round_trip(fd, buf);
        fds.push_back(fd);
    }
    const long count = stop_counting(count_before);
    const long bytes = allocated_bytes.load() - bytes_before;
    std::printf(
        "[ measured ] per idle keep-alive connection (1 executor, after one request): "
        "%.2f operator new calls, %.0f bytes requested\n",
        static_cast<double>(count) / connections, static_cast<double>(bytes) / connections);
    for (std::size_t i = 0; i < size_buckets; ++i) {
        long n = by_size[i].load() - sizes_before[i];
        if (n == 0) continue;
        if (i + 1 < size_buckets)
            std::printf("[ measured ]   %4zu..%4zu bytes: %ld allocations\n", i * 16, i * 16 + 15,
                        n);
        else
            std::printf("[ measured ]   >= %zu bytes: %ld allocations\n", i * 16, n);
    }
    for (int fd : fds)
        if (fd >= 0) ::close(fd);
    rt.stop();
    rt.join();
    EXPECT_TRUE(ok);
}

}  // namespace
