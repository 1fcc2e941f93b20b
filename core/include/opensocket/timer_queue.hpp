#pragma once
/// \file timer_queue.hpp
/// The executor's timers. No allocation per timer (the node lives in the waiting frame); equal
/// deadlines fire in insertion order.
///
/// Two structures share the work:
/// - **Lanes** for the common case of a fixed timeout re-armed over and over (an idle timeout, a
///   per-request deadline): such deadlines arrive in non-decreasing order, so a lane is a FIFO of
///   node pointers that stays sorted by construction. Insert and cancel are O(1) (cancel leaves a
///   hole that the head skips; a lane is compacted when it fills, amortised O(1)).
/// - An intrusive 4-ary **min-heap** for the rest (a deadline earlier than every lane's last
///   one): O(log n).
/// The earliest timer is the smallest of the heap's top and the lanes' heads.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace opensocket {

using clock = std::chrono::steady_clock;

/// A timer entry. Owned by the caller; must stay alive while queued. Executor thread only.
struct timer_node {
    clock::time_point deadline{};
    uint64_t seq = 0;                              ///< insertion order, breaks deadline ties
    std::size_t position = npos;                   ///< where the queue keeps it; `npos`: not queued
    void (*fire)(timer_node*) noexcept = nullptr;  ///< called once when the deadline passes

    static constexpr std::size_t npos = static_cast<std::size_t>(-1);
    bool queued() const noexcept { return position != npos; }
};

class timer_queue {
public:
    void insert(timer_node& n);
    /// Removes `n` if queued; returns whether it was.
    bool remove(timer_node& n) noexcept;
    bool empty() const noexcept { return size_ == 0; }
    std::size_t size() const noexcept { return size_; }
    /// The earliest deadline; the queue must not be empty.
    clock::time_point next_deadline() const noexcept { return earliest()->deadline; }
    /// Pops and fires every timer due at `now`, in deadline order. Returns how many fired.
    std::size_t fire_due(clock::time_point now);

    /// How many timers sit in the heap (the rest are in lanes). For tests and diagnostics.
    std::size_t heap_size() const noexcept { return heap_.size(); }

private:
    static constexpr unsigned lane_count = 4;
    // position encoding: heap index, or lane_flag | lane << lane_shift | logical slot
    static constexpr std::size_t lane_flag = std::size_t{1} << 63;
    static constexpr unsigned lane_shift = 56;
    static constexpr std::size_t slot_mask = (std::size_t{1} << lane_shift) - 1;

    /// A sorted FIFO: logical slots [head, tail) map to ring[slot & (ring.size() - 1)]; removed
    /// entries are null until the head passes them.
    struct lane {
        std::vector<timer_node*> ring;
        std::size_t head = 0;
        std::size_t tail = 0;
        std::size_t live = 0;
        clock::time_point last{};  ///< deadline of the last append: >= every live entry's
        timer_node* front() const noexcept { return ring[head & (ring.size() - 1)]; }
    };

    static bool before(const timer_node* a, const timer_node* b) noexcept {
        return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
    }
    timer_node* earliest() const noexcept;
    void lane_append(unsigned index, timer_node& n);
    void lane_remove(timer_node& n) noexcept;
    void lane_rebuild(unsigned index);
    void update_lane_summary() noexcept;
    void heap_remove(std::size_t i) noexcept;
    void place(std::size_t i, timer_node* n) noexcept {
        heap_[i] = n;
        n->position = i;
    }
    void sift_up(std::size_t i) noexcept;
    void sift_down(std::size_t i) noexcept;

    lane lanes_[lane_count];
    // When every lane is in use, a deadline before the smallest of their last ones fits none:
    // it goes straight to the heap (two compares instead of a scan: random deadlines).
    unsigned lanes_in_use_ = 0;
    clock::time_point min_last_ = clock::time_point::max();
    std::vector<timer_node*> heap_;
    std::size_t size_ = 0;
    uint64_t next_seq_ = 0;
};

}  // namespace opensocket
