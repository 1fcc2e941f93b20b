#include "wire.hpp"

#include "chars.hpp"

#include <charconv>
#include <cstring>
#include <ctime>

namespace opensocket::http::detail {
namespace {

struct date_cache {
    std::time_t second = -1;
    char text[32] = {};
    std::size_t size = 0;
};
thread_local date_cache date_tls;

// The decimal digits of `v` at `p` (room for 20), returning their end. Numbers under 100 (short
// bodies' lengths) are written directly; larger ones by std::to_chars.
[[gnu::always_inline]] inline char* put_decimal(char* p, std::uint64_t v) noexcept {
    if (v < 10) {
        *p = static_cast<char>('0' + v);
        return p + 1;
    }
    if (v < 100) {
        p[0] = static_cast<char>('0' + v / 10);
        p[1] = static_cast<char>('0' + v % 10);
        return p + 2;
    }
    return std::to_chars(p, p + 20, v).ptr;
}

template <class Out>
void append_number(Out& out, uint64_t v) {
    char digits[20];
    out.append({digits, static_cast<std::size_t>(put_decimal(digits, v) - digits)});
}

template <class Out>
void append_field(Out& out, std::string_view name, std::string_view value) {
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

namespace {

// "Server: NAME\r\nDate: DATE\r\n", rebuilt once a second per thread: the same bytes start
// every response, so they are one copy instead of eight appends.
struct head_block {
    std::time_t second = -1;
    std::string server;
    std::string text;
};
thread_local head_block head_tls;

std::string_view server_and_date(std::string_view server_name) {
    head_block& b = head_tls;
    std::string_view date = http_date();
    if (b.second != date_tls.second || b.server != server_name) {
        b.server.assign(server_name);
        b.text.clear();
        append_field(b.text, "Server", server_name);
        append_field(b.text, "Date", date);
        b.second = date_tls.second;
    }
    return b.text;
}

// The common response head, "HTTP/1.1 200 OK\r\nServer: ..\r\nDate: ..\r\nContent-Type: ..\r\n
// Content-Length: ", kept per thread and rebuilt when the second, the server name or the content
// type changes: a 200 with no extra fields is then one copy, the length, and the body.
struct ok_block {
    std::time_t second = -1;
    std::string server;  // what `text` was built for
    std::string type;
    std::string text;
};
thread_local ok_block ok_tls;

std::string_view ok_prefix(std::string_view server_name, std::string_view type) {
    ok_block& b = ok_tls;
    if (b.second == std::time(nullptr) && same_bytes(b.server, server_name) &&
        same_bytes(b.type, type)) {
        return b.text;
    }
    std::string_view head = server_and_date(server_name);
    if (b.second != head_tls.second || b.server != server_name || b.type != type) {
        b.server.assign(server_name);
        b.type.assign(type);
        b.text.assign("HTTP/1.1 200 OK\r\n");
        b.text.append(head);
        if (!type.empty()) append_field(b.text, "Content-Type", type);
        b.text.append("Content-Length: ");
        b.second = head_tls.second;
    }
    return b.text;
}

// A small stack buffer for the fixed part of a response head, then one append.
class head_writer {
public:
    bool put(std::string_view s) noexcept {
        if (s.size() > sizeof buf_ - size_) return false;
        std::memcpy(buf_ + size_, s.data(), s.size());
        size_ += s.size();
        return true;
    }
    bool put_number(uint64_t v) noexcept {
        char digits[20];
        return put({digits, static_cast<std::size_t>(put_decimal(digits, v) - digits)});
    }
    std::string_view view() const noexcept { return {buf_, size_}; }

private:
    char buf_[512];
    std::size_t size_ = 0;
};

bool write_head(head_writer& h, const response& r, std::string_view server_name,
                const framing_choice& how, std::size_t body_size) {
    bool ok = r.status == 200
                  ? h.put("HTTP/1.1 200 OK\r\n")
                  : h.put("HTTP/1.1 ") && h.put_number(static_cast<uint64_t>(r.status)) &&
                        h.put(" ") && h.put(reason_phrase(r.status)) && h.put("\r\n");
    ok = ok && h.put(server_and_date(server_name));
    if (!r.content_type.empty())
        ok = ok && h.put("Content-Type: ") && h.put(r.content_type) && h.put("\r\n");
    ok = ok && h.put("Content-Length: ") && h.put_number(body_size) && h.put("\r\n");
    if (how.close || r.close)
        ok = ok && h.put("Connection: close\r\n");
    else if (how.http10_keep_alive)
        ok = ok && h.put("Connection: keep-alive\r\n");
    return ok;
}

}  // namespace

void append_response(out_buffer& out, const response& r, std::string_view server_name,
                     const framing_choice& how) {
    std::string_view body = r.body_view();
    if (r.status == 200 && r.headers.empty() && !how.close && !r.close && !how.http10_keep_alive) {
        // The hot path: cached head, length, blank line, body, copied into room made once.
        const std::string_view prefix = ok_prefix(server_name, r.content_type);
        const std::size_t body_bytes = how.head_request ? 0 : body.size();
        constexpr std::size_t length_room = 20 + 4;  // 2^64 in decimal, CRLF CRLF
        char* const start = out.prepare(prefix.size() + length_room + body_bytes);
        std::memcpy(start, prefix.data(), prefix.size());
        char* p = put_decimal(start + prefix.size(), body.size());
        std::memcpy(p, "\r\n\r\n", 4);
        p += 4;
        if (body_bytes != 0) std::memcpy(p, body.data(), body_bytes);
        out.commit(static_cast<std::size_t>(p - start) + body_bytes);
        return;
    }
    head_writer h;
    if (write_head(h, r, server_name, how, body.size())) {
        out.append(h.view());
    } else {  // an unusually long server name or content type: the slow way
        out.append("HTTP/1.1 ");
        append_number(out, static_cast<uint64_t>(r.status));
        out.append(" ");
        out.append(reason_phrase(r.status));
        out.append("\r\n");
        out.append(server_and_date(server_name));
        if (!r.content_type.empty()) append_field(out, "Content-Type", r.content_type);
        out.append("Content-Length: ");
        append_number(out, body.size());
        out.append("\r\n");
        if (how.close || r.close)
            out.append("Connection: close\r\n");
        else if (how.http10_keep_alive)
            out.append("Connection: keep-alive\r\n");
    }
    for (const auto& [name, value] : r.headers) append_field(out, name, value);
    out.append("\r\n");
    if (!how.head_request) out.append(body);
}

void append_error(out_buffer& out, int status, std::string_view server_name) {
    response r;
    r.status = status;
    r.static_body = reason_phrase(status);
    r.close = true;
    append_response(out, r, server_name, {});
}

}  // namespace opensocket::http::detail
