// Timers in bulk: ten thousand concurrent with_timeout and sleep_for timers wake in deadline
// order, and a hundred thousand queued sleeps cancelled at once all complete and leave the
// executor with nothing to wait for.

#include "stress_support.hpp"

#include <test_support.hpp>

#include <opensocket/sleep.hpp>
#include <opensocket/spawn.hpp>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

using namespace opensocket;
using namespace opensocket::testing;
using namespace std::chrono_literals;

namespace {

// ---- ten thousand timers in deadline order ---------------------------------------------------

// Each timer's deadline is known only within [lo, hi]: sleep_for and with_timeout read the clock
// themselves, a little after we do.
struct timer_record {
    clock::time_point lo;
    clock::time_point hi;
    clock::time_point insert_turn;  // executor::now() of the loop turn that queued the timer
    clock::time_point woke_at;
    std::size_t wake_seq = 0;
    bool is_timeout = false;  // with_timeout (else sleep_for)
    bool woke = false;
    bool expected_outcome = false;
    // Before this, the timer was surely queued and its deadline surely passed: any timer whose
    // deadline is surely later, and which was queued in a loop turn that began before it could
    // fire, must wake after this one.
    clock::time_point key() const { return std::max(hi, insert_turn); }
};

struct timer_log {
    std::vector<timer_record> records;
    std::size_t woken = 0;
};

void note_wake(timer_log& log, timer_record& rec, bool outcome_ok) {
    rec.woke_at = clock::now();
    rec.wake_seq = log.woken++;
    rec.woke = true;
    rec.expected_outcome = outcome_ok;
}

task<> sleeper(timer_log& log, std::size_t i, clock::duration d) {
    timer_record& rec = log.records[i];
    rec.insert_turn = executor::current()->now();
    rec.lo = clock::now() + d;
    auto aw = sleep_for(d);
    rec.hi = clock::now() + d;
    auto r = co_await aw;
    note_wake(log, rec, static_cast<bool>(r));
}

// The operation bounded by with_timeout: records when with_timeout has armed its timer (which
// is just before it starts this task), then waits far longer than the timeout.
task<result<void>> overrunning_op(timer_record& rec, clock::duration d) {
    rec.hi = clock::now() + d;
    co_return co_await sleep_for(1h);
}

task<> timeout_waiter(timer_log& log, std::size_t i, clock::duration d) {
    timer_record& rec = log.records[i];
    rec.is_timeout = true;
    rec.insert_turn = executor::current()->now();
    rec.lo = clock::now() + d;
    auto r = co_await with_timeout(overrunning_op(rec, d), d);
    note_wake(log, rec, !r && r.error() == std::errc::timed_out);
}

task<> start_timers(timer_log& log, const std::vector<clock::duration>& delays) {
    task_scope scope;
    for (std::size_t i = 0; i < delays.size(); ++i) {
        if (i % 2 == 0)
            scope.spawn(sleeper(log, i, delays[i]));
        else
            scope.spawn(timeout_waiter(log, i, delays[i]));
    }
    co_await scope.join();
}

/// Ten thousand timers, every other one a with_timeout; returns them in wake order.
std::vector<timer_record> run_ten_thousand_timers() {
    constexpr std::size_t n = 10'000;
    std::mt19937 rng(7);
    // Deadlines spread over 0-40 ms (0-200 ms under the sanitizers, where inserting ten
    // thousand tasks takes longer), so most are queued before the earliest fires.
    std::uniform_int_distribution<int> us(0, static_cast<int>(scaled(40'000, 200'000)));
    std::vector<clock::duration> delays(n);
    for (auto& d : delays) d = std::chrono::microseconds(us(rng));
    timer_log log;
    log.records.resize(n);

    run(start_timers(log, delays));

    EXPECT_EQ(log.woken, n);
    std::vector<timer_record> by_wake(n);
    for (std::size_t i = 0; i < n; ++i) {
        const timer_record& r = log.records[i];
        EXPECT_TRUE(r.woke && r.expected_outcome) << i;
        EXPECT_GE(r.woke_at, r.lo) << i << " woke before its deadline";
        if (r.woke) by_wake[r.wake_seq] = r;
    }
    return by_wake;
}

struct order_check {
    std::size_t violations = 0;   ///< timers that woke before one that had to precede them
    std::size_t constrained = 0;  ///< timers after at least one that had to precede them
};

/// Checks the wake order of the pairs (earlier-woken a, later-woken b) that `pair_filter(a, b)`
/// selects: b must not have had to precede a. Linear: for each timer, the smallest key among
/// the selected timers woken after (and before) it.
template <class Filter>
order_check check_wake_order(const std::vector<timer_record>& by_wake, Filter pair_filter) {
    order_check out;
    const std::size_t n = by_wake.size();
    for (bool kind : {false, true}) {  // the kind of the earlier-woken timer a
        // Suffix and prefix minima of key() over the timers of each kind.
        std::array<std::vector<clock::time_point>, 2> after, before;
        for (int k = 0; k < 2; ++k) {
            after[k].assign(n + 1, clock::time_point::max());
            before[k].assign(n + 1, clock::time_point::max());
        }
        for (std::size_t x = n; x-- > 0;)
            for (int k = 0; k < 2; ++k)
                after[k][x] = by_wake[x].is_timeout == (k == 1)
                                  ? std::min(after[k][x + 1], by_wake[x].key())
                                  : after[k][x + 1];
        for (std::size_t x = 0; x < n; ++x)
            for (int k = 0; k < 2; ++k)
                before[k][x + 1] = by_wake[x].is_timeout == (k == 1)
                                       ? std::min(before[k][x], by_wake[x].key())
                                       : before[k][x];
        for (std::size_t x = 0; x < n; ++x) {
            const timer_record& a = by_wake[x];
            if (a.is_timeout != kind) continue;
            for (int k = 0; k < 2; ++k) {
                timer_record b_kind;
                b_kind.is_timeout = k == 1;
                if (!pair_filter(a, b_kind)) continue;
                if (after[k][x + 1] < a.lo) ++out.violations;
                if (before[k][x] < a.lo) ++out.constrained;
            }
        }
    }
    return out;
}

TEST(stress_timers, ten_thousand_with_timeout_and_sleep_for_timers_wake_in_deadline_order) {
    auto by_wake = run_ten_thousand_timers();
    // Among sleeps and among timeouts (cross-kind order: see the disabled test below).
    auto same_kind = check_wake_order(by_wake, [](const timer_record& a, const timer_record& b) {
        return a.is_timeout == b.is_timeout;
    });
    RecordProperty("constrained", std::to_string(same_kind.constrained));
    EXPECT_EQ(same_kind.violations, 0u);
    EXPECT_GT(same_kind.constrained, by_wake.size() / 2);  // the check must not be vacuous
}

// Fails today: a with_timeout's timer fires in deadline order, but the cancellation it requests
// is posted through the executor's cross-thread queue even on the executor's own thread
// (op_base::on_stop_requested, core/src/operation.cpp), so a timed-out waiter resumes after
// every plain sleep that fired in the same loop turn, however much later their deadlines (and
// after a whole budget of 1024 resumptions when many fire at once). Enable once cancellations
// requested on the owning thread run at once.
TEST(stress_timers, with_timeout_and_sleep_for_timers_wake_in_deadline_order_together) {
    auto by_wake = run_ten_thousand_timers();
    auto all =
        check_wake_order(by_wake, [](const timer_record&, const timer_record&) { return true; });
    EXPECT_EQ(all.violations, 0u);
    EXPECT_GT(all.constrained, by_wake.size() / 2);
}

// ---- a hundred thousand cancelled sleeps -----------------------------------------------------

/// Wraps the real engine and reports when the loop blocks in poll() with no time limit, which
/// it does only when no timer is queued and nothing is ready.
class idle_watch_engine final : public engine {
public:
    explicit idle_watch_engine(std::unique_ptr<engine> inner) : inner_(std::move(inner)) {}

    std::string_view name() const noexcept override { return inner_->name(); }
    result<io_token> attach(native_handle fd) noexcept override { return inner_->attach(fd); }
    void detach(io_token t) noexcept override { inner_->detach(t); }
    bool start(io_op& op) noexcept override { return inner_->start(op); }
    void cancel(io_op& op) noexcept override { inner_->cancel(op); }
    void wake() noexcept override { inner_->wake(); }
    void poll(int64_t timeout_ns) override {
        if (timeout_ns < 0 && armed_.load()) {
            std::lock_guard lock(mutex_);
            idle_ = true;
            cv_.notify_all();
        }
        inner_->poll(timeout_ns);
    }

    /// From now on, note the first poll without a time limit.
    void arm() noexcept { armed_.store(true); }
    /// Any thread: waits (up to `limit`) until the loop has blocked with no time limit.
    bool wait_idle(std::chrono::seconds limit) {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, limit, [this] { return idle_; });
    }

private:
    std::unique_ptr<engine> inner_;
    std::atomic<bool> armed_{false};
    std::mutex mutex_;
    std::condition_variable cv_;
    bool idle_ = false;
};

struct mass_cancel_outcome {
    std::size_t canceled = 0;
    std::size_t other = 0;
    std::size_t sleeping = 0;
    std::size_t active_after_join = 0;
};

task<> long_sleeper(mass_cancel_outcome& out) {
    ++out.sleeping;
    auto r = co_await sleep_for(1h);
    if (!r && r.error() == std::errc::operation_canceled)
        ++out.canceled;
    else
        ++out.other;
}

task<> cancel_many_sleeps(std::size_t n, mass_cancel_outcome& out, idle_watch_engine& watch) {
    task_scope scope;
    for (std::size_t i = 0; i < n; ++i) scope.spawn(long_sleeper(out));
    while (out.sleeping < n) co_await yield_now{};
    scope.request_stop();
    co_await scope.join();
    out.active_after_join = scope.active();
    watch.arm();  // from here on the executor has nothing left to do
}

TEST(stress_timers, cancelling_a_hundred_thousand_queued_sleeps_leaves_the_executor_idle) {
    constexpr std::size_t n = 100'000;
    auto inner = make_engine(engine_kind::automatic);
    ASSERT_TRUE(inner);
    auto watch_owner = std::make_unique<idle_watch_engine>(std::move(*inner));
    idle_watch_engine& watch = *watch_owner;
    executor ex(std::move(watch_owner));
    std::thread loop([&ex] { ex.run(); });

    mass_cancel_outcome out;
    spawn_on(ex, cancel_many_sleeps(n, out, watch));
    // A leftover timer (say a sleep whose cancellation did not remove it) would make the loop
    // poll with that timer's deadline instead of blocking without a limit.
    bool idle = watch.wait_idle(std::chrono::seconds(scaled(30, 120)));
    ex.request_stop();
    loop.join();

    EXPECT_TRUE(idle) << "the executor never went idle after the sleeps were cancelled";
    EXPECT_EQ(out.sleeping, n);
    EXPECT_EQ(out.canceled, n);
    EXPECT_EQ(out.other, 0u);
    EXPECT_EQ(out.active_after_join, 0u);
}

}  // namespace
