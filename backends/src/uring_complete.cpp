// The io_uring engine's completion side: reap CQEs in batches and turn each into the next step
// of its operation (recv_exact / send_all remainders, the EAGAIN fallback) or its completion.

#include "io_syscalls.hpp"
#include "uring_detail.hpp"

#include <opensocket/backends/uring_engine.hpp>

#include <liburing.h>
#include <sys/socket.h>
#include <algorithm>
#include <cerrno>
#include <vector>

namespace opensocket {
namespace {

struct completion {
    uint64_t user_data;
    int32_t res;
    uint32_t flags;
};

/// A non-blocking connect's outcome once the socket is writable (connect(2), EINPROGRESS).
int connect_error(int fd) noexcept {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
    return err;
}

}  // namespace

unsigned uring_engine::reap() noexcept {
    constexpr unsigned batch = 64;
    io_uring* ring = ring_.get();
    // Bounded, so that a flood of completions still lets the executor run what they woke; what
    // is left is reaped by the next poll, which then does not block.
    const unsigned limit = std::max(ring->cq.ring_entries, 1024u);
    unsigned total = 0;
    while (total < limit) {
        if (io_uring_cq_has_overflow(ring)) ++stats_.overflow_flushes;
        io_uring_cqe* cqes[batch];
        // Flushes the kernel's overflow list into the CQ when the CQ is empty (NODROP).
        unsigned n = io_uring_peek_batch_cqe(ring, cqes, batch);
        if (n == 0) break;
        // Copied out and released first: dispatching may queue new SQEs and even submit them.
        completion got[batch];
        for (unsigned i = 0; i < n; ++i)
            got[i] = {cqes[i]->user_data, cqes[i]->res, cqes[i]->flags};
        io_uring_cq_advance(ring, n);
        for (unsigned i = 0; i < n; ++i) dispatch(got[i].user_data, got[i].res, got[i].flags);
        total += n;
    }
    return total;
}

void uring_engine::dispatch(uint64_t user_data, int32_t res, uint32_t flags) noexcept {
    namespace tags = detail::uring;
    if (user_data == tags::ignored || user_data == tags::liburing_timeout) return;
    if (user_data == tags::wake) {
        wake_armed_ = queue_wake_read();  // the counter was read: arm the next read
        return;
    }
    if (tags::is_slot_tag(user_data)) {
        if (tags::slot_sqe_of(user_data) == tags::slot_sqe::recv)
            return on_recv_done(user_data, res, flags);
        return on_accept_done(user_data, res, flags);
    }
    io_op& op = *tags::op_of(user_data);
    if ((user_data & tags::poll_bit) != 0)
        on_poll_done(op, res);
    else
        on_io_done(op, res);
}

void uring_engine::on_poll_done(io_op& op, int32_t res) noexcept {
    op.started = false;
    if (op.res == -ECANCELED) return finish(op, -ECANCELED);
    if (res < 0) return finish(op, res);
    if (op.kind == io_kind::connect) {
        int err = connect_error(op.fd);
        if (err == EINPROGRESS || err == EALREADY) {
            op.started = true;  // a spurious wake-up: wait again
            return queue_step(op);
        }
        return finish(op, -err);
    }
    if (op.kind == io_kind::recv_lent) return lent_after_poll(op);
    queue_step(op);  // ready now: the real operation again
}

void uring_engine::on_io_done(io_op& op, int32_t res) noexcept {
    const bool canceled = op.res == -ECANCELED;
    const bool again = res == -EAGAIN || res == -EINTR ||
                       (op.kind == io_kind::connect && (res == -EINPROGRESS || res == -EALREADY));
    if (again) {
        if (canceled) return finish(op, -ECANCELED);
        // EAGAIN: the kernel answered O_NONBLOCK instead of waiting (io-wq, old kernels): wait
        // for readiness, then retry. EINTR: retry at once, except a connect, whose handshake
        // goes on in the background and is waited for like EINPROGRESS.
        if (res != -EINTR || op.kind == io_kind::connect) {
            op.started = true;
            ++stats_.readiness_retries;
        }
        return queue_step(op);
    }
    if (res < 0) return finish(op, res);  // includes -ECANCELED
    switch (op.kind) {
        case io_kind::accept:
        case io_kind::connect: return finish(op, res);
        case io_kind::wait_readable: return finish(op, 0);
        default: break;
    }
    if (res > 0 && detail::reads(op.kind))
        if (slot* s = find(op.token)) busy(*s);
    op.done += static_cast<std::size_t>(res);
    const bool more = op.done < op.len &&
                      ((op.kind == io_kind::recv_exact && res > 0) || op.kind == io_kind::send_all);
    if (!more) return finish(op, static_cast<int64_t>(op.done));
    if (canceled) return finish(op, -ECANCELED);  // done says how far it got
    queue_step(op);
}

void uring_engine::finish(io_op& op, int64_t res) noexcept {
    unlink(op);
    if (!waiting_cancels_.empty()) remove_waiting_cancel(op);
    op.started = false;
    op.res = res;
    op.complete();
}

void uring_engine::unlink(io_op& op) noexcept {
    slot* s = find(op.token);
    if (s == nullptr) return;  // an orphan of detach(): no longer on any queue
    const bool read_side = detail::reads(op.kind);
    const bool was_first = s->ops.first(read_side) == &op;
    if (!s->ops.remove(&op) || !was_first) return;
    // The next op of this direction may go to the kernel now.
    if (io_op* next = s->ops.first(read_side)) queue_step(*next);
}

void uring_engine::remove_waiting_cancel(io_op& op) noexcept {
    namespace tags = detail::uring;
    std::erase_if(waiting_cancels_, [&op](uint64_t user_data) {
        return !tags::is_slot_tag(user_data) && tags::op_of(user_data) == &op;
    });
}

bool uring_engine::remove_waiting(std::vector<io_op*>& list, io_op& op) noexcept {
    auto it = std::find(list.begin(), list.end(), &op);
    if (it == list.end()) return false;
    list.erase(it);
    return true;
}

}  // namespace opensocket
