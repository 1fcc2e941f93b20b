#include <opensocket/error.hpp>
#include <opensocket/socket_options.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <cerrno>

namespace opensocket {
namespace {

result<void> set_int(native_handle fd, int level, int name, int value) noexcept {
    if (::setsockopt(fd, level, name, &value, sizeof value) != 0) return fail(errno_code(errno));
    return {};
}

}  // namespace

result<void> set_nodelay(native_handle fd, bool on) noexcept {
    return set_int(fd, IPPROTO_TCP, TCP_NODELAY, on ? 1 : 0);
}

result<void> set_keepalive(native_handle fd, bool on, std::optional<std::chrono::seconds> idle,
                           std::optional<std::chrono::seconds> interval,
                           std::optional<int> count) noexcept {
    if (auto r = set_int(fd, SOL_SOCKET, SO_KEEPALIVE, on ? 1 : 0); !r) return r;
    if (idle)
        if (auto r = set_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, static_cast<int>(idle->count())); !r)
            return r;
    if (interval)
        if (auto r = set_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, static_cast<int>(interval->count()));
            !r)
            return r;
    if (count)
        if (auto r = set_int(fd, IPPROTO_TCP, TCP_KEEPCNT, *count); !r) return r;
    return {};
}

result<void> set_reuse_address(native_handle fd, bool on) noexcept {
    return set_int(fd, SOL_SOCKET, SO_REUSEADDR, on ? 1 : 0);
}

result<void> set_reuse_port(native_handle fd, bool on) noexcept {
    return set_int(fd, SOL_SOCKET, SO_REUSEPORT, on ? 1 : 0);
}

result<void> set_recv_buffer_size(native_handle fd, int bytes) noexcept {
    return set_int(fd, SOL_SOCKET, SO_RCVBUF, bytes);
}

result<void> set_send_buffer_size(native_handle fd, int bytes) noexcept {
    return set_int(fd, SOL_SOCKET, SO_SNDBUF, bytes);
}

result<void> set_linger(native_handle fd, std::optional<std::chrono::seconds> timeout) noexcept {
    linger l{};
    l.l_onoff = timeout ? 1 : 0;
    l.l_linger = timeout ? static_cast<int>(timeout->count()) : 0;
    if (::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l) != 0) return fail(errno_code(errno));
    return {};
}

result<void> set_v6_only(native_handle fd, bool on) noexcept {
    return set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, on ? 1 : 0);
}

result<int> get_int_option(native_handle fd, int level, int name) noexcept {
    int value = 0;
    socklen_t len = sizeof value;
    if (::getsockopt(fd, level, name, &value, &len) != 0) return fail(errno_code(errno));
    return value;
}

}  // namespace opensocket
