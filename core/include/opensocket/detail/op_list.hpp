#pragma once
/// \file op_list.hpp
/// An intrusive FIFO of pending `io_op`s, linked through `io_op::next` (engine-private). Shared by
/// the engines for the operations parked on one descriptor. Single-threaded.

#include <opensocket/engine.hpp>

namespace opensocket::detail {

struct op_list {
    io_op* head = nullptr;
    io_op* tail = nullptr;

    bool empty() const noexcept { return head == nullptr; }

    void push(io_op* op) noexcept {
        op->next = nullptr;
        (tail != nullptr ? tail->next : head) = op;
        tail = op;
    }

    io_op* pop() noexcept {
        io_op* op = head;
        head = op->next;
        if (head == nullptr) tail = nullptr;
        op->next = nullptr;
        return op;
    }

    /// Unlinks `op` if queued; lists are short (usually one op), so a scan is fine.
    bool remove(io_op* op) noexcept {
        io_op* prev = nullptr;
        for (io_op* cur = head; cur != nullptr; prev = cur, cur = cur->next) {
            if (cur != op) continue;
            (prev != nullptr ? prev->next : head) = cur->next;
            if (tail == cur) tail = prev;
            cur->next = nullptr;
            return true;
        }
        return false;
    }

    bool contains(const io_op* op) const noexcept {
        for (const io_op* cur = head; cur != nullptr; cur = cur->next)
            if (cur == op) return true;
        return false;
    }
};

}  // namespace opensocket::detail
