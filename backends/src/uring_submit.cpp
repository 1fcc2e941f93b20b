// The io_uring engine's submission side: one SQE per step of an operation, queued during the
// loop turn and submitted together by poll(). A full SQ is submitted at once and refilled; if
// even that frees no entry, the step waits in a backlog that the next poll drains.

#include "io_syscalls.hpp"
#include "uring_detail.hpp"

#include <opensocket/backends/uring_engine.hpp>

#include <liburing.h>
#include <poll.h>
#include <sys/socket.h>
#include <algorithm>
#include <cerrno>

namespace opensocket {
io_uring_sqe* uring_engine::get_sqe() noexcept {
    if (io_uring_sqe* sqe = io_uring_get_sqe(ring_.get())) return sqe;
    ++stats_.sq_full_submits;
    if (!submit_pending()) return nullptr;
    return io_uring_get_sqe(ring_.get());
}

bool uring_engine::submit_pending() noexcept {
    if (!enabled_) enable();
    int r;
    do {
        r = io_uring_submit(ring_.get());
    } while (r == -EINTR);
    submitted();
    // EAGAIN/EBUSY: out of kernel resources or a CQ overflow backlog until completions are
    // reaped; EEXIST: not the ring's single issuer thread. The SQEs stay queued for poll().
    return r >= 0;
}

void uring_engine::prep_step(io_uring_sqe* sqe, io_op& op) noexcept {
    const int fd = op.fd;
    const int dontwait = dontwait_ ? MSG_DONTWAIT : 0;
    if (op.started) {
        // The readiness fallback: wait for the direction this op needs, then retry it.
        io_uring_prep_poll_add(sqe, fd, detail::reads(op.kind) ? POLLIN : POLLOUT);
    } else if (rides_recv(op)) {
        return prep_multishot_recv(sqe, op);  // arms the descriptor's multishot recv
    } else {
        switch (op.kind) {
            case io_kind::accept:
                if (multishot(op)) return prep_multishot_accept(sqe, op);
                io_uring_prep_accept(sqe, fd, op.addr, op.addrlen, SOCK_NONBLOCK | SOCK_CLOEXEC);
                break;
            case io_kind::connect: io_uring_prep_connect(sqe, fd, op.addr, *op.addrlen); break;
            case io_kind::recv:
            case io_kind::recv_exact:
                io_uring_prep_recv(sqe, fd, op.buf + op.done, detail::uring::step_len(op),
                                   dontwait);
                break;
            case io_kind::send:
            case io_kind::send_all:
                io_uring_prep_send(sqe, fd, op.buf + op.done, detail::uring::step_len(op),
                                   MSG_NOSIGNAL | dontwait);
                break;
            case io_kind::wait_readable: io_uring_prep_poll_add(sqe, fd, POLLIN); break;
            case io_kind::recv_lent: break;  // always rides the multishot recv, or polls first
        }
    }
    io_uring_sqe_set_data64(sqe, detail::uring::tag(op));
}

void uring_engine::queue_step(io_op& op) noexcept {
    if (multishot(op) && want_accept(op)) return;
    if (!op.started && op.kind != io_kind::accept && detail::reads(op.kind) && want_read(op))
        return;
    io_uring_sqe* sqe = get_sqe();
    if (sqe == nullptr) {
        ++stats_.backlogged;
        waiting_steps_.push_back(&op);
        return;
    }
    prep_step(sqe, op);
}

void uring_engine::submitted() noexcept {
    // The kernel consumed every SQE up to the tail (khead caught up): the queued closes ran.
    if (!queued_closes_.empty() && io_uring_sq_ready(ring_.get()) == 0) queued_closes_.clear();
}

void uring_engine::prep_cancel(io_uring_sqe* sqe, uint64_t user_data) noexcept {
    // By user_data, not by descriptor: the caller may close the descriptor before this SQE is
    // submitted, and its number may then name another socket.
    io_uring_prep_cancel64(sqe, user_data, 0);
    io_uring_sqe_set_data64(sqe, detail::uring::ignored);
    if (features_.skip_success) sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;  // nothing to learn
}

void uring_engine::queue_cancel(io_op& op) noexcept { queue_cancel_tag(detail::uring::tag(op)); }

void uring_engine::queue_cancel_tag(uint64_t user_data) noexcept {
    ++stats_.cancels;
    io_uring_sqe* sqe = get_sqe();
    if (sqe == nullptr) {
        ++stats_.backlogged;
        waiting_cancels_.push_back(user_data);
        return;
    }
    prep_cancel(sqe, user_data);
}

bool uring_engine::queue_wake_read() noexcept {
    io_uring_sqe* sqe = get_sqe();
    if (sqe == nullptr) return false;
    io_uring_prep_read(sqe, wake_fd_, &wake_buf_, sizeof wake_buf_, 0);
    io_uring_sqe_set_data64(sqe, detail::uring::wake);
    return true;
}

void uring_engine::drain_backlog() noexcept {
    // Cancels first, in request order, then the steps. An op's cancel waits here only while the
    // op is in flight (finish() drops it), so its tag names that op and nothing newer. A slot's
    // tag carries the slot's generation, so it cannot reach a later descriptor's SQE.
    std::size_t i = 0;
    for (; i < waiting_cancels_.size(); ++i) {
        io_uring_sqe* sqe = get_sqe();
        if (sqe == nullptr) break;
        prep_cancel(sqe, waiting_cancels_[i]);
    }
    waiting_cancels_.erase(waiting_cancels_.begin(),
                           waiting_cancels_.begin() + static_cast<std::ptrdiff_t>(i));
    for (i = 0; i < waiting_steps_.size(); ++i) {
        io_uring_sqe* sqe = get_sqe();
        if (sqe == nullptr) break;
        prep_step(sqe, *waiting_steps_[i]);
    }
    waiting_steps_.erase(waiting_steps_.begin(),
                         waiting_steps_.begin() + static_cast<std::ptrdiff_t>(i));
}

}  // namespace opensocket
