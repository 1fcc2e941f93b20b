// tcp_stream::read_lent on every engine: bytes arrive whole and in order over random write
// sizes, EOF is an empty buffer, lent reads mix with the other reads without reordering, a
// deadline cancels exactly once without losing the byte that raced it, many idle reads complete
// when data comes, and buffers the application holds on to never stall other connections.

#include <test_support.hpp>

#include <opensocket/lent_buffer.hpp>
#include <opensocket/spawn.hpp>
#include <opensocket/when_all.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <random>
#include <vector>

using namespace opensocket;
using namespace opensocket::testing;
using namespace std::chrono_literals;

namespace {

std::vector<std::byte> pattern(std::size_t offset, std::size_t n) {
    std::vector<std::byte> out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = pattern_byte(offset + i);
    return out;
}

/// Writes bytes [0, total) of the pattern in random chunks of 1..max_chunk, then closes.
task<bool> write_pattern(tcp_stream& s, std::size_t total, std::size_t max_chunk, unsigned seed) {
    std::mt19937 rng(seed);
    std::size_t sent = 0;
    while (sent < total) {
        std::size_t n = std::min<std::size_t>(total - sent, 1 + rng() % max_chunk);
        auto chunk = pattern(sent, n);
        if (!co_await s.write_all(chunk)) co_return false;
        sent += n;
    }
    s.close();
    co_return true;
}

/// Reads with read_lent until EOF; counts bytes that differ from the pattern.
task<std::size_t> read_lent_until_eof(tcp_stream& s, std::size_t& mismatches) {
    std::size_t got = 0;
    for (;;) {
        auto b = co_await s.read_lent();
        EXPECT_TRUE(b) << b.error().message();
        if (!b || b->empty()) co_return got;
        for (std::byte x : b->bytes())
            if (x != pattern_byte(got++)) ++mismatches;
    }
}

}  // namespace

TEST(read_lent, delivers_every_byte_in_order_over_random_write_sizes) {
    constexpr std::size_t total = 3u << 20;
    std::size_t mismatches = 0;
    auto [sent, got] = run([&]() -> task<std::pair<bool, std::size_t>> {
        auto p = co_await connected_pair();
        EXPECT_TRUE(p);
        if (!p) co_return std::pair{false, std::size_t{0}};
        auto [w, r] = co_await when_all(write_pattern(p->client, total, 70000, 1),
                                        read_lent_until_eof(p->server, mismatches));
        co_return std::pair{w, r};
    }());
    EXPECT_TRUE(sent);
    EXPECT_EQ(got, total);
    EXPECT_EQ(mismatches, 0u);
}

TEST(read_lent, returns_an_empty_buffer_at_end_of_stream) {
    run([]() -> task<> {
        auto p = co_await connected_pair();
        EXPECT_TRUE(p);
        if (!p) co_return;
        EXPECT_TRUE(co_await p->client.write_all(std::string_view("bye")));
        p->client.close();
        auto b = co_await p->server.read_lent();
        EXPECT_TRUE(b && b->text() == "bye");
        auto eof = co_await p->server.read_lent();
        EXPECT_TRUE(eof && eof->empty());
        auto again = co_await p->server.read_lent();  // EOF stays EOF
        EXPECT_TRUE(again && again->empty());
    }());
}

TEST(read_lent, mixes_with_the_other_reads_in_order) {
    constexpr std::size_t total = 400000;
    std::size_t mismatches = 0, got = 0;
    run([&]() -> task<> {
        auto p = co_await connected_pair();
        EXPECT_TRUE(p);
        if (!p) co_return;
        auto reader = [&](tcp_stream& s) -> task<> {
            std::array<std::byte, 777> exact{};
            std::array<std::byte, 100> some{};
            auto check = [&](std::span<const std::byte> bytes) {
                for (std::byte x : bytes)
                    if (x != pattern_byte(got++)) ++mismatches;
            };
            for (int i = 0; got < total; ++i) {
                switch (i % 4) {
                    case 0: {
                        auto b = co_await s.read_lent();
                        if (!b || b->empty()) co_return;
                        check(b->bytes());
                        break;
                    }
                    case 1: {
                        auto n = co_await s.read_some(some);
                        if (!n || *n == 0) co_return;
                        check(std::span(some).first(*n));
                        break;
                    }
                    case 2: {
                        if (total - got < exact.size()) break;
                        auto n = co_await s.read_exact(exact);
                        if (!n) co_return;
                        check(exact);
                        break;
                    }
                    case 3:
                        if (!co_await s.wait_readable()) co_return;
                        break;
                }
            }
        };
        co_await when_all(write_pattern(p->client, total, 3000, 2), reader(p->server));
    }());
    EXPECT_EQ(got, total);
    EXPECT_EQ(mismatches, 0u);
}

TEST(read_lent, deadline_cancels_exactly_once_and_the_racing_byte_stays_readable) {
    int timed_out = 0, read_first_time = 0;
    run([&]() -> task<> {
        auto p = co_await connected_pair();
        EXPECT_TRUE(p);
        if (!p) co_return;
        // Nothing to read: the deadline ends it, and the next byte goes to the next read.
        for (int i = 0; i < 5; ++i) {
            auto idle = co_await p->server.read_lent(clock::now() + 1ms);
            EXPECT_TRUE(!idle && idle.error() == std::errc::timed_out);
            const auto value = static_cast<std::byte>(100 + i);
            EXPECT_TRUE(co_await p->client.write_all(std::span(&value, 1)));
            auto b = co_await p->server.read_lent();
            EXPECT_TRUE(b && b->size() == 1 && b->bytes()[0] == value);
        }
        for (int i = 0; i < 200; ++i) {
            const auto value = static_cast<std::byte>(i);
            // The read parks with a deadline a few microseconds away; the byte is sent right
            // after: the deadline and the data race to end the read.
            auto racing_read = [&]() -> task<result<lent_buffer>> {
                co_return co_await p->server.read_lent(clock::now() + (i % 5 - 2) * 20us);
            };
            auto send = [&]() -> task<bool> {
                co_return static_cast<bool>(co_await p->client.write_all(std::span(&value, 1)));
            };
            auto [b, sent] = co_await when_all(racing_read(), send());
            EXPECT_TRUE(sent);
            if (!b) {
                EXPECT_EQ(b.error(), std::errc::timed_out);
                ++timed_out;
                b = co_await p->server.read_lent();
            } else {
                ++read_first_time;
            }
            EXPECT_TRUE(b && b->size() == 1 && b->bytes()[0] == value) << "round " << i;
        }
    }());
    EXPECT_EQ(timed_out + read_first_time, 200);
    RecordProperty("timed_out", timed_out);
    RecordProperty("read_first_time", read_first_time);
}

TEST(read_lent, many_idle_reads_complete_when_data_arrives) {
    constexpr std::size_t connections = 200;
    std::vector<int> ok(connections, 0);
    run([&]() -> task<> {
        std::vector<stream_pair> pairs;
        for (std::size_t i = 0; i < connections; ++i) {
            auto p = co_await connected_pair();
            EXPECT_TRUE(p);
            if (!p) co_return;
            pairs.push_back(std::move(*p));
        }
        task_scope scope;
        for (std::size_t i = 0; i < connections; ++i)
            scope.spawn([](tcp_stream& s, int& flag, std::size_t id) -> task<> {
                auto b = co_await s.read_lent();
                flag = b && b->size() == 1 && b->bytes()[0] == pattern_byte(id);
            }(pairs[i].server, ok[i], i));
        // Spawned after the readers, so it runs once they are all parked.
        scope.spawn([](std::vector<stream_pair>& ps) -> task<> {
            for (std::size_t i = 0; i < ps.size(); ++i) {
                const std::byte v = pattern_byte(i);
                EXPECT_TRUE(co_await ps[i].client.write_all(std::span(&v, 1)));
            }
        }(pairs));
        co_await scope.join();
    }());
    EXPECT_EQ(std::count(ok.begin(), ok.end(), 1), static_cast<long>(connections));
}

namespace held {
constexpr std::size_t connections = 300, per_connection = 3000;

task<> write(tcp_stream& s, unsigned seed) {
    EXPECT_TRUE(co_await write_pattern(s, per_connection, 500, seed));
}

task<> read_and_keep(tcp_stream& s, std::vector<lent_buffer>& keep, std::size_t& done,
                     std::size_t& bad) {
    std::size_t got = 0;
    while (got < per_connection) {
        auto b = co_await s.read_lent();
        if (!b || b->empty()) break;
        for (std::byte x : b->bytes())
            if (x != pattern_byte(got++)) ++bad;
        keep.push_back(std::move(*b));
    }
    if (got == per_connection) ++done;
}
}  // namespace held

TEST(read_lent, buffers_held_by_the_application_never_stall_other_connections) {
    using held::connections;
    // Every reader keeps all it was lent until every connection has had its bytes: more
    // buffers out at once than any engine's pool or ring holds.
    std::size_t complete = 0, mismatches = 0;
    run([&]() -> task<> {
        std::vector<stream_pair> pairs;
        for (std::size_t i = 0; i < connections; ++i) {
            auto p = co_await connected_pair();
            EXPECT_TRUE(p);
            if (!p) co_return;
            pairs.push_back(std::move(*p));
        }
        std::vector<std::vector<lent_buffer>> kept(connections);
        task_scope scope;
        for (std::size_t i = 0; i < connections; ++i) {
            scope.spawn(held::write(pairs[i].client, static_cast<unsigned>(i)));
            scope.spawn(held::read_and_keep(pairs[i].server, kept[i], complete, mismatches));
        }
        co_await scope.join();
        kept.clear();  // given back on the executor, before it ends
    }());
    EXPECT_EQ(complete, connections);
    EXPECT_EQ(mismatches, 0u);
}
