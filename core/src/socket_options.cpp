#include <opensocket/error.hpp>
#include <opensocket/socket_options.hpp>

#include <cerrno>

namespace opensocket {
namespace {

#ifdef _WIN32
// Windows 10 1709+ has these (ws2ipdef.h of newer SDKs; mingw-w64's headers lack them). Older
// systems, and wine, refuse them: that is reported as operation_not_supported.
constexpr int tcp_keepidle = 3;
constexpr int tcp_keepcnt = 16;
constexpr int tcp_keepintvl = 17;
#else
constexpr int tcp_keepidle = TCP_KEEPIDLE;
constexpr int tcp_keepcnt = TCP_KEEPCNT;
constexpr int tcp_keepintvl = TCP_KEEPINTVL;
#endif

result<void> set_raw(native_handle fd, int level, int name, const void* value,
                     socklen_t len) noexcept {
    // Winsock takes `const char*`; POSIX `const void*`: the cast suits both.
    if (::setsockopt(fd, level, name, static_cast<const char*>(value), len) != 0)
        return fail(detail::last_socket_error_code());
    return {};
}

result<void> set_int(native_handle fd, int level, int name, int value) noexcept {
    return set_raw(fd, level, name, &value, sizeof value);
}

/// A keepalive tuning option: where the system does not know it, say so plainly.
result<void> set_keepalive_tuning(native_handle fd, int name, int value) noexcept {
    auto r = set_int(fd, IPPROTO_TCP, name, value);
#ifdef _WIN32
    if (!r &&
        (r.error() == std::errc::no_protocol_option || r.error() == std::errc::invalid_argument))
        return fail(std::errc::operation_not_supported);
#endif
    return r;
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
        if (auto r = set_keepalive_tuning(fd, tcp_keepidle, static_cast<int>(idle->count())); !r)
            return r;
    if (interval)
        if (auto r = set_keepalive_tuning(fd, tcp_keepintvl, static_cast<int>(interval->count()));
            !r)
            return r;
    if (count)
        if (auto r = set_keepalive_tuning(fd, tcp_keepcnt, *count); !r) return r;
    return {};
}

result<void> set_reuse_address(native_handle fd, bool on) noexcept {
#ifdef _WIN32
    // Windows' SO_REUSEADDR lets another socket bind a port that is in use (port stealing), and
    // Windows already lets a listener rebind a port whose old connections linger in TIME_WAIT,
    // which is what SO_REUSEADDR is for on POSIX: nothing to do.
    (void)fd;
    (void)on;
    return {};
#else
    return set_int(fd, SOL_SOCKET, SO_REUSEADDR, on ? 1 : 0);
#endif
}

result<void> set_reuse_port(native_handle fd, bool on) noexcept {
#ifdef SO_REUSEPORT
    return set_int(fd, SOL_SOCKET, SO_REUSEPORT, on ? 1 : 0);
#else
    (void)fd;
    (void)on;
    return fail(std::errc::operation_not_supported);  // Windows: no SO_REUSEPORT
#endif
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
    // Winsock's fields are u_short, POSIX's int.
    l.l_linger = static_cast<decltype(l.l_linger)>(timeout ? timeout->count() : 0);
    return set_raw(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

result<void> set_v6_only(native_handle fd, bool on) noexcept {
    return set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, on ? 1 : 0);
}

result<int> get_int_option(native_handle fd, int level, int name) noexcept {
    int value = 0;
    socklen_t len = sizeof value;
    if (::getsockopt(fd, level, name, reinterpret_cast<char*>(&value), &len) != 0)
        return fail(detail::last_socket_error_code());
    return value;
}

}  // namespace opensocket
