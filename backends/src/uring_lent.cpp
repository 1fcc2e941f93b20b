// recv_lent on io_uring: a multishot recv (IORING_RECV_MULTISHOT, 6.0) per descriptor, reading
// into buffers the kernel picks from a provided-buffer ring (IORING_REGISTER_PBUF_RING, 5.19).
// The recv SQE belongs to the descriptor's slot, like a listener's multishot accept: a recv_lent
// waits for its next CQE and is lent the buffer that CQE names; data that finds no recv_lent
// waiting is kept (in order, up to `lent_readahead` buffers) for the next read. Buffers go back
// to the ring when the application releases them. While nothing waits and nothing arrives, the
// descriptor holds no buffer at all.
//
// The ring can run dry (every buffer kept or lent): the multishot recv then ends with -ENOBUFS,
// having read nothing. A waiting recv_lent falls back to POLLIN and one plain recv into a heap
// buffer (lent_pool.hpp); the next recv_lent arms the multishot again. No data is dropped and no
// read waits for another connection to give a buffer back.
//
// Plain reads (recv, recv_exact, wait_readable) on the same descriptor keep their order: they
// take kept data first, and while a multishot recv is armed they stop it and wait for its last
// CQE before they submit their own SQE. On a stream with read-ahead (`io_op::ahead`) they ride
// the multishot recv like a recv_lent instead: armed by the first read, it stays armed, and each
// read copies out of the kept buffers (wait_readable just sees that something is kept). When
// the ring runs dry, such a read does one plain recv SQE into its own buffer.

#include "io_syscalls.hpp"
#include "lent_pool.hpp"
#include "uring_detail.hpp"

#include <opensocket/backends/uring_engine.hpp>

#include <liburing.h>
#include <sys/mman.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>

namespace opensocket {

/// The provided-buffer ring: `count` buffers of `size` bytes in one mapping, and the ring of
/// their descriptors the kernel takes them from (mapped by hand: liburing 2.3 has no
/// io_uring_setup_buf_ring).
struct uring_engine::buffer_ring {
    static constexpr uint16_t group = 0;  // the buffer group id (bgid) of recv SQEs
    io_uring_buf_ring* ring = nullptr;
    std::size_t ring_bytes = 0;
    std::byte* data = nullptr;
    std::size_t data_bytes = 0;
    unsigned count = 0;
    unsigned size = 0;

    std::byte* address(uint16_t bid) const noexcept {
        return data + static_cast<std::size_t>(bid) * size;
    }
    /// Hands buffer `bid` to the kernel again (one ring entry, published with a release store).
    void recycle(uint16_t bid) noexcept {
        io_uring_buf_ring_add(ring, address(bid), size, bid, io_uring_buf_ring_mask(count), 0);
        io_uring_buf_ring_advance(ring, 1);
    }
};

void uring_engine::buffer_ring_deleter::operator()(buffer_ring* b) const noexcept {
    if (b->ring != nullptr) ::munmap(b->ring, b->ring_bytes);
    if (b->data != nullptr) ::munmap(b->data, b->data_bytes);
    delete b;
}

uring_engine::buffer_ring_ptr uring_engine::make_buffer_ring(io_uring& ring,
                                                             const uring_options& opts) noexcept {
    buffer_ring_ptr b(new (std::nothrow) buffer_ring);
    if (b == nullptr) return nullptr;
    unsigned count = 1;
    while (count < std::min(std::max(opts.lent_buffers, 1u), 32768u)) count *= 2;
    b->count = count;
    b->size = std::max(opts.lent_buffer_size, 1u);
    b->ring_bytes = count * sizeof(io_uring_buf);
    b->data_bytes = static_cast<std::size_t>(count) * b->size;
    void* r =
        ::mmap(nullptr, b->ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (r == MAP_FAILED) return nullptr;
    b->ring = static_cast<io_uring_buf_ring*>(r);
    void* d =
        ::mmap(nullptr, b->data_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (d == MAP_FAILED) return nullptr;
    b->data = static_cast<std::byte*>(d);
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<uintptr_t>(b->ring);
    reg.ring_entries = count;
    reg.bgid = buffer_ring::group;
    // EINVAL before 5.19 (no IORING_REGISTER_PBUF_RING): recv_lent then reads into heap buffers.
    if (io_uring_register_buf_ring(&ring, &reg, 0) != 0) return nullptr;
    io_uring_buf_ring_init(b->ring);
    const int mask = io_uring_buf_ring_mask(count);
    for (unsigned i = 0; i < count; ++i)
        io_uring_buf_ring_add(b->ring, b->address(static_cast<uint16_t>(i)), b->size,
                              static_cast<uint16_t>(i), mask, static_cast<int>(i));
    io_uring_buf_ring_advance(b->ring, static_cast<int>(count));
    return b;
}

void uring_engine::give_back(uint16_t bid) noexcept {
    --stats_.ring_buffers_out;
    buffers_->recycle(bid);
}

void uring_engine::release(std::byte* buf, std::size_t id) noexcept {
    if (id == detail::lent_pool::heap_id) {
        if (heap_ != nullptr) heap_->give(buf);
    } else if (buffers_ != nullptr && id < buffers_->count) {
        give_back(static_cast<uint16_t>(id));
    }
}

unsigned uring_engine::buffer_count() const noexcept {
    return buffers_ != nullptr ? buffers_->count : 0;
}

void uring_engine::kept_pop(slot& s) noexcept {
    const uint32_t index = s.kept.head;
    kept_read& k = kept_pool_[index - 1];
    s.kept.head = k.next;
    if (s.kept.head == 0) s.kept.tail = 0;
    --s.kept.count;
    k.next = kept_free_;
    kept_free_ = index;
}

void uring_engine::kept_push(slot& s, int32_t res, uint16_t bid) noexcept {
    uint32_t index = kept_free_;
    if (index != 0) {
        kept_free_ = kept_pool_[index - 1].next;
    } else {
        kept_pool_.push_back({});  // within the capacity attach reserved: no allocation
        index = static_cast<uint32_t>(kept_pool_.size());
    }
    kept_pool_[index - 1] = {res, 0, 0, bid};
    if (s.kept.tail != 0)
        kept_pool_[s.kept.tail - 1].next = index;
    else
        s.kept.head = index;
    s.kept.tail = index;
    ++s.kept.count;
}

bool uring_engine::take_kept(slot& s, io_op& op) noexcept {
    if (s.kept.empty()) return false;
    switch (op.kind) {
        case io_kind::recv_lent: {
            const kept_read k = *kept_front(s);
            kept_pop(s);
            op.buf = k.res > 0 ? buffers_->address(k.bid) + k.offset : nullptr;
            op.done = k.res > 0 ? k.bid : 0;
            op.res = k.res > 0 ? static_cast<int64_t>(k.res - k.offset) : k.res;
            return true;
        }
        case io_kind::wait_readable: op.res = 0; return true;
        case io_kind::recv:
        case io_kind::recv_exact: break;
        default: return false;
    }
    // A plain read: copied out of the kept buffers, which go back to the ring once emptied.
    while (!s.kept.empty() && op.done < op.len) {
        kept_read& k = *kept_front(s);
        if (k.res <= 0) {
            if (op.done > 0 && op.kind == io_kind::recv) break;  // the bytes first, EOF next
            op.res = k.res < 0 ? k.res : static_cast<int64_t>(op.done);
            kept_pop(s);
            return true;
        }
        const std::size_t n =
            std::min(static_cast<std::size_t>(k.res) - k.offset, op.len - op.done);
        std::memcpy(op.buf + op.done, buffers_->address(k.bid) + k.offset, n);
        op.done += n;
        k.offset += static_cast<uint32_t>(n);
        if (k.offset == static_cast<uint32_t>(k.res)) {
            give_back(k.bid);
            kept_pop(s);
        }
    }
    if (op.kind == io_kind::recv ? op.done == 0 : op.done < op.len) return false;  // read on
    op.res = static_cast<int64_t>(op.done);
    return true;
}

bool uring_engine::want_read(io_op& op) noexcept {
    if (op.kind == io_kind::recv_lent && !features_.multishot_recv) {
        op.started = true;  // no buffer ring: POLLIN, then a plain recv into a heap buffer
        return false;
    }
    slot* s = find(op.token);
    if (s == nullptr) return false;
    const bool rides = rides_recv(op);
    if (!rides && s->recv_armed) {
        // A plain read must not race the multishot recv for the bytes: end it first; its last
        // CQE serves this op (serve_reader).
        if (!s->recv_stopping) stop_recv(*s, op.token);
        return true;
    }
    if (take_kept(*s, op)) {
        finish(op, op.res);
        return true;
    }
    if (!rides || s->recv_armed) return rides;
    s->recv_armed = true;
    s->recv_stopping = false;
    return false;  // the caller queues the SQE (prep_multishot_recv)
}

void uring_engine::prep_multishot_recv(io_uring_sqe* sqe, io_op& op) noexcept {
    ++stats_.recv_arms;
    io_uring_prep_recv_multishot(sqe, op.fd, nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = buffer_ring::group;
    io_uring_sqe_set_data64(sqe, detail::uring::slot_tag(op.token, detail::uring::slot_sqe::recv));
}

void uring_engine::on_recv_done(uint64_t user_data, int32_t res, uint32_t flags) noexcept {
    const bool has_buffer = (flags & IORING_CQE_F_BUFFER) != 0;
    const auto bid = static_cast<uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT);
    if (has_buffer) ++stats_.ring_buffers_out;
    slot* s = find_tagged(user_data);
    if (s == nullptr) {
        if (has_buffer) give_back(bid);  // the descriptor was detached: nobody reads this
        return;
    }
    if ((flags & IORING_CQE_F_MORE) == 0) s->recv_armed = s->recv_stopping = false;
    if (res > 0) busy(*s);
    const bool dry = res == -ENOBUFS;
    if (dry) {
        ++stats_.ring_dry;  // nothing was read: the bytes wait in the socket
    } else if (res != -ECANCELED || has_buffer) {
        // Data (with its buffer), EOF or an error: in order, for the next read.
        if (res > 0 && !has_buffer) res = -EIO;  // cannot happen with IOSQE_BUFFER_SELECT
        io_op* reader = s->ops.first(true);
        if (reader != nullptr && reader->kind == io_kind::recv_lent && !reader->started &&
            s->kept.empty()) {
            // The common case: a read waits and nothing is ahead of this CQE. Lent at once.
            reader->buf = res > 0 ? buffers_->address(bid) : nullptr;
            reader->done = res > 0 ? bid : 0;
            return finish(*reader, res);
        }
        kept_push(*s, res, has_buffer ? bid : uint16_t{0});
        if (reader == nullptr || !rides_recv(*reader)) ++stats_.reads_kept;  // nobody waits now
    }
    serve_reader(*s, dry);
    // Read far enough ahead of the application: TCP flow control holds the rest.
    if (s->kept.count >= lent_readahead_ && s->recv_armed && !s->recv_stopping)
        stop_recv(*s, io_token{detail::uring::tag_index(user_data), s->generation});
}

void uring_engine::serve_reader(slot& s, bool dry) noexcept {
    io_op* op = s.ops.first(true);
    if (op == nullptr || op->started) return;  // nobody waits, or its own SQE is in the kernel
    if (rides_recv(*op)) {
        if (!s.kept.empty() || !s.recv_armed) {
            // Ring dry: a recv_lent waits for POLLIN and then reads into a heap buffer; a plain
            // read does its own recv SQE into its own buffer.
            if (dry && s.kept.empty()) {
                if (op->kind == io_kind::recv_lent)
                    op->started = true;
                else
                    op->ahead = false;
            }
            queue_step(*op);  // serves it from what is kept, or arms the multishot recv again
        }
        return;
    }
    if (!s.recv_armed) queue_step(*op);  // a plain read waited for the multishot recv to end
}

void uring_engine::stop_recv(slot& s, io_token t) noexcept {
    s.recv_stopping = true;
    queue_cancel_tag(detail::uring::slot_tag(t, detail::uring::slot_sqe::recv));
}

void uring_engine::drop_reads(slot& s, io_token t, bool submitted) noexcept {
    if (s.recv_armed && submitted && !s.recv_stopping)
        queue_cancel_tag(detail::uring::slot_tag(t, detail::uring::slot_sqe::recv));
    s.recv_armed = s.recv_stopping = false;
    while (kept_read* k = kept_front(s)) {
        if (k->res > 0) give_back(k->bid);
        kept_pop(s);
    }
}

void uring_engine::lent_after_poll(io_op& op) noexcept {
    if (heap_ == nullptr) heap_.reset(new (std::nothrow) detail::lent_pool);
    if (heap_ == nullptr) return finish(op, -ENOMEM);
    bool short_io = false;
    if (detail::recv_lent(op, short_io, *heap_)) {
        if (op.res > 0) ++stats_.lent_fallbacks;
        return finish(op, op.res);
    }
    op.started = true;  // readable, yet nothing to read (another reader was first): wait again
    queue_step(op);
}

}  // namespace opensocket
