#include <opensocket/error.hpp>
#include <opensocket/socket_handle.hpp>

#include <unistd.h>
#include <cerrno>

namespace opensocket {

result<socket_handle> socket_handle::open(int family, int type, int protocol) noexcept {
    int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd < 0) return fail(errno_code(errno));
    return socket_handle(fd);
}

void socket_handle::reset(native_handle fd) noexcept {
    if (fd_ != invalid_native_handle) ::close(fd_);  // EINTR still closes on Linux: never retry
    fd_ = fd;
}

result<socket_address> socket_handle::local_address() const noexcept {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
        return fail(errno_code(errno));
    return socket_address::from_native(reinterpret_cast<sockaddr*>(&ss), len);
}

result<socket_address> socket_handle::peer_address() const noexcept {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
        return fail(errno_code(errno));
    return socket_address::from_native(reinterpret_cast<sockaddr*>(&ss), len);
}

}  // namespace opensocket
