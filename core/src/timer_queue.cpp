#include <opensocket/timer_queue.hpp>

namespace opensocket {

void timer_queue::insert(timer_node& n) {
    n.seq = next_seq_++;
    if (lanes_in_use_ == lane_count && n.deadline < min_last_) {
        heap_.push_back(&n);
        n.position = heap_.size() - 1;
        sift_up(n.position);
        ++size_;
        return;
    }
    // The lane whose last deadline is the latest one not after n's keeps its order with n
    // appended; failing that, an empty lane starts a new run; failing that, the heap.
    unsigned best = lane_count;
    unsigned empty_lane = lane_count;
    for (unsigned i = 0; i < lane_count; ++i) {
        const lane& l = lanes_[i];
        if (l.live == 0) {
            if (empty_lane == lane_count) empty_lane = i;
        } else if (l.last <= n.deadline && (best == lane_count || lanes_[best].last < l.last)) {
            best = i;
        }
    }
    if (best == lane_count) best = empty_lane;
    if (best != lane_count) {
        lane_append(best, n);
    } else {
        heap_.push_back(&n);
        n.position = heap_.size() - 1;
        sift_up(n.position);
    }
    ++size_;
}

bool timer_queue::remove(timer_node& n) noexcept {
    if (!n.queued()) return false;
    if (n.position & lane_flag)
        lane_remove(n);
    else
        heap_remove(n.position);
    n.position = timer_node::npos;
    --size_;
    return true;
}

timer_node* timer_queue::earliest() const noexcept {
    timer_node* best = heap_.empty() ? nullptr : heap_.front();
    for (const lane& l : lanes_) {
        if (l.live == 0) continue;
        timer_node* f = l.front();
        if (best == nullptr || before(f, best)) best = f;
    }
    return best;
}

std::size_t timer_queue::fire_due(clock::time_point now) {
    std::size_t fired = 0;
    while (size_ != 0) {
        timer_node* n = earliest();
        if (n->deadline > now) break;
        remove(*n);
        ++fired;
        n->fire(n);  // may insert or remove other timers
    }
    return fired;
}

// ---- lanes ----------------------------------------------------------------------------------

void timer_queue::lane_append(unsigned index, timer_node& n) {
    lane& l = lanes_[index];
    if (l.tail - l.head == l.ring.size()) lane_rebuild(index);
    l.ring[l.tail & (l.ring.size() - 1)] = &n;
    n.position = lane_flag | (std::size_t{index} << lane_shift) | l.tail;
    ++l.tail;
    ++l.live;
    l.last = n.deadline;
    update_lane_summary();
}

void timer_queue::update_lane_summary() noexcept {
    lanes_in_use_ = 0;
    min_last_ = clock::time_point::max();
    for (const lane& l : lanes_) {
        if (l.live == 0) continue;
        ++lanes_in_use_;
        if (l.last < min_last_) min_last_ = l.last;
    }
}

void timer_queue::lane_remove(timer_node& n) noexcept {
    lane& l = lanes_[(n.position & ~lane_flag) >> lane_shift];
    const std::size_t slot = n.position & slot_mask;
    const std::size_t mask = l.ring.size() - 1;
    l.ring[slot & mask] = nullptr;
    --l.live;
    if (slot == l.head)
        while (l.head != l.tail && l.ring[l.head & mask] == nullptr) ++l.head;
    if (l.live == 0) update_lane_summary();
}

/// The lane is full (live entries plus holes): copy the live entries, in order, to the front of
/// a ring at least twice their number, renumbering their slots from 0.
void timer_queue::lane_rebuild(unsigned index) {
    lane& l = lanes_[index];
    std::size_t cap = 16;
    while (cap < 2 * (l.live + 1)) cap *= 2;
    std::vector<timer_node*> ring(cap, nullptr);
    std::size_t next = 0;
    const std::size_t mask = l.ring.empty() ? 0 : l.ring.size() - 1;
    for (std::size_t s = l.head; s != l.tail; ++s) {
        timer_node* e = l.ring[s & mask];
        if (e == nullptr) continue;
        ring[next] = e;
        e->position = lane_flag | (std::size_t{index} << lane_shift) | next;
        ++next;
    }
    l.ring.swap(ring);
    l.head = 0;
    l.tail = next;
}

// ---- heap -----------------------------------------------------------------------------------

void timer_queue::heap_remove(std::size_t i) noexcept {
    timer_node* last = heap_.back();
    heap_.pop_back();
    if (i < heap_.size()) {
        place(i, last);
        sift_up(i);
        sift_down(last->position);
    }
}

void timer_queue::sift_up(std::size_t i) noexcept {
    timer_node* n = heap_[i];
    while (i > 0) {
        std::size_t parent = (i - 1) / 4;
        if (!before(n, heap_[parent])) break;
        place(i, heap_[parent]);
        i = parent;
    }
    place(i, n);
}

void timer_queue::sift_down(std::size_t i) noexcept {
    timer_node* n = heap_[i];
    const std::size_t size = heap_.size();
    for (;;) {
        std::size_t first = i * 4 + 1;
        if (first >= size) break;
        std::size_t best = first;
        std::size_t end = first + 4 < size ? first + 4 : size;
        for (std::size_t c = first + 1; c < end; ++c)
            if (before(heap_[c], heap_[best])) best = c;
        if (!before(heap_[best], n)) break;
        place(i, heap_[best]);
        i = best;
    }
    place(i, n);
}

}  // namespace opensocket
