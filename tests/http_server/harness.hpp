#pragma once
// In-process harness for the HTTP server suites: `serve_connection` runs on the server end of a
// loopback pair while a client coroutine writes raw request bytes and parses raw responses, both
// on the test's private executor (sync_wait).

#include <opensocket/http/server.hpp>
#include <opensocket/sleep.hpp>
#include <opensocket/when_all.hpp>
#include <test_support.hpp>

#include <array>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace opensocket::http_testing {

using namespace std::chrono_literals;
using opensocket::clock;

/// Generous bounds for waits that must not hang a broken server's test.
inline constexpr clock::duration client_patience = 5s;

/// Timeouts large enough never to fire in a test that does not mean to test them.
inline http::server_config test_config() {
    http::server_config cfg;
    cfg.head_timeout = 5s;
    cfg.idle_timeout = 5s;
    cfg.body_timeout = 5s;
    cfg.write_timeout = 5s;
    cfg.server_name = "opensocket-test";
    return cfg;
}

inline bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

/// One response as received: status line, header fields in order, body.
struct parsed_response {
    std::string version;
    int status = 0;
    std::string reason;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string raw;  ///< every byte of the response, head and body

    /// The value of the first field named `name` (case-insensitive), or nullopt.
    std::optional<std::string> header(std::string_view name) const {
        for (const auto& [n, v] : headers)
            if (iequals(n, name)) return v;
        return std::nullopt;
    }
    std::size_t count(std::string_view name) const {
        std::size_t c = 0;
        for (const auto& h : headers) c += iequals(h.first, name) ? 1 : 0;
        return c;
    }
    bool closes() const {
        auto c = header("Connection");
        return c && iequals(*c, "close");
    }
};

enum class parse_result { incomplete, complete, malformed };

/// Parses the response at the start of `data`. `head_request`: a response to HEAD has no body
/// whatever its Content-Length says. 1xx responses have no body.
inline parse_result parse_response(std::string_view data, bool head_request, parsed_response& out,
                                   std::size_t& used) {
    auto end = data.find("\r\n\r\n");
    if (end == std::string_view::npos) return parse_result::incomplete;
    std::string_view head = data.substr(0, end + 2);
    auto line_end = head.find("\r\n");
    std::string_view line = head.substr(0, line_end);
    // HTTP/1.1 SP 3DIGIT SP reason
    if (line.size() < 12 || line[8] != ' ' || line.substr(0, 5) != "HTTP/")
        return parse_result::malformed;
    parsed_response r;
    r.version = std::string(line.substr(0, 8));
    auto [p, ec] = std::from_chars(line.data() + 9, line.data() + 12, r.status);
    if (ec != std::errc() || p != line.data() + 12) return parse_result::malformed;
    r.reason = line.size() > 13 ? std::string(line.substr(13)) : std::string();
    std::string_view rest = head.substr(line_end + 2);
    while (!rest.empty()) {
        auto eol = rest.find("\r\n");
        std::string_view field = rest.substr(0, eol);
        rest.remove_prefix(eol + 2);
        auto colon = field.find(':');
        if (colon == std::string_view::npos) return parse_result::malformed;
        std::string_view value = field.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
            value.remove_prefix(1);
        r.headers.emplace_back(std::string(field.substr(0, colon)), std::string(value));
    }
    std::size_t body_size = 0;
    if (r.status >= 200 && !head_request) {
        auto cl = r.header("Content-Length");
        if (!cl) return parse_result::malformed;  // this server always sends Content-Length
        auto [q, ec2] = std::from_chars(cl->data(), cl->data() + cl->size(), body_size);
        if (ec2 != std::errc() || q != cl->data() + cl->size()) return parse_result::malformed;
    }
    std::size_t total = end + 4 + body_size;
    if (data.size() < total) return parse_result::incomplete;
    r.body = std::string(data.substr(end + 4, body_size));
    r.raw = std::string(data.substr(0, total));
    used = total;
    out = std::move(r);
    return parse_result::complete;
}

/// A raw HTTP client over one connection: writes bytes as given, reads and parses responses.
class raw_client {
public:
    explicit raw_client(tcp_stream& s) noexcept : s_(s) {}

    tcp_stream& stream() noexcept { return s_; }
    /// Bytes received after the last parsed response.
    const std::string& pending() const noexcept { return in_; }

    task<bool> send(std::string_view bytes) {
        auto w = co_await s_.write_all(bytes).before(clock::now() + client_patience);
        EXPECT_TRUE(w) << "client write failed: " << w.error().message();
        co_return static_cast<bool>(w);
    }

    /// The next response, or nullopt on EOF, an error, a malformed response or `deadline`.
    task<std::optional<parsed_response>> next(bool head_request = false,
                                              clock::time_point deadline = {}) {
        if (deadline == clock::time_point{}) deadline = clock::now() + client_patience;
        for (;;) {
            parsed_response r;
            std::size_t used = 0;
            auto pr = parse_response(in_, head_request, r, used);
            if (pr == parse_result::malformed) {
                ADD_FAILURE() << "malformed response: " << in_;
                co_return std::nullopt;
            }
            if (pr == parse_result::complete) {
                in_.erase(0, used);
                co_return r;
            }
            if (!co_await read_more(deadline)) co_return std::nullopt;
        }
    }

    /// True when the server closes the connection (EOF or reset) with no further bytes before
    /// `deadline`; bytes that arrive instead are left in `pending()`.
    task<bool> closed_by_server(clock::time_point deadline = {}) {
        if (deadline == clock::time_point{}) deadline = clock::now() + client_patience;
        if (!in_.empty()) co_return false;
        std::array<std::byte, 4096> buf;
        auto n = co_await s_.read_some(buf).before(deadline);
        if (n && *n > 0) {
            in_.append(reinterpret_cast<const char*>(buf.data()), *n);
            co_return false;
        }
        if (!n && n.error() == std::errc::timed_out) co_return false;
        eof_ = true;
        co_return true;
    }

    /// Everything until the server closes (or `deadline`).
    task<std::string> read_to_eof(clock::time_point deadline = {}) {
        if (deadline == clock::time_point{}) deadline = clock::now() + client_patience;
        // (Not `while (co_await ...) {}`: g++ 12 never starts a coroutine with that loop.)
        for (;;) {
            bool more = co_await read_more(deadline);
            if (!more) break;
        }
        co_return std::exchange(in_, {});
    }

    bool saw_eof() const noexcept { return eof_; }

private:
    task<bool> read_more(clock::time_point deadline) {
        std::array<std::byte, 16 * 1024> buf;
        auto n = co_await s_.read_some(buf).before(deadline);
        if (!n || *n == 0) {
            eof_ = n.has_value() || n.error() != std::errc::timed_out;
            co_return false;
        }
        in_.append(reinterpret_cast<const char*>(buf.data()), *n);
        co_return true;
    }

    tcp_stream& s_;
    std::string in_;
    bool eof_ = false;
};

namespace detail {
template <class F, class... Args>
task<> run_client(F f, tcp_stream& s, Args... args) {
    raw_client c(s);
    co_await f(c, std::move(args)...);
    s.close();  // the server sees EOF and its task ends
}
}  // namespace detail

/// Connects a loopback pair and runs `serve_connection` on its server end concurrently with
/// `f` on its client end (a coroutine function `task<> f(raw_client&, Args...)`, not a
/// capturing lambda). Returns once both have finished.
template <class F, class... Args>
task<> with_server(const http::router& routes, const http::server_config& cfg, F f, Args... args) {
    auto pair = co_await testing::connected_pair();
    EXPECT_TRUE(pair) << pair.error().message();
    if (!pair) co_return;
    co_await when_all(http::serve_connection(std::move(pair->server), routes, cfg),
                      detail::run_client(f, pair->client, std::move(args)...));
}

/// `with_server` on a private executor, blocking.
template <class F, class... Args>
void serve(const http::router& routes, const http::server_config& cfg, F f, Args... args) {
    testing::run(with_server(routes, cfg, f, std::move(args)...));
}

// ---- Handlers ---------------------------------------------------------------------------------

inline task<http::response> hello(http::request&) {
    co_return http::response::text(200, "Hello, World!");
}

/// Answers with the request's method, target and the decoded body: "METHOD TARGET\nBODY".
inline task<http::response> echo(http::request& req) {
    http::response r;
    r.body.reserve(req.head.method_text.size() + req.head.target.size() + req.body.size() + 1);
    r.body += req.head.method_text;
    r.body += ' ';
    r.body += req.head.target;
    r.body += '\n';
    r.body += req.body;
    co_return r;
}

/// Answers with the request's target only (cheap order checks for pipelining).
inline task<http::response> target(http::request& req) {
    http::response r;
    r.body.assign(req.head.target);
    co_return r;
}

/// The request's sequence number on its connection.
inline task<http::response> sequence(http::request& req) {
    http::response r;
    r.body = std::to_string(req.sequence);
    co_return r;
}

/// A router with GET /hello, GET+POST+PUT /echo and GET /seq.
inline http::router basic_routes() {
    http::router r;
    r.get("/hello", hello);
    r.get("/echo", echo);
    r.post("/echo", echo);
    r.add(http::method::put, "/echo", echo);
    r.get("/seq", sequence);
    return r;
}

}  // namespace opensocket::http_testing
