#pragma once
/// \file ring_queue.hpp
/// A growable FIFO ring buffer for the executor's local run queue (single thread).

#include <cstddef>
#include <memory>
#include <utility>

namespace opensocket::detail {

template <class T>
class ring_queue {
public:
    ring_queue() : buf_(std::make_unique<T[]>(256)), mask_(255) {}

    bool empty() const noexcept { return head_ == tail_; }
    std::size_t size() const noexcept { return tail_ - head_; }

    void push(T v) {
        if (tail_ - head_ > mask_) grow();
        buf_[tail_++ & mask_] = std::move(v);
    }

    T pop() noexcept { return std::move(buf_[head_++ & mask_]); }

private:
    void grow() {
        std::size_t cap = (mask_ + 1) * 2;
        auto next = std::make_unique<T[]>(cap);
        for (std::size_t i = 0, n = size(); i < n; ++i)
            next[i] = std::move(buf_[(head_ + i) & mask_]);
        tail_ = size();
        head_ = 0;
        buf_ = std::move(next);
        mask_ = cap - 1;
    }

    std::unique_ptr<T[]> buf_;
    std::size_t mask_;
    std::size_t head_ = 0;
    std::size_t tail_ = 0;
};

}  // namespace opensocket::detail
