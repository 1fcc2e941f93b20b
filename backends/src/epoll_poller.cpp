#include <opensocket/backends/epoll_poller.hpp>
#include <opensocket/error.hpp>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <cerrno>
#include <ctime>

namespace opensocket {
namespace {

constexpr uint64_t wake_token = ~uint64_t{0};

uint32_t to_epoll(uint8_t interest) {
    uint32_t ev = EPOLLET | EPOLLRDHUP;
    if (interest & interest_read) ev |= EPOLLIN;
    if (interest & interest_write) ev |= EPOLLOUT;
    return ev;
}

}  // namespace

epoll_poller::epoll_poller() : raw_(256) {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) throw std::system_error(errno_code(errno), "epoll_create1");
    wakefd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wakefd_ < 0) {
        int e = errno;
        ::close(epfd_);
        throw std::system_error(errno_code(e), "eventfd");
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLET;
    ev.data.u64 = wake_token;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, wakefd_, &ev) != 0) {
        int e = errno;
        ::close(wakefd_);
        ::close(epfd_);
        throw std::system_error(errno_code(e), "epoll_ctl(eventfd)");
    }
}

epoll_poller::~epoll_poller() {
    ::close(wakefd_);
    ::close(epfd_);
}

result<void> epoll_poller::add(native_handle fd, uint64_t token, uint8_t interest) noexcept {
    epoll_event ev{};
    ev.events = to_epoll(interest);
    ev.data.u64 = token;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) return fail(errno_code(errno));
    return {};
}

result<void> epoll_poller::update(native_handle fd, uint64_t token, uint8_t interest) noexcept {
    epoll_event ev{};
    ev.events = to_epoll(interest);
    ev.data.u64 = token;
    if (::epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev) != 0) return fail(errno_code(errno));
    return {};
}

void epoll_poller::remove(native_handle fd) noexcept {
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);  // ENOENT/EBADF: nothing to undo
}

result<std::size_t> epoll_poller::wait(std::span<poll_event> out, int64_t timeout_ns) noexcept {
    int max = static_cast<int>(std::min(out.size(), raw_.size()));
    int n = -1;
    if (timeout_ns > 0 && have_pwait2_) {
        timespec ts{static_cast<time_t>(timeout_ns / 1'000'000'000),
                    static_cast<long>(timeout_ns % 1'000'000'000)};
        n = ::epoll_pwait2(epfd_, raw_.data(), max, &ts, nullptr);
        // Old kernels say ENOSYS; seccomp filters that predate the syscall often say EPERM.
        if (n < 0 && (errno == ENOSYS || errno == EPERM)) have_pwait2_ = false;
    }
    if (n < 0 && (timeout_ns <= 0 || !have_pwait2_)) {
        int ms = timeout_ns < 0 ? -1 : static_cast<int>((timeout_ns + 999'999) / 1'000'000);
        n = ::epoll_wait(epfd_, raw_.data(), max, ms);
    }
    if (n < 0) {
        if (errno == EINTR) return std::size_t{0};
        return fail(errno_code(errno));
    }
    std::size_t count = 0;
    for (int i = 0; i < n; ++i) {
        const epoll_event& ev = raw_[static_cast<std::size_t>(i)];
        if (ev.data.u64 == wake_token) {
            uint64_t wakes;  // one read returns and resets the whole counter (eventfd(2))
            [[maybe_unused]] auto r = ::read(wakefd_, &wakes, sizeof wakes);
            continue;
        }
        poll_event& pe = out[count++];
        pe.token = ev.data.u64;
        pe.readable = (ev.events & (EPOLLIN | EPOLLRDHUP | EPOLLPRI)) != 0;
        pe.writable = (ev.events & EPOLLOUT) != 0;
        pe.error = (ev.events & (EPOLLERR | EPOLLHUP)) != 0;
        pe.read_closed = (ev.events & (EPOLLRDHUP | EPOLLHUP)) != 0;
    }
    return count;
}

void epoll_poller::wake() noexcept {
    uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(wakefd_, &one, sizeof one);  // EAGAIN: already signalled
}

}  // namespace opensocket
