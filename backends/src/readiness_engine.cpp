#include "io_syscalls.hpp"
#include "lent_pool.hpp"

#include <opensocket/backends/readiness_engine.hpp>
#include <opensocket/error.hpp>

#include <cerrno>

namespace opensocket {

readiness_engine::readiness_engine(std::unique_ptr<poller> p)
    : poller_(std::move(p)), events_(256) {}

readiness_engine::~readiness_engine() = default;

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
    auto token = slots_.acquire();
    if (!token) return token;
    uint8_t initial = poller_->edge_triggered() ? (interest_read | interest_write) : interest_none;
    if (auto r = poller_->add(fd, token->pack(), initial); !r) {
        slots_.unacquire(*token);
        return fail(r.error());
    }
    slot& s = *slots_.find(*token);
    s.fd = fd;
    s.readable = s.writable = true;
    s.read_closed = false;
    return token;
}

void readiness_engine::release(io_token token, bool closing) noexcept {
    slot* s = slots_.find(token);
    if (s == nullptr) return;
    if (!closing || !poller_->close_unregisters()) poller_->remove(s->fd);
    slots_.retire(*s);  // any event already fetched for the old token is now stale
    s->fd = invalid_native_handle;
    for (op_list* list : {&s->readers, &s->writers}) {
        while (!list->empty()) {
            io_op* op = list->pop();
            op->res = -ECANCELED;
            op->complete();
        }
    }
    slots_.recycle(token.index);
}

bool readiness_engine::start(io_op& op) noexcept {
    slot* s = slots_.find(op.token);
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
    slot* s = slots_.find(op.token);
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
        slot* s = slots_.find(t);
        if (s == nullptr) continue;  // stale: the descriptor was detached after the event
        if (ev.read_closed) s->read_closed = true;
        if (ev.readable || ev.error) drive(*s, true);
        if (ev.writable || ev.error) drive(*s, false);
        if (!poller_->edge_triggered()) update_interest(*s, t);
    }
}

}  // namespace opensocket
