#include <opensocket/timer_queue.hpp>

namespace opensocket {

void timer_queue::insert(timer_node& n) {
    n.seq = next_seq_++;
    heap_.push_back(&n);
    n.heap_index = heap_.size() - 1;
    sift_up(n.heap_index);
}

bool timer_queue::remove(timer_node& n) noexcept {
    if (!n.queued()) return false;
    std::size_t i = n.heap_index;
    n.heap_index = timer_node::npos;
    timer_node* last = heap_.back();
    heap_.pop_back();
    if (i < heap_.size()) {
        place(i, last);
        sift_up(i);
        sift_down(last->heap_index);
    }
    return true;
}

std::size_t timer_queue::fire_due(clock::time_point now) {
    std::size_t fired = 0;
    while (!heap_.empty() && heap_.front()->deadline <= now) {
        timer_node* n = heap_.front();
        remove(*n);
        ++fired;
        n->fire(n);  // may insert or remove other timers
    }
    return fired;
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
