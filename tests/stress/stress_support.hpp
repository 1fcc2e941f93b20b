#pragma once
// Helpers for the stress suites: iteration counts scaled down under the sanitizers (which slow
// everything 3-20x) and a helper thread that runs one job at a time on request, so that a test
// can make another thread act at nearly the same moment as the executor.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <semaphore>
#include <string>
#include <thread>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define OPENSOCKET_STRESS_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define OPENSOCKET_STRESS_SANITIZED 1
#endif
#endif

namespace opensocket::testing {

#ifdef OPENSOCKET_STRESS_SANITIZED
inline constexpr bool sanitized_build = true;
#else
inline constexpr bool sanitized_build = false;
#endif

/// `plain` normally, `sanitized` in an ASan or TSan build.
constexpr long scaled(long plain, long sanitized) noexcept {
    return sanitized_build ? sanitized : plain;
}

/// Aborts the process if it is not destroyed within `limit`. For hangs that a with_timeout cannot
/// break (an operation that lost its wake-up ignores the timeout's cancellation as well): the
/// test then fails at once with a message instead of at ctest's timeout.
class watchdog {
public:
    watchdog(std::chrono::seconds limit, std::string what)
        : what_(std::move(what)), thread_([this, limit] { watch(limit); }) {}
    ~watchdog() {
        {
            std::lock_guard lock(mutex_);
            done_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }
    watchdog(const watchdog&) = delete;
    watchdog& operator=(const watchdog&) = delete;

private:
    void watch(std::chrono::seconds limit) {
        std::unique_lock lock(mutex_);
        if (cv_.wait_for(lock, limit, [this] { return done_; })) return;
        std::fprintf(stderr, "watchdog: %s did not finish within %lld s (hung?)\n", what_.c_str(),
                     static_cast<long long>(limit.count()));
        std::abort();
    }

    std::string what_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool done_ = false;
    std::thread thread_;  // last: starts after the other members exist
};

/// A thread that runs one job per `fire()`. `wait_done()` blocks until that job has finished.
/// Jobs run strictly one at a time; the semaphores order every access to the job.
class race_partner {
public:
    race_partner() : thread_([this] { loop(); }) {}
    ~race_partner() {
        quit_ = true;
        go_.release();
        thread_.join();
    }
    race_partner(const race_partner&) = delete;
    race_partner& operator=(const race_partner&) = delete;

    void fire(std::function<void()> job) {
        job_ = std::move(job);
        go_.release();
    }
    void wait_done() { done_.acquire(); }

private:
    void loop() {
        for (;;) {
            go_.acquire();
            if (quit_) return;
            job_();
            job_ = nullptr;
            done_.release();
        }
    }

    std::function<void()> job_;
    bool quit_ = false;
    std::binary_semaphore go_{0};
    std::binary_semaphore done_{0};
    std::thread thread_;  // last: starts after the other members exist
};

}  // namespace opensocket::testing
