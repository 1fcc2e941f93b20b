#pragma once
// Heap buffers for `io_kind::recv_lent` where no provided-buffer ring lends them: the readiness
// engine always, the io_uring engine when its ring is dry or missing. A buffer is taken only once
// the descriptor is readable and given back at once if the read finds nothing, so a waiting
// operation pins no memory.

#include "io_syscalls.hpp"

#include <cerrno>
#include <cstddef>
#include <new>
#include <vector>

namespace opensocket::detail {

class lent_pool {
public:
    /// Bytes per buffer: one read's worth at most.
    static constexpr std::size_t buffer_size = 8192;
    /// The `io_op::done` of a buffer lent from this pool (engines number their own differently).
    static constexpr std::size_t heap_id = ~std::size_t{0};
    /// Free buffers kept for reuse (2 MiB at most, and only after that many were out at once);
    /// more are freed. A readiness loop turn lends one per ready connection before their
    /// coroutines run and give them back: keeping too few made every turn malloc and free
    /// (and fault in) fresh buffers, 0.6 us per message on a 64-connection echo.
    static constexpr std::size_t keep = 256;

    lent_pool() = default;
    lent_pool(const lent_pool&) = delete;
    lent_pool& operator=(const lent_pool&) = delete;
    ~lent_pool() {
        for (std::byte* b : free_) delete[] b;
    }

    /// A buffer of `buffer_size` bytes, or null when memory runs out.
    std::byte* take() noexcept {
        if (!free_.empty()) {
            std::byte* b = free_.back();
            free_.pop_back();
            return b;
        }
        return new (std::nothrow) std::byte[buffer_size];
    }

    void give(std::byte* b) noexcept {
        if (b == nullptr) return;
        if (free_.size() < keep) {
            try {
                free_.push_back(b);
                return;
            } catch (const std::bad_alloc&) {
            }
        }
        delete[] b;
    }

private:
    std::vector<std::byte*> free_;
};

/// `perform_io` for a recv_lent: one recv(2) into a pool buffer, lent on success (`op.buf`,
/// `op.done` = heap_id, `op.res` = bytes); at EOF, on error or EAGAIN the buffer goes back.
inline bool recv_lent(io_op& op, bool& short_io, lent_pool& pool) noexcept {
    std::byte* b = pool.take();
    if (b == nullptr) {
        op.res = -ENOMEM;
        return true;
    }
    io_op step;  // the plain recv, with the syscall code every platform shares
    step.kind = io_kind::recv;
    step.fd = op.fd;
    step.buf = b;
    step.len = lent_pool::buffer_size;
    if (!perform_io(step, short_io)) {
        pool.give(b);
        return false;
    }
    if (step.res > 0) {
        op.buf = b;
        op.done = lent_pool::heap_id;
    } else {
        pool.give(b);
        op.buf = nullptr;
        op.done = 0;
    }
    op.res = step.res;
    return true;
}

}  // namespace opensocket::detail
