#include <opensocket/error.hpp>
#include <opensocket/socket_handle.hpp>

#include <cerrno>

namespace opensocket {

result<socket_handle> socket_handle::open(int family, int type, int protocol) noexcept {
#ifdef _WIN32
    if (auto ec = detail::init_sockets()) return fail(ec);
    // WSA_FLAG_NO_HANDLE_INHERIT: the close-on-exec of Windows.
    SOCKET s = ::WSASocketW(family, type, protocol, nullptr, 0,
                            WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
    if (s == INVALID_SOCKET) return fail(detail::last_socket_error_code());
    socket_handle h(s);
    if (auto ec = detail::set_blocking(s, false)) return fail(ec);
    return h;
#else
    int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd < 0) return fail(errno_code(errno));
    return socket_handle(fd);
#endif
}

void socket_handle::reset(native_handle fd) noexcept {
    detail::close_socket(fd_);
    fd_ = fd;
}

result<socket_address> socket_handle::local_address() const noexcept {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
        return fail(detail::last_socket_error_code());
    return socket_address::from_native(reinterpret_cast<sockaddr*>(&ss), len);
}

result<socket_address> socket_handle::peer_address() const noexcept {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
        return fail(detail::last_socket_error_code());
    return socket_address::from_native(reinterpret_cast<sockaddr*>(&ss), len);
}

}  // namespace opensocket
