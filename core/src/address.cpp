#include <opensocket/address.hpp>
#include <opensocket/error.hpp>

#ifdef _WIN32
#include <iphlpapi.h>  // if_nametoindex and IF_NAMESIZE (netioapi.h)
#else
#include <net/if.h>
#endif
#include <charconv>
#include <cstring>

namespace opensocket {
namespace {

result<uint16_t> parse_port(std::string_view s) noexcept {
    unsigned value = 0;
    if (s.empty() || s.size() > 5) return fail(error::invalid_port);
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc{} || ptr != s.data() + s.size() || value > 65535)
        return fail(error::invalid_port);
    return static_cast<uint16_t>(value);
}

// inet_pton wants a NUL-terminated string; addresses are short, so copy to the stack.
bool copy_z(std::string_view s, char (&out)[64]) noexcept {
    if (s.empty() || s.size() >= sizeof out || s.find('\0') != std::string_view::npos) return false;
    std::memcpy(out, s.data(), s.size());
    out[s.size()] = '\0';
    return true;
}

}  // namespace

socket_address::socket_address() noexcept {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    std::memcpy(&storage_, &sin, sizeof sin);
    len_ = sizeof sin;
}

result<socket_address> socket_address::parse(std::string_view text, int default_port) noexcept {
    std::string_view host;
    std::string_view port_text;
    bool bracketed = false;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos) return fail(error::invalid_address);
        host = text.substr(1, close - 1);
        bracketed = true;
        auto rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return fail(error::invalid_address);
            port_text = rest.substr(1);
            if (port_text.empty()) return fail(error::invalid_port);
        }
    } else {
        auto colon = text.rfind(':');
        if (colon != std::string_view::npos && text.find(':') == colon) {
            host = text.substr(0, colon);  // exactly one colon: v4 (or name) with a port
            port_text = text.substr(colon + 1);
            if (port_text.empty()) return fail(error::invalid_port);
        } else {
            host = text;  // no colon (bare v4) or several (bare v6)
        }
    }

    uint16_t port = 0;
    if (!port_text.empty()) {
        auto p = parse_port(port_text);
        if (!p) return fail(p.error());
        port = *p;
    } else if (default_port >= 0 && default_port <= 65535) {
        port = static_cast<uint16_t>(default_port);
    } else {
        return fail(error::invalid_port);
    }

    char buf[64];
    socket_address out;
    if (!bracketed && host.find(':') == std::string_view::npos) {
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_port = htons(port);
        if (!copy_z(host, buf) || inet_pton(AF_INET, buf, &sin.sin_addr) != 1)
            return fail(error::invalid_address);
        std::memcpy(&out.storage_, &sin, sizeof sin);
        out.len_ = sizeof sin;
        return out;
    }
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(port);
    auto pct = host.find('%');
    if (pct != std::string_view::npos) {
        char scope[64];
        if (!copy_z(host.substr(pct + 1), scope)) return fail(error::invalid_address);
        unsigned id = if_nametoindex(scope);
        if (id == 0) {
            auto s = host.substr(pct + 1);
            auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), id);
            if (ec != std::errc{} || ptr != s.data() + s.size())
                return fail(error::invalid_address);
        }
        sin6.sin6_scope_id = id;
        host = host.substr(0, pct);
    }
    if (!copy_z(host, buf) || inet_pton(AF_INET6, buf, &sin6.sin6_addr) != 1)
        return fail(error::invalid_address);
    std::memcpy(&out.storage_, &sin6, sizeof sin6);
    out.len_ = sizeof sin6;
    return out;
}

result<socket_address> socket_address::from_native(const sockaddr* sa, socklen_t len) noexcept {
    socket_address out;
    if (sa == nullptr) return fail(std::errc::invalid_argument);
    if (sa->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
        std::memcpy(&out.storage_, sa, sizeof(sockaddr_in));
        out.len_ = sizeof(sockaddr_in);
        return out;
    }
    if (sa->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
        std::memcpy(&out.storage_, sa, sizeof(sockaddr_in6));
        out.len_ = sizeof(sockaddr_in6);
        return out;
    }
    return fail(std::errc::address_family_not_supported);
}

socket_address socket_address::any_v4(uint16_t port) noexcept {
    socket_address a;
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_ANY);
    std::memcpy(&a.storage_, &sin, sizeof sin);
    a.len_ = sizeof sin;
    return a;
}

socket_address socket_address::loopback_v4(uint16_t port) noexcept {
    socket_address a = any_v4(port);
    reinterpret_cast<sockaddr_in*>(&a.storage_)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

socket_address socket_address::any_v6(uint16_t port) noexcept {
    socket_address a;
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(port);
    sin6.sin6_addr = in6addr_any;
    std::memcpy(&a.storage_, &sin6, sizeof sin6);
    a.len_ = sizeof sin6;
    return a;
}

socket_address socket_address::loopback_v6(uint16_t port) noexcept {
    socket_address a = any_v6(port);
    reinterpret_cast<sockaddr_in6*>(&a.storage_)->sin6_addr = in6addr_loopback;
    return a;
}

uint16_t socket_address::port() const noexcept {
    if (is_v4()) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
}

void socket_address::set_port(uint16_t port) noexcept {
    if (is_v4())
        reinterpret_cast<sockaddr_in*>(&storage_)->sin_port = htons(port);
    else
        reinterpret_cast<sockaddr_in6*>(&storage_)->sin6_port = htons(port);
}

std::string socket_address::host_string() const {
    char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 2] = {};
    if (is_v4()) {
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, buf,
                  sizeof buf);
        return buf;
    }
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&storage_);
    inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof buf);
    std::string s = buf;
    if (sin6->sin6_scope_id != 0) s += "%" + std::to_string(sin6->sin6_scope_id);
    return s;
}

std::string socket_address::to_string() const {
    std::string port = std::to_string(this->port());
    if (is_v4()) return host_string() + ":" + port;
    return "[" + host_string() + "]:" + port;
}

bool operator==(const socket_address& a, const socket_address& b) noexcept {
    return a.len_ == b.len_ && std::memcmp(&a.storage_, &b.storage_, a.len_) == 0;
}

}  // namespace opensocket
