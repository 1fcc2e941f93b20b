// kqueue poller. Written for the real <sys/event.h> of FreeBSD and macOS/iOS; on Linux (no
// such header) it compiles against kqueue_abi.h and runs only against the test double in
// tests/kqueue. Keep this file free of Linux headers: scripts/check_kqueue_portable.sh checks.

#include <opensocket/backends/kqueue_poller.hpp>
#include <opensocket/error.hpp>

#if __has_include(<sys/event.h>)
#include <sys/event.h>
#include <sys/time.h>
#include <sys/types.h>
#else
#include "kqueue_abi.h"
#endif

#include <fcntl.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <ctime>

namespace opensocket {
namespace {

// The EVFILT_USER wake-up. Its ident lives in the EVFILT_USER namespace, so it cannot collide
// with descriptor 0's READ/WRITE registrations.
constexpr uintptr_t wake_ident = 0;

// `udata` is a void*: the token travels as a uintptr_t. That holds the whole 64-bit token on
// every LP64 target (macOS, iOS, FreeBSD amd64/arm64). On a 32-bit target (FreeBSD i386/armv7)
// the generation half would be lost and every event would look stale, so `add` refuses such
// tokens instead; a 32-bit port would carry the token in FreeBSD's ext[2] or an fd-indexed table.
bool fits_in_udata(uint64_t token) noexcept {
    return static_cast<uint64_t>(static_cast<uintptr_t>(token)) == token;
}
void* to_udata(uint64_t token) noexcept {
    return reinterpret_cast<void*>(static_cast<uintptr_t>(token));
}
uint64_t from_udata(void* udata) noexcept {
    return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(udata));
}

struct kevent change(native_handle fd, short filter, unsigned short flags, void* udata) noexcept {
    struct kevent ev {};
    EV_SET(&ev, static_cast<uintptr_t>(fd), filter, flags, 0, 0, udata);
    return ev;
}

/// The errno a receipt reports (0 = the change was applied). With EV_RECEIPT the kernel answers
/// every change with an entry flagged EV_ERROR whose `data` is 0 on success.
int receipt_errno(const struct kevent& r) noexcept {
    return (r.flags & EV_ERROR) != 0 ? static_cast<int>(r.data) : 0;
}

/// Deletes `fd`'s registrations for `filters`. EV_RECEIPT with room for every answer makes the
/// kernel apply all the changes: without it, kevent() stops at the first failure (ENOENT for a
/// filter that was never added, EBADF for a closed descriptor) and returns -1.
void delete_filters(int kq, native_handle fd, std::span<const short> filters) noexcept {
    struct kevent changes[2];
    struct kevent receipts[2];
    int n = 0;
    for (short f : filters.first(std::min<std::size_t>(filters.size(), 2)))
        changes[n++] = change(fd, f, EV_DELETE | EV_RECEIPT, nullptr);
    (void)::kevent(kq, changes, n, receipts, n, nullptr);  // nothing to undo if it failed
}

}  // namespace

kqueue_poller::kqueue_poller() : raw_(256) {
    kq_ = ::kqueue();
    if (kq_ < 0) throw std::system_error(errno_code(errno), "kqueue");
    // Like every descriptor OpenSocket opens: not leaked into exec'd programs.
    (void)::fcntl(kq_, F_SETFD, FD_CLOEXEC);
    struct kevent reg {};
    struct kevent receipt {};
    EV_SET(&reg, wake_ident, EVFILT_USER, EV_ADD | EV_CLEAR | EV_RECEIPT, 0, 0, nullptr);
    int n = ::kevent(kq_, &reg, 1, &receipt, 1, nullptr);
    int err = n < 0 ? errno : n == 0 ? EIO : receipt_errno(receipt);
    if (err != 0) {
        ::close(kq_);
        throw std::system_error(errno_code(err), "kevent(EVFILT_USER)");
    }
}

kqueue_poller::~kqueue_poller() { ::close(kq_); }

result<void> kqueue_poller::change_both(native_handle fd, uint64_t token,
                                        uint8_t interest) noexcept {
    if (!fits_in_udata(token)) return fail(std::errc::value_too_large);
    constexpr unsigned short base = EV_ADD | EV_CLEAR | EV_RECEIPT;
    auto state = [&](uint8_t bit) -> unsigned short {
        return base | ((interest & bit) != 0 ? EV_ENABLE : EV_DISABLE);
    };
    struct kevent changes[2] = {change(fd, EVFILT_READ, state(interest_read), to_udata(token)),
                                change(fd, EVFILT_WRITE, state(interest_write), to_udata(token))};
    struct kevent receipts[2] = {};
    // One call for both filters. With EV_RECEIPT and room for both answers the kernel applies
    // every change and reports each one; -1 means the call itself failed (EBADF kq, EFAULT).
    int n = ::kevent(kq_, changes, 2, receipts, 2, nullptr);
    if (n < 0) return fail(errno_code(errno));
    return check_receipts(fd, std::span(receipts, static_cast<std::size_t>(n)));
}

result<void> kqueue_poller::check_receipts(native_handle fd,
                                           std::span<const struct kevent> receipts) noexcept {
    bool applied[2] = {false, false};  // EVFILT_READ, EVFILT_WRITE
    int first_error = 0;
    for (const struct kevent& r : receipts) {
        if ((r.flags & EV_ERROR) == 0) continue;  // not a receipt
        if (r.filter != EVFILT_READ && r.filter != EVFILT_WRITE) continue;
        int err = receipt_errno(r);
        if (err == 0)
            applied[r.filter == EVFILT_READ ? 0 : 1] = true;
        else if (first_error == 0)
            first_error = err;
    }
    if (applied[0] && applied[1]) return {};
    // A partial registration would leave one direction silently unwatched: undo it.
    short undo[2];
    std::size_t n = 0;
    if (applied[0]) undo[n++] = EVFILT_READ;
    if (applied[1]) undo[n++] = EVFILT_WRITE;
    if (n > 0) delete_filters(kq_, fd, std::span(undo, n));
    return fail(first_error != 0 ? errno_code(first_error) : errno_code(EIO));
}

result<void> kqueue_poller::add(native_handle fd, uint64_t token, uint8_t interest) noexcept {
    return change_both(fd, token, interest);
}

result<void> kqueue_poller::update(native_handle fd, uint64_t token, uint8_t interest) noexcept {
    // EV_ADD on an existing registration modifies it in place (new udata, enabled or not).
    return change_both(fd, token, interest);
}

void kqueue_poller::remove(native_handle fd) noexcept {
    const short both[2] = {EVFILT_READ, EVFILT_WRITE};
    delete_filters(kq_, fd, both);
}

result<std::size_t> kqueue_poller::wait(std::span<poll_event> out, int64_t timeout_ns) noexcept {
    const int max = static_cast<int>(std::min(out.size(), raw_.size()));
    timespec ts{};
    const timespec* tsp = nullptr;  // null: wait forever
    if (timeout_ns >= 0) {
        ts.tv_sec = static_cast<time_t>(timeout_ns / 1'000'000'000);
        ts.tv_nsec = static_cast<long>(timeout_ns % 1'000'000'000);
        tsp = &ts;
    }
    int n = ::kevent(kq_, nullptr, 0, raw_.data(), max, tsp);
    if (n < 0) {
        if (errno == EINTR) return std::size_t{0};
        return fail(errno_code(errno));
    }
    std::size_t count = 0;
    for (const struct kevent& ev : std::span(raw_.data(), static_cast<std::size_t>(n))) {
        if (ev.filter == EVFILT_USER) continue;  // the wake-up; EV_CLEAR has already reset it
        poll_event pe{.token = from_udata(ev.udata)};
        const bool eof = (ev.flags & EV_EOF) != 0;
        if ((ev.flags & EV_ERROR) != 0) {
            pe.error = true;  // `data` holds the errno; the next syscall reports it
        } else if (ev.filter == EVFILT_READ) {
            // EV_EOF: the peer's FIN (or a reset); fflags holds the socket error, if any.
            pe.readable = true;
            pe.read_closed = eof;
            pe.error = eof && ev.fflags != 0;
        } else if (ev.filter == EVFILT_WRITE) {
            pe.writable = true;  // EV_EOF here: writes fail now (EPIPE), so let them try
            pe.error = eof && ev.fflags != 0;
        } else {
            continue;
        }
        // The two filters of one registration that fire together are queued next to each
        // other: merge them. Any other pair stays two events, which the engine handles too.
        if (count > 0 && out[count - 1].token == pe.token) {
            poll_event& prev = out[count - 1];
            prev.readable |= pe.readable;
            prev.writable |= pe.writable;
            prev.error |= pe.error;
            prev.read_closed |= pe.read_closed;
        } else {
            out[count++] = pe;
        }
    }
    return count;
}

void kqueue_poller::wake() noexcept {
    struct kevent trigger {};
    EV_SET(&trigger, wake_ident, EVFILT_USER, 0, NOTE_TRIGGER, 0, nullptr);
    (void)::kevent(kq_, &trigger, 1, nullptr, 0, nullptr);  // fails only if kq_ is gone
}

}  // namespace opensocket
