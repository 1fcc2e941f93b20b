#pragma once
/// \file poller.hpp
/// The readiness poller interface (epoll, kqueue, select), in mio's vocabulary: register a
/// descriptor with a 64-bit token, wait for a batch of events, wake from another thread.

#include <opensocket/result.hpp>
#include <opensocket/socket_handle.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace opensocket {

/// Interest bits.
enum interest : uint8_t { interest_none = 0, interest_read = 1, interest_write = 2 };

/// One readiness event. `error` covers socket errors (retry both directions); `read_closed`
/// says the peer's FIN (or a hang-up) arrived, so reads will never block again.
struct poll_event {
    uint64_t token = 0;
    bool readable = false;
    bool writable = false;
    bool error = false;
    bool read_closed = false;
};

/// A readiness mechanism. Every member except `wake()` is single-threaded (the owner's thread).
class poller {
public:
    virtual ~poller() = default;
    virtual std::string_view name() const noexcept = 0;

    /// True if readiness is reported once per change (epoll EPOLLET, kqueue EV_CLEAR). Then a
    /// descriptor is registered once for both directions and `update` is never needed.
    virtual bool edge_triggered() const noexcept = 0;

    /// Registers `fd` under `token` with the given interest.
    virtual result<void> add(native_handle fd, uint64_t token, uint8_t interest) noexcept = 0;
    /// Changes the interest (level-triggered pollers only).
    virtual result<void> update(native_handle fd, uint64_t token, uint8_t interest) noexcept = 0;
    /// Unregisters `fd`; call before closing it.
    virtual void remove(native_handle fd) noexcept = 0;

    /// True if closing a descriptor unregisters it, so `remove` may be skipped right before a
    /// close (epoll: the last close of a file removes it from every epoll set; events already
    /// fetched carry a stale token and are dropped). False by default: select keeps a table of
    /// its own, and kqueue deletes before close by design.
    virtual bool close_unregisters() const noexcept { return false; }

    /// Waits up to `timeout_ns` (-1 forever) and fills `out`; returns the number of events.
    /// A wake-up is consumed internally and yields no event. EINTR returns 0 events.
    virtual result<std::size_t> wait(std::span<poll_event> out, int64_t timeout_ns) noexcept = 0;

    /// Any thread: interrupts a `wait`.
    virtual void wake() noexcept = 0;
};

}  // namespace opensocket
