#pragma once
/// \file select_poller.hpp
/// select(): the portable last resort (POSIX and Winsock), level-triggered. The readiness engine
/// keeps each descriptor's interest equal to the ops parked on it (`update`), and only
/// descriptors with some interest go into the fd_sets, so an idle socket costs nothing per wait
/// beyond its table entry. The wake-up is a self-pipe on POSIX and a connected loopback TCP pair
/// on Windows (Winsock's select takes sockets only).
///
/// Limits, by platform:
/// - POSIX: an fd_set is a bitmap of FD_SETSIZE bits (1024 on glibc); setting the bit of a
///   larger fd writes past it (glibc's _FORTIFY_SOURCE aborts; without it memory is corrupted).
///   `add` refuses an fd >= FD_SETSIZE with `error::descriptor_too_large` and never touches an
///   fd_set with it. Errors and hang-ups show as readable and writable (select(2)).
/// - Windows: an fd_set is a counted array of FD_SETSIZE sockets, sized by the build
///   (core/CMakeLists.txt defines FD_SETSIZE=4096 for every target, so all translation units
///   agree). `add` refuses a socket once `capacity()` sockets are registered. A refused
///   non-blocking connect shows in exceptfds and is reported as `error`; SO_OOBINLINE is set on
///   every registered socket, so that urgent data cannot make exceptfds fire forever.
/// Each wait costs O(registered descriptors).

#include <opensocket/poller.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <unordered_map>
#include <vector>

namespace opensocket {

class select_poller final : public poller {
public:
    /// Creates the wake-up channel; throws std::system_error if the system refuses (or, on
    /// POSIX, with `error::descriptor_too_large` if the pipe's own fds do not fit an fd_set).
    select_poller();
    ~select_poller() override;
    select_poller(const select_poller&) = delete;
    select_poller& operator=(const select_poller&) = delete;

    std::string_view name() const noexcept override { return "select"; }
    bool edge_triggered() const noexcept override { return false; }
    /// Errors: `error::descriptor_too_large` (see above), `errc::file_exists` if `fd` is already
    /// registered, `errc::bad_file_descriptor` for an invalid handle.
    result<void> add(native_handle fd, uint64_t token, uint8_t interest) noexcept override;
    /// Errors: `errc::no_such_file_or_directory` if `fd` is not registered.
    result<void> update(native_handle fd, uint64_t token, uint8_t interest) noexcept override;
    void remove(native_handle fd) noexcept override;
    /// Reports at most `out.size()` descriptors per call; when more are ready, the next call
    /// starts after the last one reported (level-triggered, so nothing is lost, and no
    /// descriptor starves). Timeouts round up to whole microseconds.
    result<std::size_t> wait(std::span<poll_event> out, int64_t timeout_ns) noexcept override;
    void wake() noexcept override;

    /// How many descriptors one poller can hold: FD_SETSIZE minus the wake-up's slot on Windows.
    /// On POSIX the limit is on the fd's value instead (fd < FD_SETSIZE).
    static std::size_t capacity() noexcept;

    /// Registered descriptors (for tests and diagnostics).
    std::size_t size() const noexcept { return entries_.size(); }

private:
    struct entry {
        native_handle fd;
        uint64_t token;
        uint8_t interest;
        uint8_t ready;  // scratch for one wait: readiness bits found for this entry
    };
    struct fd_sets;  // read/write/except sets: 32 KiB each on Windows, kept off the stack

    entry* find(native_handle fd) noexcept;
    std::size_t fill_sets() noexcept;                      // returns nfds (POSIX)
    bool collect_ready() noexcept;                         // returns true if woken
    std::size_t emit(std::span<poll_event> out) noexcept;  // ready entries, in ring order
    std::size_t report_closed(std::span<poll_event> out) noexcept;

    std::vector<entry> entries_;
    std::unordered_map<native_handle, std::size_t> index_;  // fd -> position in entries_
    std::unique_ptr<fd_sets> sets_;
    native_handle wake_read_ = invalid_native_handle;
    native_handle wake_write_ = invalid_native_handle;
    std::atomic<bool> wake_pending_{false};
    std::size_t cursor_ = 0;  // entries_ position the next report starts from
};

}  // namespace opensocket
