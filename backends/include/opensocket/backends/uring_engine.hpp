#pragma once
/// \file uring_engine.hpp
/// The io_uring engine: every operation is an SQE, every completion a CQE; nothing waits for
/// readiness in user space. Built only when liburing is found (OPENSOCKET_HAVE_URING). One ring
/// per engine, so one per executor. See docs/backends.md for the design.

#include <opensocket/detail/op_list.hpp>
#include <opensocket/detail/slot_table.hpp>
#include <opensocket/detail/wait_batch.hpp>
#include <opensocket/engine.hpp>
#include <opensocket/result.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

struct io_uring;
struct io_uring_sqe;

namespace opensocket {

namespace detail {
class lent_pool;
}

/// Construction parameters of a `uring_engine`.
struct uring_options {
    /// Submission queue entries (the kernel rounds up to a power of two and clamps). Any size
    /// works for any number of concurrent operations: a full SQ is submitted and refilled.
    unsigned entries = 256;
    /// Completion queue entries; 0 = 16 x `entries`. A full CQ spills into the kernel's overflow
    /// list (IORING_FEAT_NODROP), which is flushed as it is reaped: nothing is lost.
    unsigned cq_entries = 0;
    /// Testing: recv and send SQEs carry MSG_DONTWAIT, so the kernel answers EAGAIN instead of
    /// waiting internally, and such an operation goes through the engine's readiness fallback
    /// (POLL_ADD, then the operation again). Kernels before 5.7 (no IORING_FEAT_FAST_POLL) take
    /// that path for every socket operation that cannot finish at once.
    bool force_readiness_fallback = false;
    /// Multishot accept where the kernel has it (5.19+, probed at run time): a listener keeps one
    /// accept SQE in the kernel while accepts are wanted, instead of one SQE per accept.
    bool multishot_accept = true;
    /// Connections a listener's multishot accept may take from the kernel before an accept
    /// operation asks for them; reaching it cancels the multishot (the kernel's listen backlog
    /// holds the rest). Those still queued when the listener is detached are closed.
    unsigned accept_queue = 32;
    /// recv_lent as a multishot recv into a provided-buffer ring where the kernel has both (6.0+,
    /// probed). Otherwise, or while the ring is dry, recv_lent waits for POLLIN and then reads
    /// into a heap buffer: never a buffer pinned by a waiting operation either way.
    bool multishot_recv = true;
    /// Buffers in the provided-buffer ring (rounded up to a power of two, at most 32768), and
    /// their size: one multishot recv CQE carries at most one buffer.
    unsigned lent_buffers = 256;
    unsigned lent_buffer_size = 8192;
    /// Ring buffers one descriptor may fill before a recv_lent asks for them; reaching it stops
    /// that descriptor's multishot recv (TCP flow control holds the rest in the kernel).
    unsigned lent_readahead = 4;
    /// Close sockets with an IORING_OP_CLOSE SQE queued behind the socket's own SQEs (5.6+,
    /// probed): no close(2) and no early submit per connection. Off: detach submits what names
    /// the descriptor, then the caller's close(2).
    bool ring_close = true;
    /// Batched waits (IORING_FEAT_MIN_TIMEOUT, 6.12+, probed): while many descriptors are busy, a
    /// loop turn with nothing to run asks the kernel for several completions at once (a quarter
    /// of the descriptors that read something again in the last `batch_window_us`, at most
    /// `batch_max`), so the thread sleeps and wakes once per batch instead of once per
    /// completion. The kernel holds completions back for at most `batch_wait_us` (then the wait
    /// returns with what has come); a batch that falls short makes the next ones smaller. With
    /// one or a few busy descriptors nothing is ever held back. 0 (or `batch_max` < 2): every
    /// wait returns at the first completion. See docs/backends.md "Batched waits".
    unsigned batch_wait_us = 100;
    unsigned batch_max = 32;
    unsigned batch_window_us = 1000;
};

/// The optional io_uring features a ring uses (probed when it is created).
struct uring_features {
    bool multishot_accept = false;  ///< IORING_ACCEPT_MULTISHOT (5.19)
    bool multishot_recv = false;    ///< IORING_RECV_MULTISHOT into a provided-buffer ring (6.0)
    bool ring_close = false;        ///< sockets closed by IORING_OP_CLOSE (5.6)
    bool skip_success = false;      ///< IOSQE_CQE_SKIP_SUCCESS on cancels and closes (5.17)
    bool batch_wait = false;  ///< waits with a min_wait_usec bound (IORING_FEAT_MIN_TIMEOUT, 6.12)
};

/// What the probe found: io_uring works here (`available`), or why not.
struct uring_support {
    bool available = false;
    std::error_code error;  ///< ENOSYS, EPERM, ENOMEM, EINVAL, ... when not available
    std::string reason;     ///< one line for a log: which call failed and the likely cause
};

/// Probes io_uring with a real submit: a tiny ring, the opcodes the engine needs, one NOP through
/// `io_uring_enter`. Seccomp filters (Docker's default profile returns EPERM),
/// `kernel.io_uring_disabled` and old kernels (ENOSYS) all show here. Not cached: a filter
/// installed later is seen. Thread-safe; costs one ring setup and teardown.
uring_support probe_uring() noexcept;

/// The io_uring engine. All members except `wake()` belong to one thread: the executor thread
/// that first submits (IORING_SETUP_SINGLE_ISSUER where the kernel has it). It may be created on
/// another thread; the ring stays disabled until its first use.
///
/// Operations do not complete inline (`start` returns false unless the token is stale, or an
/// accept finds a connection its listener's multishot accept already took): the SQE is queued and
/// submitted with the others of the loop turn by the next `poll`. An operation
/// completes when its CQE arrives, never earlier, so the kernel never writes into a frame that
/// was resumed. `cancel` and `detach` submit IORING_OP_ASYNC_CANCEL; the operation then completes
/// with its own CQE (ECANCELED, or its real result if that came first), exactly once.
class uring_engine final : public engine {
public:
    /// Probes io_uring (see `probe_uring`) and sets up a ring with the best flags the kernel
    /// accepts: SINGLE_ISSUER | DEFER_TASKRUN, else COOP_TASKRUN, else none. Errors: the probe's
    /// error (and `*why` = its reason), or the ring setup's.
    static result<std::unique_ptr<uring_engine>> create(const uring_options& opts = {},
                                                        std::string* why = nullptr) noexcept;
    ~uring_engine() override;
    uring_engine(const uring_engine&) = delete;
    uring_engine& operator=(const uring_engine&) = delete;

    std::string_view name() const noexcept override { return "uring"; }
    result<io_token> attach(native_handle fd) noexcept override;
    void detach(io_token token) noexcept override;
    /// Detaches and queues an IORING_OP_CLOSE for `fd` with the loop turn's other SQEs (where
    /// the kernel has it): true, and the caller forgets the descriptor without closing it.
    bool detach_and_close(io_token token, native_handle fd) noexcept override;
    /// Submits the queued closes now.
    void flush() noexcept override;
    bool start(io_op& op) noexcept override;
    void cancel(io_op& op) noexcept override;
    void poll(int64_t timeout_ns) override;
    void wake() noexcept override;
    /// Gives a recv_lent buffer back: to the provided-buffer ring, or to the heap pool.
    void release(std::byte* buf, std::size_t id) noexcept override;

    /// Counters for tests and diagnostics (engine thread).
    struct statistics {
        unsigned setup_flags = 0;        ///< the IORING_SETUP_* flags the ring was created with
        uint64_t sq_full_submits = 0;    ///< submits forced by a full SQ inside a loop turn
        uint64_t backlogged = 0;         ///< SQEs deferred because even a submit freed no entry
        uint64_t overflow_flushes = 0;   ///< reaps that found the CQ overflow flag set
        uint64_t readiness_retries = 0;  ///< EAGAIN/EINPROGRESS answers turned into a poll
        uint64_t cancels = 0;            ///< IORING_OP_ASYNC_CANCEL requests queued
        uint64_t accept_arms = 0;        ///< multishot accept SQEs queued
        uint64_t accepts_queued = 0;     ///< connections accepted before an accept op asked
        uint64_t recv_arms = 0;          ///< multishot recv SQEs queued
        uint64_t reads_kept = 0;         ///< multishot recv CQEs that found no recv_lent waiting
        uint64_t ring_dry = 0;           ///< multishot recvs ended by -ENOBUFS (no free buffer)
        uint64_t lent_fallbacks = 0;     ///< recv_lent done by a plain recv into a heap buffer
        uint64_t ring_buffers_out = 0;   ///< ring buffers holding data now (kept or lent)
        uint64_t ring_closes = 0;        ///< descriptors closed by an IORING_OP_CLOSE SQE
        uint64_t batched_waits = 0;      ///< blocking waits that asked for more than one CQE
        uint64_t batches_short = 0;      ///< ... and returned with fewer (the time bound ran out)
    };
    const statistics& stats() const noexcept { return stats_; }
    /// The optional features in use (engine thread).
    const uring_features& features() const noexcept { return features_; }

private:
    // The pending ops of one descriptor in start order, linked through io_op::next. Per
    // direction, only the first is in the kernel (or waiting for an SQE); the rest queue behind.
    struct op_queue : detail::op_list {
        // Defined in backends/src/uring_detail.hpp: every completion asks, so it is inline.
        inline io_op* first(bool read_side) const noexcept;
    };
    // What a multishot recv delivered while no read waited: `res` bytes (from `offset`) in
    // ring buffer `bid`, or 0 (EOF) / -errno with no buffer. A node of the engine's kept pool;
    // `next` links a descriptor's kept reads in order (1-based pool index, 0 = none).
    struct kept_read {
        int32_t res;
        uint32_t offset;
        uint32_t next;
        uint16_t bid;
    };
    // A descriptor's kept reads: a FIFO through the pool (no allocation per descriptor).
    struct kept_list {
        uint32_t head = 0;  // 1-based pool index, 0 = empty
        uint32_t tail = 0;
        uint32_t count = 0;
        bool empty() const noexcept { return head == 0; }
    };
    // A listener's multishot accept (made on first use: most slots never need one): queued or
    // in the kernel (`accept_armed`), maybe asked to stop, and the connections it took with no
    // accept waiting, in order.
    struct multishot_state {
        bool accept_armed = false;
        bool accept_stopping = false;
        std::vector<int> accepted;
    };
    struct slot {
        uint32_t generation = 1;
        bool in_use = false;
        bool recv_armed = false;     // the multishot recv is queued or in the kernel
        bool recv_stopping = false;  // ... and its cancel was asked
        bool read_before = false;    // it has read something (see busy())
        uint32_t next_free = 0;      // 1-based, 0 = none
        uint32_t busy_window = 0;    // the wait_batch window in which it last read something
        kept_list kept;              // what the multishot recv read ahead of the reads
        op_queue ops;
        std::unique_ptr<multishot_state> ms;
    };
    struct buffer_ring;
    struct buffer_ring_deleter {
        void operator()(buffer_ring* b) const noexcept;
    };
    using buffer_ring_ptr = std::unique_ptr<buffer_ring, buffer_ring_deleter>;
    struct ring_deleter {
        void operator()(io_uring* r) const noexcept;
    };

    uring_engine(std::unique_ptr<io_uring, ring_deleter> ring, int wake_fd,
                 const uring_options& opts, unsigned flags, uring_features features,
                 buffer_ring_ptr buffers) noexcept;
    static buffer_ring_ptr make_buffer_ring(io_uring& ring, const uring_options& opts) noexcept;

    slot* find(io_token t) noexcept { return slots_.find(t); }
    bool detach_slot(io_token token) noexcept;  // detach without the submit; true: SQEs queued
    void submitted() noexcept;                  // after a submit: the queued closes are out
    slot* find_tagged(uint64_t user_data) noexcept;
    void enable() noexcept;
    // SQE plumbing (uring_submit.cpp)
    io_uring_sqe* get_sqe() noexcept;
    bool submit_pending() noexcept;
    void queue_step(io_op& op) noexcept;
    void queue_cancel(io_op& op) noexcept;
    void queue_cancel_tag(uint64_t user_data) noexcept;
    void prep_cancel(io_uring_sqe* sqe, uint64_t user_data) noexcept;
    bool queue_wake_read() noexcept;
    void drain_backlog() noexcept;
    void prep_step(io_uring_sqe* sqe, io_op& op) noexcept;
    // Completion side (uring_complete.cpp)
    unsigned reap() noexcept;                          // the number of CQEs
    unsigned batch_size(int64_t timeout_ns) noexcept;  // completions the next wait asks for
    int wait(io_uring* ring, unsigned want, int64_t timeout_ns) noexcept;  // submit and block
    // A descriptor read something. It counts for batched waits from its second read on: a
    // connection that serves one request (Connection: close) would only make waits longer.
    void busy(slot& s) noexcept {
        if (!s.read_before) {
            s.read_before = true;
            return;
        }
        if (s.busy_window != batch_.window()) {
            s.busy_window = batch_.window();
            batch_.busy();
        }
    }
    void dispatch(uint64_t user_data, int32_t res, uint32_t flags) noexcept;
    void on_poll_done(io_op& op, int32_t res) noexcept;
    void on_io_done(io_op& op, int32_t res) noexcept;
    void finish(io_op& op, int64_t res) noexcept;
    void unlink(io_op& op) noexcept;
    bool remove_waiting(std::vector<io_op*>& list, io_op& op) noexcept;
    void remove_waiting_cancel(io_op& op) noexcept;
    bool waits_on_slot(const slot& s, const io_op& op) const noexcept;
    multishot_state* ensure_ms(slot& s) noexcept;
    // Multishot accept (uring_accept.cpp)
    bool multishot(const io_op& op) const noexcept;
    bool accept_now(slot& s, io_op& op) noexcept;
    bool want_accept(io_op& op) noexcept;
    void prep_multishot_accept(io_uring_sqe* sqe, io_op& op) noexcept;
    void on_accept_done(uint64_t user_data, int32_t res, uint32_t flags) noexcept;
    void keep_accepted(slot& s, io_token t, int fd) noexcept;
    void stop_accepting(slot& s, io_token t, bool submitted) noexcept;
    void accept_abandoned(slot& s, io_token t) noexcept;
    // recv_lent: multishot recv into the provided-buffer ring (uring_lent.cpp)
    /// Whether `op` is served by the descriptor's multishot recv: a recv_lent, or a plain read
    /// of a stream with read-ahead on.
    bool rides_recv(const io_op& op) const noexcept {
        if (op.started || !features_.multishot_recv) return false;
        switch (op.kind) {
            case io_kind::recv_lent: return true;
            case io_kind::recv:
            case io_kind::recv_exact:
            case io_kind::wait_readable: return op.ahead;
            default: return false;
        }
    }
    bool take_kept(slot& s, io_op& op) noexcept;
    bool want_read(io_op& op) noexcept;
    void prep_multishot_recv(io_uring_sqe* sqe, io_op& op) noexcept;
    void on_recv_done(uint64_t user_data, int32_t res, uint32_t flags) noexcept;
    void serve_reader(slot& s, bool dry) noexcept;
    void stop_recv(slot& s, io_token t) noexcept;
    void drop_reads(slot& s, io_token t, bool submitted) noexcept;
    void lent_after_poll(io_op& op) noexcept;
    void give_back(uint16_t bid) noexcept;
    kept_read* kept_front(slot& s) noexcept {
        return s.kept.head != 0 ? &kept_pool_[s.kept.head - 1] : nullptr;
    }
    void kept_pop(slot& s) noexcept;
    unsigned buffer_count() const noexcept;  // of the provided-buffer ring (0 without one)
    void kept_push(slot& s, int32_t res, uint16_t bid) noexcept;

    std::unique_ptr<io_uring, ring_deleter> ring_;
    int wake_fd_ = -1;
    uint64_t wake_buf_ = 0;  // the eventfd read's target; the ring owns it while armed
    bool wake_armed_ = false;
    bool enabled_ = false;
    bool dontwait_ = false;
    detail::slot_table<slot> slots_;
    std::vector<io_op*> waiting_steps_;      // ops whose next SQE found the SQ full
    std::vector<uint64_t> waiting_cancels_;  // user_data of cancels that found the SQ full
    std::vector<int> queued_closes_;         // descriptors whose close SQE is not submitted yet
    // Every descriptor's kept reads, with a free list (1-based, 0 = none). Its capacity covers
    // ring buffers + attached descriptors (attach reserves it): a kept read holding data holds
    // a ring buffer, and a descriptor keeps at most one EOF or error (its multishot recv ends
    // with it and re-arms only once nothing is kept). So pushing never allocates.
    std::vector<kept_read> kept_pool_;
    uint32_t kept_free_ = 0;
    bool detached_busy_ = false;  // a descriptor was detached with SQEs in flight since the
                                  // last poll (for flush)
    unsigned accept_queue_ = 32;
    unsigned lent_readahead_ = 4;
    unsigned batch_wait_us_ = 0;
    bool ring_fd_registered_ = false;
    detail::wait_batch batch_;
    uring_features features_;
    statistics stats_;
    buffer_ring_ptr buffers_;                  // the provided-buffer ring; null without one
    std::unique_ptr<detail::lent_pool> heap_;  // recv_lent's heap buffers, made on first use
};

}  // namespace opensocket
