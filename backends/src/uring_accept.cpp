// Multishot accept (IORING_ACCEPT_MULTISHOT, 5.19): a listener keeps one accept SQE in the kernel
// while accepts are wanted, and each connection arrives as a CQE with IORING_CQE_F_MORE. The SQE
// belongs to the listener's slot, not to an accept operation: an accept op waits for the next
// CQE, a CQE that finds no op waiting is kept (up to `accept_queue`) for the next one, and a CQE
// without F_MORE (an error, the CQ overflowing, our cancel) ends it, to be armed again by the
// next accept op that has to wait.

#include "uring_detail.hpp"

#include <opensocket/backends/uring_engine.hpp>

#include <liburing.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cerrno>
#include <new>

namespace opensocket {

bool uring_engine::multishot(const io_op& op) const noexcept {
    return op.kind == io_kind::accept && features_.multishot_accept;
}

namespace {

/// Completes an accept's result with the connection `fd`. A multishot accept cannot return peer
/// addresses (one SQE, many connections): the socket is asked, if the op wants one.
int64_t with_peer(io_op& op, int fd) noexcept {
    if (op.addr != nullptr && op.addrlen != nullptr && ::getpeername(fd, op.addr, op.addrlen) != 0)
        *op.addrlen = 0;
    return fd;
}

}  // namespace

bool uring_engine::accept_now(slot& s, io_op& op) noexcept {
    if (s.ms == nullptr || s.ms->accepted.empty()) return false;
    std::vector<int>& accepted = s.ms->accepted;
    const int fd = accepted.front();
    accepted.erase(accepted.begin());
    op.res = with_peer(op, fd);
    return true;
}

bool uring_engine::want_accept(io_op& op) noexcept {
    slot* s = find(op.token);
    if (s == nullptr) return false;
    multishot_state* ms = ensure_ms(*s);
    if (ms == nullptr) {
        finish(op, -ENOMEM);  // tcp_listener backs off and tries again
        return true;
    }
    if (accept_now(*s, op)) {
        finish(op, op.res);
        return true;
    }
    if (ms->accept_armed) return true;  // its SQE is queued or in the kernel: wait for a CQE
    ms->accept_armed = true;
    ms->accept_stopping = false;
    return false;  // the caller queues the SQE (prep_multishot_accept)
}

void uring_engine::prep_multishot_accept(io_uring_sqe* sqe, io_op& op) noexcept {
    ++stats_.accept_arms;
    io_uring_prep_multishot_accept(sqe, op.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe,
                            detail::uring::slot_tag(op.token, detail::uring::slot_sqe::accept));
}

void uring_engine::on_accept_done(uint64_t user_data, int32_t res, uint32_t flags) noexcept {
    slot* s = find_tagged(user_data);
    if (s == nullptr || s->ms == nullptr) {
        // The listener was detached: nobody will take this connection.
        if (res >= 0) ::close(res);
        return;
    }
    multishot_state& ms = *s->ms;
    const io_token t{detail::uring::tag_index(user_data), s->generation};
    if ((flags & IORING_CQE_F_MORE) == 0) ms.accept_armed = ms.accept_stopping = false;
    io_op* op = s->ops.first(true);
    if (op != nullptr && op->kind != io_kind::accept) op = nullptr;
    if (res >= 0) {
        if (op == nullptr) return keep_accepted(*s, t, res);
        return finish(*op, with_peer(*op, res));  // the next waiting accept re-arms if needed
    }
    // An error (EMFILE, ENFILE, ECONNABORTED, ...) goes to the waiting accept; tcp_listener
    // retries or backs off. With nobody waiting it is dropped: no connection was taken, and the
    // next accept op arms again and meets it if it persists.
    if (op != nullptr && res != -ECANCELED) return finish(*op, res);
    if (op != nullptr && !ms.accept_armed) queue_step(*op);
}

void uring_engine::keep_accepted(slot& s, io_token t, int fd) noexcept {
    multishot_state& ms = *s.ms;
    try {
        ms.accepted.push_back(fd);
    } catch (const std::bad_alloc&) {
        ::close(fd);  // the peer sees a reset; the process is out of memory anyway
        return;
    }
    ++stats_.accepts_queued;
    // Enough taken ahead of the application: leave the rest in the kernel's listen backlog.
    if (ms.accepted.size() >= accept_queue_ && ms.accept_armed && !ms.accept_stopping) {
        ms.accept_stopping = true;
        queue_cancel_tag(detail::uring::slot_tag(t, detail::uring::slot_sqe::accept));
    }
}

void uring_engine::accept_abandoned(slot& s, io_token t) noexcept {
    multishot_state& ms = *s.ms;
    io_op* next = s.ops.first(true);
    if ((next != nullptr && next->kind == io_kind::accept) || !ms.accept_armed ||
        ms.accept_stopping)
        return;
    // The last waiting accept was cancelled: accepts are no longer wanted, so the listener stops
    // taking connections from the backlog. The cancel is submitted now, not with the loop turn:
    // the kernel resolves it at submission, and a multishot armed earlier would accept under the
    // RLIMIT_NOFILE of its arming (io_uring reads the limit at prep time), not today's.
    ms.accept_stopping = true;
    queue_cancel_tag(detail::uring::slot_tag(t, detail::uring::slot_sqe::accept));
    (void)submit_pending();
}

void uring_engine::stop_accepting(slot& s, io_token t, bool submitted) noexcept {
    multishot_state& ms = *s.ms;
    if (ms.accept_armed && submitted && !ms.accept_stopping)
        queue_cancel_tag(detail::uring::slot_tag(t, detail::uring::slot_sqe::accept));
    ms.accept_armed = ms.accept_stopping = false;
    for (int fd : ms.accepted) ::close(fd);
    ms.accepted.clear();
}

}  // namespace opensocket
