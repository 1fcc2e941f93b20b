#include <opensocket/http/parser.hpp>

#include "chars.hpp"
#include "request_line.hpp"
#include "scan.hpp"

#include <algorithm>
#include <cassert>
#include <optional>

// A resumable state machine over byte offsets. Every decision is taken at the first byte that
// determines it, and limits are bounds on byte offsets, so the result is the same whatever the
// split of the input into calls. Each phase runs a tight loop over its bytes.
//
// Fast paths: a request line or a field line that is complete in the buffer and well-formed is
// parsed by one straight-line function (no per-phase dispatch). Anything else - a line cut by
// the end of the input, over a limit, or malformed - is left at its first byte to the phase
// machine, which takes the same decisions byte by byte. A line is scanned at most twice.

namespace opensocket::http {
namespace {

constexpr std::size_t max_head = std::size_t{1} << 31;  // offsets are 32-bit

std::uint32_t offset(std::size_t v) noexcept { return static_cast<std::uint32_t>(v); }

bool is_line_end(char c) noexcept { return c == '\r' || c == '\n'; }

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// The commonest bytes, compared a word at a time on the fast paths.
constexpr auto get_sp = detail::word<std::uint32_t>("GET ");
constexpr auto http_1_1 = detail::word<std::uint64_t>("HTTP/1.1");
constexpr auto crlf = detail::word<std::uint16_t>("\r\n");

}  // namespace

request_parser::request_parser(const parser_limits& limits) noexcept : limits_(limits) {
    limits_.max_header_bytes = std::min(limits_.max_header_bytes, max_head);
    limits_.max_request_line = std::min(limits_.max_request_line, max_head);
    reset();
}

void request_parser::reset() noexcept {
    phase_ = phase::request_start;
    error_ = {};
    next();
}

void request_parser::next() noexcept {
    if (phase_ == phase::failed) return;
    phase_ = phase::request_start;
    fields_.clear();
    semantics_ = {};
    pos_ = 0;  // head_ is left as it is: a complete parse assigns every member
    head_bound_ = offset(limits_.max_header_bytes);
}

void request_parser::fail_with(parse_error e) noexcept {
    error_ = e;
    phase_ = phase::failed;
}

result<parse_status> request_parser::parse(std::string_view data) noexcept {
    if (phase_ == phase::failed) return fail(error_);
    assert(data.size() >= pos_ && "the buffer must keep every byte given before");
    const char* b = data.data();
    // Past the head limit nothing more is read, so only that prefix matters (keeps offsets
    // 32-bit even for huge buffers).
    const std::size_t n = std::min(data.size(), std::size_t{head_bound_} + 1);
    if (pos_ == 0 && phase_ == phase::request_start && parse_whole_head(b, n)) {
        bind(b);
        return parse_status::complete;
    }
    while (pos_ < n && phase_ < phase::complete) {
        if (phase_ == phase::request_start) {
            parse_request_line(b, n);
            if (phase_ != phase::request_start) continue;
        } else if (phase_ == phase::field_start) {
            parse_field_lines(b, n);  // stops at the first line it cannot take whole
            if (phase_ != phase::field_start || pos_ >= n) continue;
        }
        run_phase(b, n);
    }
    if (phase_ == phase::complete) {
        bind(b);
        return parse_status::complete;
    }
    if (phase_ == phase::failed) return fail(error_);
    return parse_status::incomplete;
}

// The fastest path: a whole, well-formed head that breaks no limit, in one call, in one
// straight function that keeps its offsets in registers. It accepts exactly what the phase
// machine would accept and computes the same head; on anything else (a head cut short, over a
// limit, malformed, or refused by the field semantics) it returns false with the parser as it
// found it, and the general path below decides, error included.
bool request_parser::parse_whole_head(const char* b, std::size_t n) noexcept {
    const std::size_t stop = std::min<std::size_t>(n, head_bound_);
    const std::size_t line_end =
        std::min<std::size_t>(n, std::min<std::size_t>(limits_.max_request_line, head_bound_));
    // request-line = method SP request-target SP HTTP-version CRLF
    std::size_t sp1 = 0;
    std::optional<method> m;
    if (line_end >= 4 && detail::load<std::uint32_t>(b) == get_sp) {
        sp1 = 3;
        m = method::get;
    } else {
        sp1 = detail::scan_token(b, 0, line_end);
        if (sp1 == 0 || sp1 >= line_end || b[sp1] != ' ') return false;
        m = detail::method_from({b, sp1});
        if (!m) return false;
    }
    const std::size_t sp2 = detail::scan_target(b, sp1 + 1, line_end);
    if (sp2 == sp1 + 1 || sp2 >= line_end || b[sp2] != ' ') return false;
    const std::size_t v = sp2 + 1;
    const std::size_t cr = v + 8;
    if (cr > line_end || cr + 1 >= stop || detail::load<std::uint16_t>(b + cr) != crlf)
        return false;
    http::version ver = version::http_1_1;
    if (detail::load<std::uint64_t>(b + v) != http_1_1) {
        if (std::string_view(b + v, 6) != "HTTP/1" || b[v + 6] != '.' || !is_digit(b[v + 7]))
            return false;
        if (b[v + 7] == '0') ver = version::http_1_0;
    }
    if (b[sp1 + 1] != '/' && !detail::valid_target_form(*m, {b + sp1 + 1, sp2 - sp1 - 1}))
        return false;
    // *( field-line CRLF ) CRLF
    std::size_t p = cr + 2;
    for (;;) {
        if (p + 1 >= stop) return fail_fast();
        if (b[p] == '\r') {
            if (b[p + 1] != '\n') return fail_fast();
            p += 2;
            break;
        }
        const std::size_t colon = detail::scan_token(b, p, stop);
        if (colon == p || colon >= stop || b[colon] != ':') return fail_fast();
        if (fields_.size() >= limits_.max_header_count) return fail_fast();
        std::size_t value = colon + 1;
        while (value < stop && detail::is(b[value], detail::cls_ows)) ++value;
        const std::size_t end = detail::scan_value(b, value, stop);
        if (end + 1 >= stop || detail::load<std::uint16_t>(b + end) != crlf) return fail_fast();
        const detail::field_span f{offset(p), offset(colon - p), offset(value),
                                   offset(trim_end(b, value, end) - value)};
        fields_.push_back(f);
        if (semantics_.note({b + p, f.name_size}, {b + value, f.value_size}) != parse_error{})
            return fail_fast();
        p = end + 2;
    }
    if (semantics_.finish(ver, limits_, head_) != parse_error{}) return fail_fast();
    head_.method = *m;
    head_.version = ver;
    head_.size = p;
    method_start_ = 0;
    method_end_ = offset(sp1);
    target_end_ = offset(sp2);
    pos_ = offset(p);
    phase_ = phase::complete;
    return true;
}

bool request_parser::fail_fast() noexcept {
    fields_.clear();
    semantics_ = {};
    return false;
}

void request_parser::run_phase(const char* b, std::size_t n) noexcept {
    switch (phase_) {
        case phase::request_start: return on_request_start(b[pos_]);
        case phase::leading_lf: return on_leading_lf(b[pos_]);
        case phase::method: return scan_method(b, n);
        case phase::target: return scan_target(b, n);
        case phase::version: return on_version(b[pos_]);
        case phase::request_lf: return on_request_lf(b, b[pos_]);
        case phase::field_start: return on_field_start(b[pos_]);
        case phase::field_name: return scan_field_name(b, n);
        case phase::field_ows: return scan_field_ows(b, n);
        case phase::field_value: return scan_field_value(b, n);
        case phase::field_lf: return on_field_lf(b, b[pos_]);
        case phase::head_lf: return on_head_lf(b[pos_]);
        case phase::complete:
        case phase::failed: return;
    }
}

// RFC 9112 section 2.2: empty lines before the request line are skipped (they count toward
// the head size and its limit). Anything but a token character or CR is rejected.
void request_parser::on_request_start(char c) noexcept {
    if (pos_ >= head_bound_) return fail_with(parse_error::header_too_large);
    if (c == '\r') {
        ++pos_;
        phase_ = phase::leading_lf;
    } else if (detail::is(c, detail::cls_token)) {
        start_request_line();
        phase_ = phase::method;
    } else {
        fail_with(c == '\n' ? parse_error::invalid_line_ending : parse_error::invalid_request_line);
    }
}

void request_parser::start_request_line() noexcept {
    method_start_ = pos_;
    const std::size_t line_limit = std::size_t{pos_} + limits_.max_request_line;
    line_bound_ = offset(std::min<std::size_t>(line_limit, head_bound_));
    line_bound_error_ = line_limit <= head_bound_ ? parse_error::request_line_too_long
                                                  : parse_error::header_too_large;
}

// The fast path for a whole, well-formed request line at pos_ (see the file comment).
void request_parser::parse_request_line(const char* b, std::size_t n) noexcept {
    if (!detail::is(b[pos_], detail::cls_token)) return;
    start_request_line();
    const std::size_t line_end = std::min<std::size_t>(n, line_bound_);
    const std::size_t sp1 = pos_ + 4 <= line_end && detail::load<std::uint32_t>(b + pos_) == get_sp
                                ? pos_ + 3
                                : detail::scan_token(b, pos_, line_end);
    if (sp1 >= line_end || b[sp1] != ' ') return;
    const std::size_t sp2 = detail::scan_target(b, sp1 + 1, line_end);
    if (sp2 == sp1 + 1 || sp2 >= line_end || b[sp2] != ' ') return;
    const std::size_t v = sp2 + 1;
    const std::size_t cr = v + 8;
    if (cr > line_end || cr + 1 >= std::min<std::size_t>(n, head_bound_)) return;
    if (detail::load<std::uint16_t>(b + cr) != crlf) return;
    if (detail::load<std::uint64_t>(b + v) != http_1_1 &&
        (std::string_view(b + v, 5) != "HTTP/" || !is_digit(b[v + 5]) || b[v + 6] != '.' ||
         !is_digit(b[v + 7]))) {
        return;
    }
    method_end_ = offset(sp1);
    target_end_ = offset(sp2);
    mark_ = offset(v);
    pos_ = offset(cr + 2);
    finish_request_line(b);
}

void request_parser::on_leading_lf(char c) noexcept {
    if (pos_ >= head_bound_) return fail_with(parse_error::header_too_large);
    if (c != '\n') return fail_with(parse_error::invalid_line_ending);
    ++pos_;
    phase_ = phase::request_start;
}

void request_parser::scan_method(const char* b, std::size_t n) noexcept {
    const std::size_t stop = std::min<std::size_t>(n, line_bound_);
    const std::size_t i = detail::scan(b, pos_, stop, detail::cls_token);
    pos_ = offset(i);
    if (i == n) return;
    if (i == stop) return fail_with(line_bound_error_);
    if (b[i] != ' ') {
        return fail_with(is_line_end(b[i]) ? parse_error::invalid_request_line
                                           : parse_error::invalid_method);
    }
    method_end_ = pos_++;
    mark_ = pos_;
    phase_ = phase::target;
}

void request_parser::scan_target(const char* b, std::size_t n) noexcept {
    const std::size_t stop = std::min<std::size_t>(n, line_bound_);
    const std::size_t i = detail::scan_target(b, pos_, stop);
    pos_ = offset(i);
    if (i == n) return;
    if (i == stop) return fail_with(line_bound_error_);
    const char c = b[i];
    if (c == ' ' && i == mark_) return fail_with(parse_error::invalid_request_line);  // 2 SP
    if (c != ' ') {
        return fail_with(is_line_end(c) ? parse_error::invalid_request_line
                                        : parse_error::invalid_target);
    }
    target_end_ = pos_++;
    mark_ = pos_;
    phase_ = phase::version;
}

// "HTTP/" DIGIT "." DIGIT CR, one byte at a time (case-sensitive: RFC 9112 section 2.3).
void request_parser::on_version(char c) noexcept {
    static constexpr std::string_view pattern = "HTTP/#.#";
    const std::size_t i = pos_ - mark_;
    if (i < pattern.size()) {
        if (pos_ >= line_bound_) return fail_with(line_bound_error_);
        const bool ok = pattern[i] == '#' ? is_digit(c) : c == pattern[i];
        if (!ok) return fail_with(parse_error::invalid_version);
        ++pos_;
        return;
    }
    if (pos_ >= head_bound_) return fail_with(parse_error::header_too_large);
    if (c != '\r') {
        return fail_with(c == '\n' ? parse_error::invalid_line_ending
                                   : parse_error::invalid_version);
    }
    ++pos_;
    phase_ = phase::request_lf;
}

void request_parser::on_request_lf(const char* b, char c) noexcept {
    if (pos_ >= head_bound_) return fail_with(parse_error::header_too_large);
    if (c != '\n') return fail_with(parse_error::invalid_line_ending);
    ++pos_;
    finish_request_line(b);
}

// The line is well-formed; now its meaning: version (505), method (501), target form (400).
void request_parser::finish_request_line(const char* b) noexcept {
    if (b[mark_ + 5] != '1') return fail_with(parse_error::unsupported_version);
    head_.version = b[mark_ + 7] == '0' ? version::http_1_0 : version::http_1_1;
    // b[method_end_] is the SP after the method, so four bytes from its start are in the line.
    const std::size_t method_size = std::size_t{method_end_} - method_start_;
    const auto m = method_size == 3 && detail::load<std::uint32_t>(b + method_start_) == get_sp
                       ? std::optional<method>(method::get)
                       : detail::method_from({b + method_start_, method_size});
    if (!m) return fail_with(parse_error::method_not_implemented);
    head_.method = *m;
    const std::string_view target(b + method_end_ + 1, std::size_t{target_end_} - method_end_ - 1);
    if (target[0] != '/' && !detail::valid_target_form(*m, target))
        return fail_with(parse_error::invalid_target);
    phase_ = phase::field_start;
}

void request_parser::on_field_start(char c) noexcept {
    if (pos_ >= head_bound_) return fail_with(parse_error::header_too_large);
    if (c == '\r') {
        ++pos_;
        phase_ = phase::head_lf;
    } else if (detail::is(c, detail::cls_token)) {
        if (fields_.size() >= limits_.max_header_count) {
            return fail_with(parse_error::too_many_headers);
        }
        line_start_ = pos_++;
        phase_ = phase::field_name;
    } else if (c == ' ' || c == '\t') {
        fail_with(parse_error::obs_fold);  // also whitespace before the first field line
    } else {
        fail_with(c == '\n' ? parse_error::invalid_line_ending : parse_error::invalid_header_name);
    }
}

// The fast path for whole, well-formed field lines from pos_, and the empty line that ends the
// head (see the file comment).
void request_parser::parse_field_lines(const char* b, std::size_t n) noexcept {
    const std::size_t stop = std::min<std::size_t>(n, head_bound_);
    std::size_t p = pos_;
    while (p + 1 < stop) {
        if (b[p] == '\r') {
            if (b[p + 1] != '\n') break;
            pos_ = offset(p + 2);
            return finish_head();
        }
        const std::size_t colon = detail::scan_token(b, p, stop);
        if (colon == p || colon >= stop || b[colon] != ':') break;
        if (fields_.size() >= limits_.max_header_count) break;
        const std::size_t value = detail::scan(b, colon + 1, stop, detail::cls_ows);
        const std::size_t cr = detail::scan_value(b, value, stop);
        if (cr + 1 >= stop || b[cr] != '\r' || b[cr + 1] != '\n') break;
        line_start_ = offset(p);
        colon_ = offset(colon);
        mark_ = offset(value);
        value_end_ = offset(trim_end(b, value, cr));
        pos_ = offset(cr + 2);
        if (!add_field(b)) return;
        p = pos_;
    }
    pos_ = offset(p);
}

std::size_t request_parser::trim_end(const char* b, std::size_t start, std::size_t end) noexcept {
    while (end > start && detail::is(b[end - 1], detail::cls_ows)) --end;
    return end;
}

// Records the field line [line_start_, pos_) and what it means; false when it is an error.
bool request_parser::add_field(const char* b) noexcept {
    const detail::field_span f{line_start_, colon_ - line_start_, mark_, value_end_ - mark_};
    fields_.push_back(f);
    const parse_error e =
        semantics_.note({b + f.name_offset, f.name_size}, {b + f.value_offset, f.value_size});
    if (e != parse_error{}) {
        fail_with(e);
        return false;
    }
    line_start_ = pos_;
    phase_ = phase::field_start;
    return true;
}

void request_parser::finish_head() noexcept {
    const parse_error e = semantics_.finish(head_.version, limits_, head_);
    if (e != parse_error{}) return fail_with(e);
    head_.size = pos_;
    phase_ = phase::complete;
}

void request_parser::scan_field_name(const char* b, std::size_t n) noexcept {
    const std::size_t stop = std::min<std::size_t>(n, head_bound_);
    const std::size_t i = detail::scan(b, pos_, stop, detail::cls_token);
    pos_ = offset(i);
    if (i == n) return;
    if (i == stop) return fail_with(parse_error::header_too_large);
    const char c = b[i];
    if (c != ':') {
        return fail_with(is_line_end(c) ? parse_error::missing_colon
                                        : parse_error::invalid_header_name);
    }
    colon_ = pos_++;
    phase_ = phase::field_ows;
}

void request_parser::scan_field_ows(const char* b, std::size_t n) noexcept {
    const std::size_t stop = std::min<std::size_t>(n, head_bound_);
    const std::size_t i = detail::scan(b, pos_, stop, detail::cls_ows);
    pos_ = offset(i);
    if (i == n) return;
    if (i == stop) return fail_with(parse_error::header_too_large);
    mark_ = pos_;
    phase_ = phase::field_value;
}

void request_parser::scan_field_value(const char* b, std::size_t n) noexcept {
    const std::size_t stop = std::min<std::size_t>(n, head_bound_);
    const std::size_t i = detail::scan_value(b, pos_, stop);
    pos_ = offset(i);
    if (i == n) return;
    if (i == stop) return fail_with(parse_error::header_too_large);
    if (b[i] != '\r') {
        return fail_with(b[i] == '\n' ? parse_error::invalid_line_ending
                                      : parse_error::invalid_header_value);
    }
    value_end_ = offset(trim_end(b, mark_, i));
    ++pos_;
    phase_ = phase::field_lf;
}

void request_parser::on_field_lf(const char* b, char c) noexcept {
    if (pos_ >= head_bound_) return fail_with(parse_error::header_too_large);
    if (c != '\n') return fail_with(parse_error::invalid_line_ending);
    ++pos_;
    add_field(b);
}

void request_parser::on_head_lf(char c) noexcept {
    if (pos_ >= head_bound_) return fail_with(parse_error::header_too_large);
    if (c != '\n') return fail_with(parse_error::invalid_line_ending);
    ++pos_;
    finish_head();
}

void request_parser::bind(const char* b) noexcept {
    head_.method_text = {b + method_start_, std::size_t{method_end_} - method_start_};
    head_.target = {b + method_end_ + 1, std::size_t{target_end_} - method_end_ - 1};
    head_.headers = header_list(b, fields_);
}

}  // namespace opensocket::http
