#include <opensocket/http/request_head.hpp>

#include "chars.hpp"

#include <bit>
#include <cstdint>
#include <cstring>

namespace opensocket::http {

std::string_view to_string(method m) noexcept {
    switch (m) {
        case method::get: return "GET";
        case method::head: return "HEAD";
        case method::post: return "POST";
        case method::put: return "PUT";
        case method::delete_: return "DELETE";
        case method::options: return "OPTIONS";
        case method::patch: return "PATCH";
    }
    return "";
}

std::string_view to_string(version v) noexcept {
    return v == version::http_1_0 ? "HTTP/1.0" : "HTTP/1.1";
}

std::optional<std::string_view> header_list::find(std::string_view name) const noexcept {
    for (const header h : *this) {
        if (h.name.size() != name.size()) continue;
        bool same = true;
        for (std::size_t i = 0; same && i < name.size(); ++i) {
            same = detail::to_lower(h.name[i]) == detail::to_lower(name[i]);
        }
        if (same) return h.value;
    }
    return std::nullopt;
}

namespace {

/// The first '?' in `s`, or its size. Targets are short: eight bytes per step with a
/// zero-byte test on little-endian machines (no libc call), memchr past 32 bytes.
std::size_t query_mark(std::string_view s) noexcept {
    const char* p = s.data();
    const std::size_t n = s.size();
    if (n > 32) {
        const void* q = std::memchr(p, '?', n);
        return q == nullptr ? n : static_cast<std::size_t>(static_cast<const char*>(q) - p);
    }
    std::size_t i = 0;
    if constexpr (std::endian::native == std::endian::little) {
        constexpr std::uint64_t ones = 0x0101010101010101;
        for (; i + 8 <= n; i += 8) {
            const std::uint64_t w = detail::load<std::uint64_t>(p + i) ^ (ones * '?');
            // The lowest set bit marks the first zero byte (higher ones may be false hits).
            const std::uint64_t zero = (w - ones) & ~w & (ones << 7);
            if (zero != 0) return i + static_cast<std::size_t>(std::countr_zero(zero)) / 8;
        }
    }
    for (; i < n; ++i) {
        if (p[i] == '?') return i;
    }
    return n;
}

}  // namespace

std::string_view request_head::path() const noexcept {
    std::string_view p = target;
    if (!p.empty() && p.front() != '/' && p != "*") {
        // absolute-form: scheme "://" authority path-abempty, or scheme ":" path
        const auto colon = p.find(':');
        p.remove_prefix(colon + 1);
        if (p.starts_with("//")) {
            const auto slash = p.find_first_of("/?", 2);
            p = slash == std::string_view::npos ? std::string_view() : p.substr(slash);
        }
        if (p.empty() || p.front() == '?') return "/";
    }
    return p.substr(0, query_mark(p));
}

std::string_view request_head::query() const noexcept {
    const auto q = target.find('?');
    return q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
}

}  // namespace opensocket::http
