#pragma once
/// \file op_list.hpp
/// An intrusive FIFO of pending `io_op`s, linked through `io_op::next` (engine-private). Shared by
/// the engines for the operations parked on one descriptor. Single-threaded.
///
/// Circular, with only the tail stored (`tail->next` is the head): one pointer per list keeps an
/// engine slot - two lists, one per direction - 16 bytes smaller for every open socket, with
/// O(1) push and pop.

#include <opensocket/engine.hpp>

namespace opensocket::detail {

class op_list {
public:
    bool empty() const noexcept { return tail_ == nullptr; }

    /// The oldest op, or nullptr.
    io_op* front() const noexcept { return tail_ != nullptr ? tail_->next : nullptr; }
    /// The op queued after `op` (which is queued here), or nullptr after the last.
    io_op* after(const io_op* op) const noexcept { return op == tail_ ? nullptr : op->next; }

    void push(io_op* op) noexcept {
        if (tail_ == nullptr) {
            op->next = op;
        } else {
            op->next = tail_->next;
            tail_->next = op;
        }
        tail_ = op;
    }

    /// Removes and returns the oldest op; the list must not be empty.
    io_op* pop() noexcept {
        io_op* op = tail_->next;
        if (op == tail_)
            tail_ = nullptr;
        else
            tail_->next = op->next;
        op->next = nullptr;
        return op;
    }

    /// Unlinks `op` if queued; lists are short (usually one op), so a scan is fine.
    bool remove(io_op* op) noexcept {
        if (tail_ == nullptr) return false;
        io_op* prev = tail_;
        for (io_op* cur = tail_->next;; prev = cur, cur = cur->next) {
            if (cur == op) {
                if (cur == prev) {
                    tail_ = nullptr;  // it was the only one
                } else {
                    prev->next = cur->next;
                    if (cur == tail_) tail_ = prev;
                }
                cur->next = nullptr;
                return true;
            }
            if (cur == tail_) return false;
        }
    }

    bool contains(const io_op* op) const noexcept {
        for (const io_op* cur = front(); cur != nullptr; cur = after(cur))
            if (cur == op) return true;
        return false;
    }

private:
    io_op* tail_ = nullptr;
};

}  // namespace opensocket::detail
