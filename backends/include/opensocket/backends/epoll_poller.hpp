#pragma once
/// \file epoll_poller.hpp
/// Linux epoll, edge-triggered (EPOLLET): each descriptor is registered once for read and write;
/// the wake-up is an eventfd. Waits with nanosecond timeouts through epoll_pwait2 when the kernel
/// has it (5.11+), else epoll_wait rounded up to whole milliseconds.

#include <opensocket/poller.hpp>

#include <vector>

struct epoll_event;

namespace opensocket {

class epoll_poller final : public poller {
public:
    /// Creates the epoll instance and its eventfd; throws std::system_error if the kernel refuses.
    epoll_poller();
    ~epoll_poller() override;

    std::string_view name() const noexcept override { return "epoll"; }
    bool edge_triggered() const noexcept override { return true; }
    result<void> add(native_handle fd, uint64_t token, uint8_t interest) noexcept override;
    result<void> update(native_handle fd, uint64_t token, uint8_t interest) noexcept override;
    void remove(native_handle fd) noexcept override;
    bool close_unregisters() const noexcept override { return true; }
    result<std::size_t> wait(std::span<poll_event> out, int64_t timeout_ns) noexcept override;
    void wake() noexcept override;

private:
    int epfd_ = -1;
    int wakefd_ = -1;
    bool have_pwait2_ = true;
    std::vector<epoll_event> raw_;
};

}  // namespace opensocket
