#include "request_line.hpp"

#include "chars.hpp"

namespace opensocket::http::detail {

std::optional<method> method_from(std::string_view text) noexcept {
    switch (text.size()) {
        case 3:
            if (text == "GET") return method::get;
            if (text == "PUT") return method::put;
            break;
        case 4:
            if (text == "POST") return method::post;
            if (text == "HEAD") return method::head;
            break;
        case 5:
            if (text == "PATCH") return method::patch;
            break;
        case 6:
            if (text == "DELETE") return method::delete_;
            break;
        case 7:
            if (text == "OPTIONS") return method::options;
            break;
        default: break;
    }
    return std::nullopt;  // CONNECT, TRACE and unknown tokens: 501
}

namespace {

bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then ':' (RFC 3986 section 3.1).
bool has_scheme(std::string_view target) noexcept {
    if (target.empty() || !is_alpha(target[0])) return false;
    for (std::size_t i = 1; i < target.size(); ++i) {
        const char c = target[i];
        if (c == ':') return true;
        if (!is_alpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.') {
            return false;
        }
    }
    return false;
}

}  // namespace

bool valid_target_form(method m, std::string_view target) noexcept {
    if (target[0] == '/') return true;
    if (target == "*") return m == method::options;
    return has_scheme(target);
}

}  // namespace opensocket::http::detail
