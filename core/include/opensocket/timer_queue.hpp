#pragma once
/// \file timer_queue.hpp
/// The executor's timers: an intrusive 4-ary min-heap. Insert and cancel are O(log n) with no
/// allocation (the node lives in the waiting frame); equal deadlines fire in insertion order.

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
    std::size_t heap_index = npos;                 ///< position in the heap, `npos` when not queued
    void (*fire)(timer_node*) noexcept = nullptr;  ///< called once when the deadline passes

    static constexpr std::size_t npos = static_cast<std::size_t>(-1);
    bool queued() const noexcept { return heap_index != npos; }
};

class timer_queue {
public:
    void insert(timer_node& n);
    /// Removes `n` if queued; returns whether it was.
    bool remove(timer_node& n) noexcept;
    bool empty() const noexcept { return heap_.empty(); }
    std::size_t size() const noexcept { return heap_.size(); }
    /// The earliest deadline; the queue must not be empty.
    clock::time_point next_deadline() const noexcept { return heap_.front()->deadline; }
    /// Pops and fires every timer due at `now`, in deadline order. Returns how many fired.
    std::size_t fire_due(clock::time_point now);

private:
    static bool before(const timer_node* a, const timer_node* b) noexcept {
        return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
    }
    void place(std::size_t i, timer_node* n) noexcept {
        heap_[i] = n;
        n->heap_index = i;
    }
    void sift_up(std::size_t i) noexcept;
    void sift_down(std::size_t i) noexcept;

    std::vector<timer_node*> heap_;
    uint64_t next_seq_ = 0;
};

}  // namespace opensocket
