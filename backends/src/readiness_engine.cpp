#include "io_syscalls.hpp"
#include "lent_pool.hpp"

#include <opensocket/backends/readiness_engine.hpp>
#include <opensocket/error.hpp>

#include <cerrno>

namespace opensocket {

readiness_engine::readiness_engine(std::unique_ptr<poller> p)
    : poller_(std::move(p)), events_(256) {}

readiness_engine::~readiness_engine() = default;

readiness_engine::slot* readiness_engine::find(io_token t) noexcept {
    if (t.index >= slots_.size()) return nullptr;
    slot& s = slots_[t.index];
    return s.in_use && s.generation == t.generation ? &s : nullptr;
}

bool readiness_engine::perform(io_op& op, bool& short_io) noexcept {
    if (op.kind != io_kind::recv_lent) return detail::perform_io(op, short_io);
    if (lent_ == nullptr) {
        lent_.reset(new (std::nothrow) detail::lent_pool);
        if (lent_ == nullptr) {
            op.res = -ENOMEM;
            return true;
        }
    }
    return detail::recv_lent(op, short_io, *lent_);
}

void readiness_engine::release(std::byte* buf, std::size_t) noexcept {
    if (lent_ != nullptr) lent_->give(buf);
}

result<io_token> readiness_engine::attach(native_handle fd) noexcept {
    uint32_t index;
    if (free_head_ != 0) {
        index = free_head_ - 1;
        free_head_ = slots_[index].next_free;
    } else {
        try {
            slots_.emplace_back();
        } catch (const std::bad_alloc&) {
            return fail(std::errc::not_enough_memory);
        }
        index = static_cast<uint32_t>(slots_.size() - 1);
    }
    slot& s = slots_[index];
    io_token token{index, s.generation};
    uint8_t initial = poller_->edge_triggered() ? (interest_read | interest_write) : interest_none;
    if (auto r = poller_->add(fd, token.pack(), initial); !r) {
        s.next_free = free_head_;
        free_head_ = index + 1;
        return fail(r.error());
    }
    s.in_use = true;
    s.fd = fd;
    s.readable = s.writable = true;
    s.read_closed = false;
    return token;
}

void readiness_engine::release(io_token token, bool closing) noexcept {
    slot* s = find(token);
    if (s == nullptr) return;
    if (!closing || !poller_->close_unregisters()) poller_->remove(s->fd);
    ++s->generation;  // any event already fetched for the old token is now stale
    s->in_use = false;
    s->fd = invalid_native_handle;
    for (op_list* list : {&s->readers, &s->writers}) {
        while (!list->empty()) {
            io_op* op = list->pop();
            op->res = -ECANCELED;
            op->complete();
        }
    }
    s->next_free = free_head_;
    free_head_ = token.index + 1;
}

bool readiness_engine::start(io_op& op) noexcept {
    slot* s = find(op.token);
    if (s == nullptr) {
        op.res = -EBADF;
        return true;
    }
    const bool read_side = detail::reads(op.kind);
    op_list& list = read_side ? s->readers : s->writers;
    bool& ready = read_side ? s->readable : s->writable;
    if (list.empty() && (ready || op.kind == io_kind::connect)) {
        bool short_io = false;
        if (perform(op, short_io)) {
            if (short_io) ready = read_side && s->read_closed;
            return true;
        }
        ready = read_side && s->read_closed;
    }
    list.push(&op);
    if (!poller_->edge_triggered()) update_interest(*s, op.token);
    return false;
}

void readiness_engine::cancel(io_op& op) noexcept {
    slot* s = find(op.token);
    if (s == nullptr) return;  // detached: detach() already completed it
    op_list& list = detail::reads(op.kind) ? s->readers : s->writers;
    if (!list.remove(&op)) return;
    if (!poller_->edge_triggered()) update_interest(*s, op.token);
    op.res = -ECANCELED;
    op.complete();
}

void readiness_engine::drive(slot& s, bool read_side) noexcept {
    op_list& list = read_side ? s.readers : s.writers;
    bool& ready = read_side ? s.readable : s.writable;
    const bool sticky = read_side && s.read_closed;
    ready = true;
    while (!list.empty()) {
        if (list.front()->kind == io_kind::wait_readable) {
            // The event itself says a read will not block (an edge is new data, FIN or an
            // error): no syscall needed. The data stays queued, so the hint stays set.
            list.front()->res = 0;
            list.pop()->complete();
            continue;
        }
        bool short_io = false;
        if (!perform(*list.front(), short_io)) {
            ready = sticky;
            return;
        }
        if (short_io) ready = sticky;
        list.pop()->complete();
        if (!ready) return;
    }
}

void readiness_engine::update_interest(slot& s, io_token t) noexcept {
    uint8_t want =
        (s.readers.empty() ? 0 : interest_read) | (s.writers.empty() ? 0 : interest_write);
    (void)poller_->update(s.fd, t.pack(), want);
}

void readiness_engine::poll(int64_t timeout_ns) {
    auto n = poller_->wait(events_, timeout_ns);
    if (!n) throw std::system_error(n.error(), "poller wait");
    for (std::size_t i = 0; i < *n; ++i) {
        const poll_event& ev = events_[i];
        io_token t = io_token::unpack(ev.token);
        slot* s = find(t);
        if (s == nullptr) continue;  // stale: the descriptor was detached after the event
        if (ev.read_closed) s->read_closed = true;
        if (ev.readable || ev.error) drive(*s, true);
        if (ev.writable || ev.error) drive(*s, false);
        if (!poller_->edge_triggered()) update_interest(*s, t);
    }
}

}  // namespace opensocket
