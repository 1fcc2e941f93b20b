#pragma once
/// \file address.hpp
/// IPv4/IPv6 socket addresses: parse `127.0.0.1:80` and `[::1]:80`, format them back.

#include <opensocket/detail/platform.hpp>
#include <opensocket/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace opensocket {

/// An IPv4 or IPv6 address with a port. A plain value: copyable, comparable, no allocation.
class socket_address {
public:
    /// The unspecified IPv4 address 0.0.0.0, port 0.
    socket_address() noexcept;

    /// Parses `a.b.c.d:port`, `[v6]:port` (with an optional `%scope` id) or, when
    /// `default_port` is given, a bare `a.b.c.d` / `v6` / `[v6]`. Numeric only: no name lookup.
    /// Errors: `error::invalid_address`, `error::invalid_port`.
    static result<socket_address> parse(std::string_view text, int default_port = -1) noexcept;

    /// Builds from a kernel `sockaddr` of family AF_INET or AF_INET6; otherwise
    /// `address_family_not_supported` (`invalid_argument` for a null pointer).
    static result<socket_address> from_native(const sockaddr* sa, socklen_t len) noexcept;

    static socket_address loopback_v4(uint16_t port = 0) noexcept;  ///< 127.0.0.1
    static socket_address loopback_v6(uint16_t port = 0) noexcept;  ///< ::1
    static socket_address any_v4(uint16_t port = 0) noexcept;       ///< 0.0.0.0
    static socket_address any_v6(uint16_t port = 0) noexcept;       ///< ::

    bool is_v4() const noexcept { return storage_.ss_family == AF_INET; }
    bool is_v6() const noexcept { return storage_.ss_family == AF_INET6; }
    int family() const noexcept { return storage_.ss_family; }
    uint16_t port() const noexcept;
    void set_port(uint16_t port) noexcept;

    /// `127.0.0.1:80` or `[::1]:80` (v4-mapped v6 addresses print as `[::ffff:1.2.3.4]:80`).
    std::string to_string() const;
    /// The address without the port: `127.0.0.1` or `::1`.
    std::string host_string() const;

    const sockaddr* native() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
    socklen_t native_size() const noexcept { return len_; }

    friend bool operator==(const socket_address& a, const socket_address& b) noexcept;

private:
    sockaddr_storage storage_{};
    socklen_t len_ = 0;
};

}  // namespace opensocket
