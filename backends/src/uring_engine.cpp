// The io_uring engine's bookkeeping: slots, the per-descriptor queues, cancellation, the poll.
// SQE preparation is in uring_submit.cpp, completion handling in uring_complete.cpp.

#include "io_syscalls.hpp"
#include "uring_detail.hpp"

#include <opensocket/backends/uring_engine.hpp>
#include <opensocket/executor.hpp>

#include <liburing.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <new>
#include <system_error>

namespace opensocket {

uring_engine::slot* uring_engine::find_tagged(uint64_t user_data) noexcept {
    slot* s = slots_.at(detail::uring::tag_index(user_data));
    if (s == nullptr || !s->in_use) return nullptr;
    const uint32_t generation = s->generation & detail::uring::tag_generation_mask;
    return generation == detail::uring::tag_generation(user_data) ? s : nullptr;
}

result<io_token> uring_engine::attach(native_handle fd) noexcept {
    if (fd < 0) return fail(std::errc::bad_file_descriptor);
    auto token = slots_.acquire();
    if (!token) return token;
    slot& s = *slots_.find(*token);
    if (buffers_ != nullptr) {
        // Room in the kept pool for this descriptor's share (see kept_pool_): a kept read must
        // never need an allocation that could fail.
        const std::size_t need = std::size_t{buffer_count()} + token->index + 1;
        if (kept_pool_.capacity() < need) {
            try {
                kept_pool_.reserve(std::max(need, 2 * kept_pool_.capacity()));
            } catch (const std::bad_alloc&) {
                slots_.unacquire(*token);
                return fail(std::errc::not_enough_memory);
            }
        }
    }
    s.recv_armed = s.recv_stopping = s.read_before = false;
    s.busy_window = 0;
    if (s.ms != nullptr) *s.ms = multishot_state{};  // keeps nothing of the last descriptor
    return token;
}

void uring_engine::detach(io_token token) noexcept {
    // The caller closes the descriptor next. Pending SQEs that name it must reach the kernel
    // first: it then holds its own file reference, and a new descriptor with the same number
    // cannot be mistaken for it.
    if (detach_slot(token)) (void)submit_pending();
}

bool uring_engine::detach_and_close(io_token token, native_handle fd) noexcept {
    if (!features_.ring_close || find(token) == nullptr) {
        detach(token);
        return false;
    }
    // The close SQE goes behind every SQE that names the descriptor (the kernel takes them in
    // order, each grabbing the file as it is issued), so nothing needs submitting early; the
    // cancels go by user_data and may run before or after it.
    const bool queued = detach_slot(token);
    io_uring_sqe* sqe = get_sqe();
    if (sqe == nullptr) {  // the SQ stays full: the caller closes, once what is queued is out
        if (queued) (void)submit_pending();
        return false;
    }
    io_uring_prep_close(sqe, fd);
    io_uring_sqe_set_data64(sqe, detail::uring::ignored);
    if (features_.skip_success) sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
    try {
        queued_closes_.push_back(fd);  // for flush() and the destructor, until submitted
    } catch (const std::bad_alloc&) {
        (void)submit_pending();  // no room to remember it: send it now
    }
    ++stats_.ring_closes;
    return true;
}

void uring_engine::flush() noexcept {
    // The loop is leaving and may not turn again soon. Queued closes must not wait for it, nor
    // must the cancels of detached descriptors: until the cancelled SQE completes, the ring
    // holds the socket's file and the socket stays open. With DEFER_TASKRUN that completion runs
    // only in an io_uring_enter that gets events, hence not just a submit. The CQEs stay in the
    // CQ for the next poll.
    if (queued_closes_.empty() && !detached_busy_) return;
    if (!enabled_) enable();
    int r;
    do {
        r = io_uring_submit_and_get_events(ring_.get());
    } while (r == -EINTR);
    submitted();
    detached_busy_ = false;
}

bool uring_engine::detach_slot(io_token token) noexcept {
    slot* s = slots_.find(token);
    if (s == nullptr) return false;
    slots_.retire(*s);  // CQEs of the ops below now find no slot: they are orphans
    op_queue& ops = s->ops;
    multishot_state* ms = s->ms.get();
    const bool had_ops = !ops.empty() || s->recv_armed || (ms != nullptr && ms->accept_armed);
    io_op* first_reader = ops.first(true);
    io_op* first_writer = ops.first(false);
    // Whether a multishot SQE reached the kernel (rather than waiting in the backlog with the
    // op that armed it).
    bool accept_submitted = true;
    bool recv_submitted = true;
    while (!ops.empty()) {
        io_op* op = ops.pop();
        const bool active = op == first_reader || op == first_writer;
        const bool on_slot = waits_on_slot(*s, *op);
        if (active && remove_waiting(waiting_steps_, *op)) {
            if (multishot(*op)) accept_submitted = false;
            if (rides_recv(*op)) recv_submitted = false;
        } else if (active && !on_slot) {
            // In the kernel: it may still write into the op's buffer or address, so the op
            // completes with its own CQE (-ECANCELED, or its result if that came first).
            if (op->res != -ECANCELED) {
                op->res = -ECANCELED;
                queue_cancel(*op);
            }
            continue;
        }
        // Queued behind another op, waiting for an SQE, or for the descriptor's multishot SQE:
        // not in the kernel.
        op->res = -ECANCELED;
        op->started = false;
        op->complete();
    }
    if (ms != nullptr) stop_accepting(*s, token, accept_submitted);
    drop_reads(*s, token, recv_submitted);
    slots_.recycle(token.index);
    detached_busy_ = detached_busy_ || had_ops;
    return had_ops;
}

bool uring_engine::start(io_op& op) noexcept {
    slot* s = find(op.token);
    if (s == nullptr) {
        op.res = -EBADF;
        return true;
    }
    // While in flight, `res` is scratch: -ECANCELED marks a requested cancellation.
    op.res = 0;
    op.started = false;
    op_queue& ops = s->ops;
    if (detail::reads(op.kind) && ops.first(true) == nullptr) {
        // A connection the listener's multishot accept already took, or data the multishot recv
        // already read: no need to wait.
        if (multishot(op) && accept_now(*s, op)) return true;
        if (op.kind != io_kind::accept && take_kept(*s, op)) return true;
    }
    ops.push(&op);
    // One op per direction in the kernel at a time, FIFO like the readiness engine: two sends
    // on one stream must not interleave their bytes.
    if (ops.first(detail::reads(op.kind)) == &op) queue_step(op);
    return false;
}

void uring_engine::cancel(io_op& op) noexcept {
    slot* s = find(op.token);
    if (s == nullptr) return;  // detached: its cancel is already on the way
    op_queue& ops = s->ops;
    if (!ops.contains(&op)) return;  // completed already (a deadline firing late)
    const bool first = ops.first(detail::reads(op.kind)) == &op;
    if (first && remove_waiting(waiting_steps_, op)) {
        // Its SQE never left: done at once. (If it was to arm the descriptor's multishot SQE,
        // that is gone with it.)
        if (multishot(op)) s->ms->accept_armed = false;
        if (rides_recv(op)) s->recv_armed = false;
        finish(op, -ECANCELED);
        return;
    }
    if (!first || waits_on_slot(*s, op)) {
        // Queued behind another op, or waiting for a CQE of the descriptor's multishot SQE: not
        // in the kernel, done at once. A multishot recv keeps reading (what it reads is kept for
        // the next read, up to lent_readahead); a listener with no accept left stops accepting.
        finish(op, -ECANCELED);
        if (first && multishot(op)) accept_abandoned(*s, op.token);
        return;
    }
    if (op.res == -ECANCELED) return;  // asked before
    op.res = -ECANCELED;
    queue_cancel(op);
}

bool uring_engine::waits_on_slot(const slot& s, const io_op& op) const noexcept {
    if (multishot(op) || rides_recv(op)) return true;
    // A plain read behind a multishot recv waits for it to end before its own SQE.
    return !op.started && op.kind != io_kind::accept && detail::reads(op.kind) && s.recv_armed;
}

uring_engine::multishot_state* uring_engine::ensure_ms(slot& s) noexcept {
    if (s.ms == nullptr) s.ms.reset(new (std::nothrow) multishot_state);
    return s.ms.get();
}

void uring_engine::poll(int64_t timeout_ns) {
    if (!enabled_) enable();
    drain_backlog();
    if (!wake_armed_) wake_armed_ = queue_wake_read();
    // Something still lacks an SQE (or the wake-up is not armed): reap and come back at once.
    if (!waiting_steps_.empty() || !waiting_cancels_.empty() || !wake_armed_) timeout_ns = 0;
    io_uring* ring = ring_.get();
    unsigned asked = 0;  // completions a blocking wait asked for; 0: it did not block
    int r;
    if (timeout_ns == 0) {
        r = io_uring_submit_and_get_events(ring);  // also runs DEFER_TASKRUN completion work
    } else {
        asked = features_.batch_wait ? batch_size(timeout_ns) : 1;
        r = wait(ring, asked, timeout_ns);
    }
    // ETIME: the timeout; EINTR: a signal. EAGAIN/EBUSY: the kernel wants completions reaped
    // before it takes more submissions (old kernels with a CQ overflow backlog); the SQEs stay
    // queued and the next poll submits them.
    submitted();
    detached_busy_ = false;  // the enter got events: cancelled SQEs let go of their files
    if (r < 0 && r != -ETIME && r != -EINTR && r != -EAGAIN && r != -EBUSY)
        throw std::system_error(-r, std::system_category(), "io_uring_enter");
    const unsigned got = reap();
    if (asked > 1) {
        ++stats_.batched_waits;
        if (got < asked) ++stats_.batches_short;
    }
    if (asked != 0) batch_.waited(asked, got);
}

unsigned uring_engine::batch_size(int64_t timeout_ns) noexcept {
    // The executor's clock of this loop turn (it reads one per turn for its timers); a poll from
    // outside a loop (the raw tests) reads the clock itself.
    const executor* ex = executor::current();
    const clock::time_point now = ex != nullptr ? ex->now() : clock::now();
    batch_.tick(
        std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count());
    // A timer due within the bound is not held back for a batch.
    if (timeout_ns > 0 && timeout_ns < int64_t{batch_wait_us_} * 1000) return 1;
    return batch_.target();
}

int uring_engine::wait(io_uring* ring, unsigned want, int64_t timeout_ns) noexcept {
    __kernel_timespec ts{};
    if (timeout_ns > 0) {
        ts.tv_sec = timeout_ns / 1'000'000'000;
        ts.tv_nsec = timeout_ns % 1'000'000'000;
    }
    if (want <= 1) {
        if (timeout_ns < 0) return io_uring_submit_and_wait(ring, 1);
        io_uring_cqe* cqe = nullptr;
        return io_uring_submit_and_wait_timeout(ring, &cqe, 1, &ts, nullptr);
    }
    // liburing 2.3 has no io_uring_submit_and_wait_min_timeout: publish the SQ tail as its
    // submit does, then one io_uring_enter that submits and waits for `want` CQEs, of which the
    // kernel holds the first back for at most batch_wait_us_ (min_wait_usec, in the field 2.3
    // calls pad). `ts`, when there is one, still bounds the whole wait.
    io_uring_sq& sq = ring->sq;
    const unsigned tail = sq.sqe_tail;
    if (sq.sqe_head != tail) {
        sq.sqe_head = tail;
        io_uring_smp_store_release(sq.ktail, tail);
    }
    const unsigned to_submit = tail - io_uring_smp_load_acquire(sq.khead);
    io_uring_getevents_arg arg{};
    arg.sigmask_sz = _NSIG / 8;
    arg.pad = batch_wait_us_;
    if (timeout_ns > 0) arg.ts = reinterpret_cast<uint64_t>(&ts);
    unsigned flags = IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG;
    int fd = ring->ring_fd;
    if (ring_fd_registered_) {
        flags |= IORING_ENTER_REGISTERED_RING;
        fd = ring->enter_ring_fd;
    }
    return io_uring_enter2(static_cast<unsigned>(fd), to_submit, want, flags,
                           reinterpret_cast<sigset_t*>(&arg), sizeof arg);
}

}  // namespace opensocket
