#include <opensocket/http/request_head.hpp>

#include "chars.hpp"

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
    return p.substr(0, p.find('?'));
}

std::string_view request_head::query() const noexcept {
    const auto q = target.find('?');
    return q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
}

}  // namespace opensocket::http
