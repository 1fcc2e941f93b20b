#pragma once
/// \file wait_batch.hpp
/// How many completions the io_uring engine's blocking wait asks the kernel for
/// (uring_options::batch_wait_us; docs/backends.md "Batched waits"). Pure logic, no kernel: the
/// engine feeds it the descriptors that read something and how each batched wait ended.

#include <algorithm>
#include <cstdint>

namespace opensocket::detail {

/// The batch a wait asks for. Each wait that returns costs a wake-up (a context switch when the
/// thread slept), so a loop turn that has nothing to run asks for several completions at once,
/// with IORING_FEAT_MIN_TIMEOUT bounding how long the kernel holds the first one back. The size
/// follows the load, so a quiet server never waits for a batch that will not come:
///  - a quarter of the descriptors that read something in the current or the previous window
///    (a client waiting for its answer sends nothing more, so asking for more completions than
///    there are busy peers would only run into the time bound);
///  - at most a ceiling, which halves when batched waits keep ending short (the time bound ran
///    out: arrivals were slower than the batch assumed) and doubles again `calm_turns` waits
///    after it last halved, up to `max`.
class wait_batch {
public:
    static constexpr unsigned peers_per_completion = 4;
    static constexpr unsigned calm_turns = 64;
    /// A short batch adds `short_weight` to a score that a full one takes 1 from; reaching
    /// `shrink_score` halves the ceiling. So it shrinks when more than one batch in eight falls
    /// short for a while (three in a row do it), never for a stray one: under full load a peer
    /// that is late now and then makes a batch short about one time in twenty-five.
    static constexpr unsigned short_weight = 7;
    static constexpr unsigned shrink_score = 16;

    /// `max` < 2 disables batching: `target()` is always 1. `window_ns`: how long a descriptor
    /// counts as busy after it read (the current window, then the whole next one).
    wait_batch(unsigned max, int64_t window_ns) noexcept
        : max_(std::max(max, 1u)), ceiling_(max_), window_ns_(window_ns) {}

    /// The current window's number: a descriptor that records it when it reads counts once.
    uint32_t window() const noexcept { return window_; }
    /// A descriptor read something for the first time in this window.
    void busy() noexcept { ++busy_; }
    /// Starts a new window when the current one is over (`now_ns`: a monotonic clock).
    void tick(int64_t now_ns) noexcept {
        if (window_start_ == 0) window_start_ = now_ns;  // the first window starts now
        if (now_ns - window_start_ < window_ns_) return;
        // A window that ended long ago says nothing about the last one: both start empty.
        previous_ = now_ns - window_start_ < 2 * window_ns_ ? busy_ : 0;
        busy_ = 0;
        ++window_;
        window_start_ = now_ns;
    }
    /// Completions the next blocking wait asks for: 1 = no batching.
    unsigned target() const noexcept {
        const unsigned busy = std::max(busy_, previous_);
        return std::clamp(busy / peers_per_completion, 1u, ceiling_);
    }
    /// How a blocking wait that asked for `asked` completions ended: `got` were there.
    void waited(unsigned asked, unsigned got) noexcept {
        if (asked > 1) {
            if (got < asked)
                short_score_ += short_weight;
            else if (short_score_ > 0)
                --short_score_;
            if (short_score_ >= shrink_score) {
                ceiling_ = std::max(ceiling_ / 2, 1u);
                short_score_ = 0;
                calm_ = 0;
                return;
            }
        }
        if (ceiling_ < max_ && ++calm_ >= calm_turns) {
            ceiling_ = std::min(ceiling_ * 2, max_);
            calm_ = 0;
        }
    }
    unsigned ceiling() const noexcept { return ceiling_; }

private:
    unsigned max_;
    unsigned ceiling_;
    unsigned calm_ = 0;  // waits since the ceiling last halved or doubled
    unsigned short_score_ = 0;
    unsigned busy_ = 0;
    unsigned previous_ = 0;
    uint32_t window_ = 1;  // slots start at 0: none counts as busy before it reads
    int64_t window_ns_;
    int64_t window_start_ = 0;  // 0: no tick yet
};

}  // namespace opensocket::detail
