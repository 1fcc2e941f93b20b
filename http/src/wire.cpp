#include "wire.hpp"

#include <charconv>
#include <ctime>

namespace opensocket::http::detail {
namespace {

struct date_cache {
    std::time_t second = -1;
    char text[32] = {};
    std::size_t size = 0;
};
thread_local date_cache date_tls;

void append_number(std::string& out, uint64_t v) {
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, v);
    (void)ec;
    out.append(digits, end);
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
    out.append(name);
    out.append(": ");
    out.append(value);
    out.append("\r\n");
}

}  // namespace

std::string_view http_date() noexcept {
    std::time_t now = std::time(nullptr);
    date_cache& c = date_tls;
    if (now != c.second) {
        std::tm tm{};
        gmtime_r(&now, &tm);
        c.size = std::strftime(c.text, sizeof c.text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        c.second = now;
    }
    return {c.text, c.size};
}

void append_response(std::string& out, const response& r, std::string_view server_name,
                     const framing_choice& how) {
    std::string_view body = r.body_view();
    out.append("HTTP/1.1 ");
    append_number(out, static_cast<uint64_t>(r.status));
    out.push_back(' ');
    out.append(reason_phrase(r.status));
    out.append("\r\n");
    append_field(out, "Server", server_name);
    append_field(out, "Date", http_date());
    if (!r.content_type.empty()) append_field(out, "Content-Type", r.content_type);
    out.append("Content-Length: ");
    append_number(out, body.size());
    out.append("\r\n");
    if (how.close || r.close)
        out.append("Connection: close\r\n");
    else if (how.http10_keep_alive)
        out.append("Connection: keep-alive\r\n");
    for (const auto& [name, value] : r.headers) append_field(out, name, value);
    out.append("\r\n");
    if (!how.head_request) out.append(body);
}

void append_error(std::string& out, int status, std::string_view server_name) {
    response r;
    r.status = status;
    r.static_body = reason_phrase(status);
    r.close = true;
    append_response(out, r, server_name, {});
}

}  // namespace opensocket::http::detail
