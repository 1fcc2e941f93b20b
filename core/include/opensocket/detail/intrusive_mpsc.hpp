#pragma once
/// \file intrusive_mpsc.hpp
/// A lock-free multi-producer, single-consumer list of intrusive nodes. Producers push with one
/// CAS; the consumer takes the whole list at once and reverses it into FIFO order. The queue is
/// bounded by construction: every node lives inside the object that posts it (an awaiter or a
/// coroutine frame), and one object is in the queue at most once.

#include <atomic>

namespace opensocket::detail {

/// A unit of cross-thread work. `run` is called on the consuming executor's thread.
struct remote_node {
    remote_node* next = nullptr;
    void (*run)(remote_node*) noexcept = nullptr;
};

class intrusive_mpsc {
public:
    /// Any thread. The node must stay alive until `run` is called.
    void push(remote_node* n) noexcept {
        remote_node* head = head_.load(std::memory_order_relaxed);
        do {
            n->next = head;
        } while (!head_.compare_exchange_weak(head, n, std::memory_order_seq_cst,
                                              std::memory_order_relaxed));
    }

    bool empty() const noexcept { return head_.load(std::memory_order_seq_cst) == nullptr; }

    /// Consumer thread only: detaches every node, oldest first.
    remote_node* take_all() noexcept {
        remote_node* n = head_.exchange(nullptr, std::memory_order_acquire);
        remote_node* fifo = nullptr;
        while (n != nullptr) {
            remote_node* next = n->next;
            n->next = fifo;
            fifo = n;
            n = next;
        }
        return fifo;
    }

private:
    std::atomic<remote_node*> head_{nullptr};
};

}  // namespace opensocket::detail
