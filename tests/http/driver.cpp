#include "driver.hpp"

#include <opensocket/http/body.hpp>
#include <opensocket/http/parser.hpp>

#include <cstdint>
#include <functional>
#include <numeric>

namespace http_test {
namespace {

namespace http = opensocket::http;

std::string escape(std::string_view s) {
    std::string out;
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f && c != '\\') {
            out += c;
        } else {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 15];
        }
    }
    return out;
}

bool inside(std::string_view view, std::string_view buffer) {
    if (view.empty()) return true;
    const std::less_equal<const char*> le;
    return le(buffer.data(), view.data()) &&
           le(view.data() + view.size(), buffer.data() + buffer.size());
}

const char* kind_name(http::body_kind k) {
    switch (k) {
        case http::body_kind::none: return "none";
        case http::body_kind::content_length: return "length";
        case http::body_kind::chunked: return "chunked";
    }
    return "?";
}

void check_head(const http::request_head& h, std::string_view buffer, outcome& out) {
    if (h.size == 0 || h.size > buffer.size()) out.violations.push_back("head size out of range");
    const std::string_view head_bytes = buffer.substr(0, h.size);
    bool ok = inside(h.method_text, head_bytes) && inside(h.target, head_bytes);
    for (const http::header f : h.headers) {
        ok = ok && inside(f.name, head_bytes) && inside(f.value, head_bytes);
    }
    if (!ok) out.violations.push_back("a head view lies outside the head");
    if (h.method_text != http::to_string(h.method)) out.violations.push_back("method mismatch");
}

// One connection's worth of parsing, over a buffer that the caller grows and drains.
class connection {
public:
    connection(const http::parser_limits& limits, outcome& out)
        : parser_(limits), body_(limits), out_(out) {}

    // Processes what `buffer` holds; drops consumed bytes. False once the connection failed.
    bool pump(std::string& buffer) {
        for (;;) {
            if (!in_body_ && !parse_head(buffer)) return !out_.error;
            auto step = body_.next(buffer);
            if (!step) return fail(step.error());
            if (step->consumed > buffer.size() || !inside(step->data, buffer)) {
                out_.violations.push_back("body step outside its input");
                return fail(std::make_error_code(std::errc::bad_message));
            }
            body_text_ += step->data;
            buffer.erase(0, step->consumed);
            if (step->done) {
                out_.requests.push_back(current_ + " body=" + escape(body_text_));
                parser_.next();
                in_body_ = false;
            } else if (step->consumed == 0) {
                return true;
            }
        }
    }

    std::string state(const std::string& buffer) const {
        if (in_body_) return "partial-body";
        return buffer.empty() ? "idle" : "partial-head";
    }

private:
    // True when a head completed (and was consumed from `buffer`).
    bool parse_head(std::string& buffer) {
        auto r = parser_.parse(buffer);
        if (!r) return fail(r.error());
        if (*r == http::parse_status::incomplete) return false;
        const http::request_head& h = parser_.head();
        check_head(h, buffer, out_);
        current_ = describe(h);
        body_.start(h.body);
        body_text_.clear();
        buffer.erase(0, h.size);
        in_body_ = true;
        return true;
    }

    bool fail(std::error_code ec) {
        out_.error = ec;
        return false;
    }

    http::request_parser parser_;
    http::body_decoder body_;
    outcome& out_;
    std::string current_;
    std::string body_text_;
    bool in_body_ = false;
};

}  // namespace

std::string outcome::transcript() const {
    std::string t;
    for (const auto& r : requests) t += r + "\n";
    if (error) {
        t += "error: " + error.message() + " (" + std::to_string(error.value()) + ")\n";
    } else {
        t += "state: " + state + "\n";
    }
    return t;
}

std::string describe(const http::request_head& h) {
    std::string d = std::string(h.method_text) + " " + escape(h.target) + " " +
                    std::string(http::to_string(h.version));
    d += " keep_alive=" + std::to_string(h.keep_alive);
    d += " continue=" + std::to_string(h.expect_continue);
    d += " framing=" + std::string(kind_name(h.body.kind)) + ":" + std::to_string(h.body.length);
    d += " size=" + std::to_string(h.size) + " headers=[";
    for (const http::header f : h.headers) d += escape(f.name) + ": " + escape(f.value) + "|";
    return d + "]";
}

outcome drive(std::string_view input, std::span<const std::size_t> cuts,
              const http::parser_limits& limits) {
    outcome out;
    connection conn(limits, out);
    std::string buffer;
    std::size_t from = 0;
    for (std::size_t i = 0; i <= cuts.size(); ++i) {
        const std::size_t to = i < cuts.size() ? cuts[i] : input.size();
        std::string grown;  // a new allocation: the parser must not keep pointers
        grown.reserve(buffer.size() + (to - from) + 32);
        grown.append(buffer).append(input.substr(from, to - from));
        buffer.swap(grown);
        from = to;
        if (!conn.pump(buffer)) break;
    }
    if (!out.error) out.state = conn.state(buffer);
    return out;
}

outcome drive_whole(std::string_view input, const http::parser_limits& limits) {
    return drive(input, {}, limits);
}

outcome drive_bytewise(std::string_view input, const http::parser_limits& limits) {
    std::vector<std::size_t> cuts(input.empty() ? 0 : input.size() - 1);
    std::iota(cuts.begin(), cuts.end(), std::size_t{1});
    return drive(input, cuts, limits);
}

http::parser_limits small_limits() {
    http::parser_limits l;
    l.max_request_line = 64;
    l.max_header_bytes = 256;
    l.max_header_count = 4;
    l.max_body_size = 64;
    l.max_chunk_extensions = 32;
    return l;
}

}  // namespace http_test
