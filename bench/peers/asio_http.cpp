// asio_http: an idiomatic Asio 1.22 C++20-coroutine HTTP/1.1 server, a peer for bench/run.
//   asio_http [--port P] [--threads N]
//   GET /plaintext  "Hello, World!" with the headers OpenSocket's http_echo sends
//                   (Server, Date, Content-Type, Content-Length); anything else: 404.
// A coroutine per connection: read what is there, answer every complete request in it
// (pipelining), write the responses in one async_write; Connection: close and HTTP/1.0 close
// after the response. Minimal parsing, as a benchmark peer: the head ends at "\r\n\r\n", bodies
// are skipped by Content-Length. Prints "listening on 127.0.0.1:PORT"; SIGTERM exits 0.

#include "asio_common.hpp"

#include <asio/write.hpp>

#include <strings.h>
#include <array>
#include <charconv>
#include <ctime>
#include <string_view>

namespace {

using asio_peer::tcp;
using namespace std::literals;

// The Date header changes once a second: format it at most that often, per thread.
std::string_view http_date() {
    thread_local std::time_t second = -1;
    thread_local char text[40];
    thread_local std::size_t size = 0;
    std::time_t now = std::time(nullptr);
    if (now != second) {
        std::tm tm{};
        gmtime_r(&now, &tm);
        size = std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        second = now;
    }
    return {text, size};
}

void append_response(std::string& out, std::string_view status, std::string_view body, bool close) {
    out += status;
    out += "\r\nServer: asio\r\nDate: ";
    out += http_date();
    out += "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ";
    out += std::to_string(body.size());
    if (close) out += "\r\nConnection: close";
    out += "\r\n\r\n";
    out += body;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

/// The value of header `name` in `head` (the lines after the request line), or empty.
std::string_view header(std::string_view head, std::string_view name) {
    for (std::size_t p = head.find("\r\n"); p != std::string_view::npos;) {
        std::size_t start = p + 2, eol = head.find("\r\n", start);
        std::string_view line = head.substr(start, eol - start);
        std::size_t colon = line.find(':');
        if (colon != std::string_view::npos && iequals(line.substr(0, colon), name)) {
            std::string_view v = line.substr(colon + 1);
            while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
            return v;
        }
        p = eol;
    }
    return {};
}

bool contains_token(std::string_view value, std::string_view token) {
    for (std::size_t i = 0; i + token.size() <= value.size(); ++i)
        if (iequals(value.substr(i, token.size()), token)) return true;
    return false;
}

asio::awaitable<void> session(tcp::socket s) {
    // As nginx does for keep-alive: a response must not wait behind Nagle for the ACK of the
    // previous one when a pipelined batch was split across reads.
    s.set_option(tcp::no_delay(true));
    std::array<char, 8192> in;
    std::size_t in_len = 0;
    std::string out;
    for (;;) {
        std::error_code ec;
        std::size_t n =
            co_await s.async_read_some(asio::buffer(in.data() + in_len, in.size() - in_len),
                                       asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return;  // EOF or reset: the socket closes with the frame
        in_len += n;

        out.clear();
        bool close = false;
        std::string_view rest(in.data(), in_len);
        while (!close) {
            std::size_t head_end = rest.find("\r\n\r\n");
            if (head_end == std::string_view::npos) {
                if (rest.size() == in.size()) {  // a head larger than the buffer
                    append_response(out, "HTTP/1.1 431 Request Header Fields Too Large", "", true);
                    close = true;
                }
                break;
            }
            std::string_view head = rest.substr(0, head_end + 2);
            std::size_t body = 0;
            std::string_view length = header(head, "content-length");
            std::from_chars(length.data(), length.data() + length.size(), body);
            if (head_end + 4 + body > in.size()) {
                append_response(out, "HTTP/1.1 413 Content Too Large", "", true);
                close = true;
                break;
            }
            if (head_end + 4 + body > rest.size()) break;  // the body is still coming

            std::string_view line = head.substr(0, head.find("\r\n"));
            bool http10 = line.ends_with(" HTTP/1.0");
            std::string_view connection = header(head, "connection");
            close = contains_token(connection, "close") ||
                    (http10 && !contains_token(connection, "keep-alive"));
            if (line.starts_with("GET /plaintext "))
                append_response(out, "HTTP/1.1 200 OK", "Hello, World!", close);
            else
                append_response(out, "HTTP/1.1 404 Not Found", "Not Found", close);
            rest.remove_prefix(head_end + 4 + body);
        }
        std::memmove(in.data(), rest.data(), rest.size());
        in_len = rest.size();

        if (!out.empty()) {
            co_await asio::async_write(s, asio::buffer(out),
                                       asio::redirect_error(asio::use_awaitable, ec));
            if (ec) co_return;
        }
        if (close) co_return;
    }
}

}  // namespace

int main(int argc, char** argv) {
    return asio_peer::serve("asio_http", asio_peer::parse_flags(argc, argv), session);
}
