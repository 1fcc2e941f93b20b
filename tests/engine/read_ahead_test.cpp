// tcp_stream::read_ahead on every engine: a stream whose reads may be served from the engine's
// read-ahead (io_uring: one multishot recv into the provided-buffer ring; the readiness engines
// ignore it) keeps every byte in order through mixed reads, answers request/response round trips,
// lets wait_readable look without consuming, reports EOF after the data, and lets a deadline race
// a read without losing the byte. The io_uring specifics (one arm for many reads, a dry ring,
// cancel races) are in uring_read_ahead_test.cpp.

#include <test_support.hpp>

#include <opensocket/lent_buffer.hpp>
#include <opensocket/when_all.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <random>
#include <string>
#include <vector>

using namespace opensocket;
using namespace opensocket::testing;
using namespace std::chrono_literals;

namespace {

/// Writes bytes [0, total) of the pattern in random chunks of 1..max_chunk, then closes.
task<bool> write_pattern(tcp_stream& s, std::size_t total, std::size_t max_chunk, unsigned seed) {
    std::mt19937 rng(seed);
    std::vector<std::byte> chunk;
    for (std::size_t sent = 0; sent < total;) {
        const std::size_t n = std::min<std::size_t>(total - sent, 1 + rng() % max_chunk);
        chunk.resize(n);
        for (std::size_t i = 0; i < n; ++i) chunk[i] = pattern_byte(sent + i);
        if (!co_await s.write_all(chunk)) co_return false;
        sent += n;
    }
    s.close();
    co_return true;
}

}  // namespace

TEST(read_ahead, mixed_reads_keep_every_byte_in_order_until_eof) {
    constexpr std::size_t total = 600000;
    std::size_t mismatches = 0, got = 0;
    bool eof = false;
    run([&]() -> task<> {
        auto p = co_await connected_pair();
        EXPECT_TRUE(p);
        if (!p) co_return;
        p->server.read_ahead();
        auto reader = [&](tcp_stream& s) -> task<> {
            std::array<std::byte, 333> exact{};
            std::array<std::byte, 100> some{};
            auto check = [&](std::span<const std::byte> bytes) {
                for (std::byte x : bytes)
                    if (x != pattern_byte(got++)) ++mismatches;
            };
            for (int i = 0;; ++i) {
                switch (i % 4) {
                    case 0: {
                        auto n = co_await s.read_some(some);
                        EXPECT_TRUE(n) << n.error().message();
                        if (!n) co_return;
                        if (*n == 0) {
                            eof = true;
                            co_return;
                        }
                        check(std::span(some).first(*n));
                        break;
                    }
                    case 1: {
                        if (total - got < exact.size()) break;
                        auto n = co_await s.read_exact(exact);
                        EXPECT_TRUE(n) << n.error().message();
                        if (!n) co_return;
                        check(exact);
                        break;
                    }
                    case 2: {
                        auto b = co_await s.read_lent();
                        EXPECT_TRUE(b) << b.error().message();
                        if (!b) co_return;
                        if (b->empty()) {
                            eof = true;
                            co_return;
                        }
                        check(b->bytes());
                        break;
                    }
                    case 3: EXPECT_TRUE(co_await s.wait_readable()); break;
                }
            }
        };
        co_await when_all(write_pattern(p->client, total, 5000, 7), reader(p->server));
    }());
    EXPECT_EQ(got, total);
    EXPECT_EQ(mismatches, 0u);
    EXPECT_TRUE(eof);
}

TEST(read_ahead, serves_request_response_round_trips) {
    constexpr int rounds = 300;
    int answered = 0;
    run([&]() -> task<> {
        auto p = co_await connected_pair();
        EXPECT_TRUE(p);
        if (!p) co_return;
        p->server.read_ahead();
        auto server = [&](tcp_stream& s) -> task<> {
            std::array<char, 64> buf{};
            for (;;) {
                // The shape of a keep-alive server: an idle wait, then the read.
                auto ready = co_await s.wait_readable(clock::now() + 10s);
                EXPECT_TRUE(ready);
                if (!ready) co_return;
                auto n = co_await s.read_some(std::as_writable_bytes(std::span(buf)));
                EXPECT_TRUE(n);
                if (!n || *n == 0) co_return;
                std::string reply = "re:" + std::string(buf.data(), *n);
                if (!co_await s.write_all(reply)) co_return;
            }
        };
        auto client = [&](tcp_stream& c) -> task<> {
            for (int i = 0; i < rounds; ++i) {
                const std::string ask = "req" + std::to_string(i);
                if (!co_await c.write_all(ask)) break;
                std::string want = "re:" + ask;
                std::string got(want.size(), '\0');
                auto n = co_await c.read_exact(std::as_writable_bytes(std::span(got)));
                EXPECT_TRUE(n && got == want) << "round " << i;
                if (!n || got != want) break;
                ++answered;
            }
            c.close();
        };
        co_await when_all(server(p->server), client(p->client));
    }());
    EXPECT_EQ(answered, rounds);
}

TEST(read_ahead, wait_readable_looks_without_consuming_and_eof_follows_the_data) {
    run([]() -> task<> {
        auto p = co_await connected_pair();
        EXPECT_TRUE(p);
        if (!p) co_return;
        p->server.read_ahead();
        EXPECT_TRUE(co_await p->client.write_all(std::string_view("hello")));
        p->client.close();
        EXPECT_TRUE(co_await p->server.wait_readable());
        EXPECT_TRUE(co_await p->server.wait_readable());  // still there: nothing was taken
        std::array<char, 3> three{};
        auto n = co_await p->server.read_exact(std::as_writable_bytes(std::span(three)));
        EXPECT_TRUE(n && std::string_view(three.data(), 3) == "hel");
        std::array<char, 16> rest{};
        n = co_await p->server.read_some(std::as_writable_bytes(std::span(rest)));
        EXPECT_TRUE(n && std::string_view(rest.data(), *n) == "lo");
        EXPECT_TRUE(co_await p->server.wait_readable());  // EOF is readable
        n = co_await p->server.read_some(std::as_writable_bytes(std::span(rest)));
        EXPECT_TRUE(n && *n == 0);
        n = co_await p->server.read_some(std::as_writable_bytes(std::span(rest)));
        EXPECT_TRUE(n && *n == 0);  // EOF stays EOF
        std::array<char, 4> more{};
        auto short_read = co_await p->server.read_exact(std::as_writable_bytes(std::span(more)));
        EXPECT_TRUE(!short_read && short_read.error() == error::unexpected_eof);
    }());
}

TEST(read_ahead, deadline_cancels_exactly_once_and_the_racing_byte_stays_readable) {
    int timed_out = 0, read_first_time = 0;
    run([&]() -> task<> {
        auto p = co_await connected_pair();
        EXPECT_TRUE(p);
        if (!p) co_return;
        p->server.read_ahead();
        std::array<std::byte, 8> buf{};
        for (int i = 0; i < 200; ++i) {
            const auto value = static_cast<std::byte>(i);
            auto racing_read = [&]() -> task<result<std::size_t>> {
                co_return co_await p->server.read_some(buf, clock::now() + (i % 5 - 2) * 20us);
            };
            auto send = [&]() -> task<bool> {
                co_return static_cast<bool>(co_await p->client.write_all(std::span(&value, 1)));
            };
            auto [n, sent] = co_await when_all(racing_read(), send());
            EXPECT_TRUE(sent);
            if (!n) {
                EXPECT_EQ(n.error(), std::errc::timed_out);
                ++timed_out;
                n = co_await p->server.read_some(buf);
            } else {
                ++read_first_time;
            }
            EXPECT_TRUE(n && *n == 1 && buf[0] == value) << "round " << i;
        }
    }());
    EXPECT_EQ(timed_out + read_first_time, 200);
    RecordProperty("timed_out", timed_out);
    RecordProperty("read_first_time", read_first_time);
}
