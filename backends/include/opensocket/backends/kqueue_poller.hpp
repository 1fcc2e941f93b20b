#pragma once
/// \file kqueue_poller.hpp
/// kqueue (macOS, iOS, FreeBSD), edge-triggered with EV_CLEAR: each descriptor gets an
/// EVFILT_READ and an EVFILT_WRITE registration once, both carrying the token in `udata`; the
/// wake-up is an EVFILT_USER event. Built for the real <sys/event.h>; on Linux it is compiled
/// against our own ABI header and tested against a kqueue()/kevent() double only (see
/// docs/backends.md, "kqueue").

#include <opensocket/poller.hpp>

#include <vector>

struct kevent;

namespace opensocket {

class kqueue_poller final : public poller {
public:
    /// Creates the kqueue and registers its EVFILT_USER wake-up; throws std::system_error if
    /// the kernel refuses either.
    kqueue_poller();
    ~kqueue_poller() override;
    kqueue_poller(const kqueue_poller&) = delete;
    kqueue_poller& operator=(const kqueue_poller&) = delete;

    std::string_view name() const noexcept override { return "kqueue"; }
    bool edge_triggered() const noexcept override { return true; }
    /// Registers both filters in one kevent() call, each enabled if `interest` asks for it.
    /// Every change is receipt-checked (EV_RECEIPT); if one filter fails, the other is deleted
    /// again and the first error is returned. Errors: the kevent errno (EBADF, ENOMEM, ...);
    /// `value_too_large` on a 32-bit target for a token that does not fit in `udata`.
    result<void> add(native_handle fd, uint64_t token, uint8_t interest) noexcept override;
    /// Enables/disables the two filters to match `interest` and stores the new token (EV_ADD on
    /// an existing registration modifies it). Errors and the partial-failure undo: as `add`.
    result<void> update(native_handle fd, uint64_t token, uint8_t interest) noexcept override;
    /// EV_DELETE for both filters. Call it before closing `fd`: a closed descriptor has already
    /// lost its registrations, and a reused number would delete the new owner's.
    void remove(native_handle fd) noexcept override;
    result<std::size_t> wait(std::span<poll_event> out, int64_t timeout_ns) noexcept override;
    /// Any thread: triggers the EVFILT_USER event (NOTE_TRIGGER).
    void wake() noexcept override;

private:
    result<void> change_both(native_handle fd, uint64_t token, uint8_t interest) noexcept;
    result<void> check_receipts(native_handle fd, std::span<const struct kevent> receipts) noexcept;

    int kq_ = -1;
    std::vector<struct kevent> raw_;
};

}  // namespace opensocket
