// Cancellation racing completion. A pending operation gets its result (data, the timer's
// deadline, an incoming connection) and a stop request from another thread at nearly the same
// moment, thousands of times over. Every time, the awaiting coroutine must be resumed exactly
// once, with either the real result or operation_canceled, and nothing may be lost: a byte or
// connection that lost the race to the cancellation must still be there for the next operation.

#include "stress_support.hpp"

#include <test_support.hpp>

#include <opensocket/sleep.hpp>
#include <opensocket/when_all.hpp>

#include <array>
#include <cstdint>
#include <random>

using namespace opensocket;
using namespace opensocket::testing;
using namespace std::chrono_literals;

namespace {

// Bounds one iteration: an operation left parked (say, a lost readiness event) shows as timed_out.
// A completion that is lost outright ignores this timeout's cancellation too: the watchdog in
// each test catches that.
constexpr auto iteration_limit = 5s;

/// How the races ended, over all iterations.
struct race_tally {
    long completed = 0;  ///< the real result won
    long canceled = 0;   ///< the cancellation won
    long resumed = 0;    ///< resumptions of the racing coroutine (must equal the iterations)
    long iterations = 0;
};

/// Links the calling task's stop token (with_timeout's) to `race`, so that the iteration bound
/// also reaches an operation bound to `race`.
struct forward_to {
    std::stop_source* race;
    void operator()() const noexcept { race->request_stop(); }
};

/// The helper's half of a race: deliver the result and request stop, in either order, with a
/// random skew between the two.
struct race_plan {
    bool cancel_first = false;
    unsigned skew = 0;
};

race_plan random_plan(std::mt19937& rng) {
    return {rng() % 2 == 0, static_cast<unsigned>(rng() % 4000)};
}

template <class Deliver>
void run_race(const race_plan& plan, std::stop_source& race, Deliver deliver) {
    if (plan.cancel_first) {
        race.request_stop();
        spin_briefly(plan.skew);
        deliver();
    } else {
        deliver();
        spin_briefly(plan.skew);
        race.request_stop();
    }
}

// ---- read_some vs cancel ---------------------------------------------------------------------

task<result<std::size_t>> racing_read(tcp_stream& s, std::span<std::byte> buf, long& resumed) {
    auto r = co_await s.read_some(buf);
    ++resumed;
    co_return r;
}

task<> release_read_race(race_partner& partner, race_plan plan, std::stop_source& race,
                         native_handle writer, std::byte value) {
    // Runs after racing_read has parked (when_all starts its children in order).
    partner.fire([plan, &race, writer, value] {
        run_race(plan, race, [writer, value] { (void)raw_send(writer, &value, 1); });
    });
    co_return;
}

task<result<void>> one_read_race(stream_pair& pair, race_partner& partner, race_plan plan,
                                 std::byte value, race_tally& tally) {
    std::stop_source race;
    std::stop_callback link(co_await get_stop_token(), forward_to{&race});
    std::array<std::byte, 16> buf{};
    long resumed = 0;
    auto [r, unused] =
        co_await when_all(racing_read(pair.server, buf, resumed).with_stop_token(race.get_token()),
                          release_read_race(partner, plan, race, pair.client.native(), value));
    (void)unused;
    partner.wait_done();  // the helper no longer touches `race`
    tally.resumed += resumed;
    EXPECT_EQ(resumed, 1);
    if (r) {
        ++tally.completed;
        EXPECT_EQ(*r, 1u);
        EXPECT_EQ(buf[0], value);
        co_return result<void>{};
    }
    if (r.error() != std::errc::operation_canceled) co_return fail(r.error());
    ++tally.canceled;
    // The byte lost the race but is not lost: the next read gets it.
    auto again = co_await pair.server.read_some(buf);
    if (!again) co_return fail(again.error());
    EXPECT_EQ(*again, 1u);
    EXPECT_EQ(buf[0], value);
    co_return result<void>{};
}

task<race_tally> read_races(long iterations) {
    race_tally tally;
    auto pair = co_await connected_pair();
    EXPECT_TRUE(pair);
    if (!pair) co_return tally;
    race_partner partner;
    std::mt19937 rng(1);
    for (long i = 0; i < iterations; ++i) {
        auto value = static_cast<std::byte>(i & 0xff);
        auto r = co_await with_timeout(
            one_read_race(*pair, partner, random_plan(rng), value, tally), iteration_limit);
        ++tally.iterations;
        EXPECT_TRUE(r) << "iteration " << i << ": " << r.error().message();
        if (!r) break;
    }
    co_return tally;
}

// ---- sleep_for vs cancel ---------------------------------------------------------------------

task<result<void>> racing_sleep(clock::duration d, long& resumed) {
    auto r = co_await sleep_for(d);
    ++resumed;
    co_return r;
}

task<> release_sleep_race(race_partner& partner, race_plan plan, std::stop_source& race) {
    partner.fire([plan, &race] { run_race(plan, race, [] {}); });
    co_return;
}

task<result<void>> one_sleep_race(race_partner& partner, race_plan plan, clock::duration d,
                                  race_tally& tally) {
    std::stop_source race;
    std::stop_callback link(co_await get_stop_token(), forward_to{&race});
    long resumed = 0;
    auto [r, unused] = co_await when_all(racing_sleep(d, resumed).with_stop_token(race.get_token()),
                                         release_sleep_race(partner, plan, race));
    (void)unused;
    partner.wait_done();
    tally.resumed += resumed;
    EXPECT_EQ(resumed, 1);
    if (r) {
        ++tally.completed;
        co_return result<void>{};
    }
    if (r.error() != std::errc::operation_canceled) co_return fail(r.error());
    ++tally.canceled;
    co_return result<void>{};
}

task<race_tally> sleep_races(long iterations) {
    race_tally tally;
    race_partner partner;
    std::mt19937 rng(2);
    for (long i = 0; i < iterations; ++i) {
        // Deadlines of 0-150 us land on both sides of the helper's stop request.
        auto d = std::chrono::microseconds(rng() % 150);
        auto r = co_await with_timeout(one_sleep_race(partner, random_plan(rng), d, tally),
                                       iteration_limit);
        ++tally.iterations;
        EXPECT_TRUE(r) << "iteration " << i << ": " << r.error().message();
        if (!r) break;
    }
    co_return tally;
}

// ---- accept vs cancel ------------------------------------------------------------------------

/// The helper's client socket for the current iteration (blocking; owned by the helper job).
struct client_slot {
    socket_handle fd;
    uint16_t local_port = 0;
    void reset() {
        fd.reset();
        local_port = 0;
    }
};

void connect_client(client_slot& c, const socket_address& to) {
    c.reset();
    auto s = socket_handle::open(to.family(), SOCK_STREAM);
    if (!s || detail::set_blocking(s->get(), true)) return;
    // Blocking connect: returns once the handshake is done, whether or not accept() ran.
    if (::connect(s->get(), to.native(), to.native_size()) != 0) return;
    if (auto local = s->local_address()) c.local_port = local->port();
    c.fd = std::move(*s);
}

task<result<tcp_stream>> racing_accept(tcp_listener& l, long& resumed) {
    auto r = co_await l.accept();
    ++resumed;
    co_return r;
}

task<> release_accept_race(race_partner& partner, race_plan plan, std::stop_source& race,
                           client_slot& client, socket_address to) {
    partner.fire([plan, &race, &client, to] {
        run_race(plan, race, [&client, &to] { connect_client(client, to); });
    });
    co_return;
}

/// Checks that `s` is the server side of the helper's current client connection.
void expect_peer_is(const tcp_stream& s, const client_slot& client) {
    auto peer = s.peer_address();
    ASSERT_TRUE(peer);
    EXPECT_EQ(peer->port(), client.local_port);
}

task<result<void>> one_accept_race(tcp_listener& l, race_partner& partner, race_plan plan,
                                   client_slot& client, race_tally& tally) {
    std::stop_source race;
    std::stop_callback link(co_await get_stop_token(), forward_to{&race});
    long resumed = 0;
    auto [r, unused] =
        co_await when_all(racing_accept(l, resumed).with_stop_token(race.get_token()),
                          release_accept_race(partner, plan, race, client, *l.local_address()));
    (void)unused;
    partner.wait_done();  // `client` is settled now
    tally.resumed += resumed;
    EXPECT_EQ(resumed, 1);
    EXPECT_TRUE(client.fd.valid()) << "the helper could not connect";
    if (r) {
        ++tally.completed;
        expect_peer_is(*r, client);
        r->abort();  // RST: no TIME_WAIT left behind by thousands of connections
        co_return result<void>{};
    }
    if (r.error() != std::errc::operation_canceled) co_return fail(r.error());
    ++tally.canceled;
    // The connection that lost the race waits in the backlog for the next accept.
    auto again = co_await l.accept();
    if (!again) co_return fail(again.error());
    expect_peer_is(*again, client);
    again->abort();
    co_return result<void>{};
}

task<race_tally> accept_races(long iterations) {
    race_tally tally;
    auto l = loopback_listener();
    race_partner partner;
    client_slot client;
    std::mt19937 rng(3);
    for (long i = 0; i < iterations; ++i) {
        auto r = co_await with_timeout(one_accept_race(l, partner, random_plan(rng), client, tally),
                                       iteration_limit);
        ++tally.iterations;
        EXPECT_TRUE(r) << "iteration " << i << ": " << r.error().message();
        if (!r) break;
    }
    client.reset();
    co_return tally;
}

void expect_every_iteration_resumed_once(const race_tally& t, long iterations) {
    EXPECT_EQ(t.iterations, iterations);
    EXPECT_EQ(t.resumed, t.iterations);
    EXPECT_EQ(t.completed + t.canceled, t.iterations);
    ::testing::Test::RecordProperty("completed", std::to_string(t.completed));
    ::testing::Test::RecordProperty("canceled", std::to_string(t.canceled));
}

}  // namespace

TEST(stress_cancel_race, read_some_receiving_data_while_cancelled_from_another_thread) {
    const long n = scaled(10000, 5000);
    watchdog guard(std::chrono::seconds(scaled(30, 100)), "read_some races");
    auto tally = run(read_races(n));
    expect_every_iteration_resumed_once(tally, n);
}

TEST(stress_cancel_race, sleep_for_expiring_while_cancelled_from_another_thread) {
    const long n = scaled(10000, 5000);
    watchdog guard(std::chrono::seconds(scaled(30, 100)), "sleep_for races");
    auto tally = run(sleep_races(n));
    expect_every_iteration_resumed_once(tally, n);
}

TEST(stress_cancel_race, accept_getting_a_connection_while_cancelled_from_another_thread) {
    const long n = scaled(5000, 3000);
    watchdog guard(std::chrono::seconds(scaled(30, 100)), "accept races");
    auto tally = run(accept_races(n));
    expect_every_iteration_resumed_once(tally, n);
}
