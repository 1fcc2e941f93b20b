#include <opensocket/http/parser.hpp>

#include "chars.hpp"
#include "field_semantics_inline.hpp"
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

std::size_t trim_end(const char* b, std::size_t start, std::size_t end) noexcept {
    while (end > start && detail::is(b[end - 1], detail::cls_ows)) --end;
    return end;
}

// The byte syntax of the fast paths (see the file comment): where a whole, well-formed line
// starting at `from` puts its parts, or nullopt for anything else. `stop` bounds the head;
// `line_end` also bounds the request line (the CR may sit at it, not past it).

struct request_line_marks {
    std::size_t sp1, sp2, cr;  // the SP after the method, the SP after the target, the CR
};

// method SP request-target SP "HTTP/" DIGIT "." DIGIT CRLF
[[gnu::always_inline]] inline std::optional<request_line_marks> request_line_at(
    const char* b, std::size_t from, std::size_t line_end, std::size_t stop) noexcept {
    const std::size_t sp1 = from + 4 <= line_end && detail::load<std::uint32_t>(b + from) == get_sp
                                ? from + 3
                                : detail::scan_token(b, from, line_end);
    if (sp1 == from || sp1 >= line_end || b[sp1] != ' ') return std::nullopt;
    const std::size_t sp2 = detail::scan_target(b, sp1 + 1, line_end);
    if (sp2 == sp1 + 1 || sp2 >= line_end || b[sp2] != ' ') return std::nullopt;
    const std::size_t v = sp2 + 1;
    const std::size_t cr = v + 8;
    if (cr > line_end || cr + 1 >= stop || detail::load<std::uint16_t>(b + cr) != crlf)
        return std::nullopt;
    if (detail::load<std::uint64_t>(b + v) != http_1_1 &&
        (std::string_view(b + v, 5) != "HTTP/" || !is_digit(b[v + 5]) || b[v + 6] != '.' ||
         !is_digit(b[v + 7]))) {
        return std::nullopt;
    }
    return request_line_marks{sp1, sp2, cr};
}

// What a well-formed request line [from, ...) means: version (505), method (501), target form
// (400), in that order; parse_error{} when all are fine.
inline parse_error request_line_meaning(const char* b, std::size_t from, std::size_t sp1,
                                        std::size_t sp2, method& m, version& v) noexcept {
    if (b[sp2 + 6] != '1') return parse_error::unsupported_version;
    v = b[sp2 + 8] == '0' ? version::http_1_0 : version::http_1_1;
    // b[sp1] is the SP after the method, so four bytes from its start are in the line.
    const std::size_t method_size = sp1 - from;
    const auto known = method_size == 3 && detail::load<std::uint32_t>(b + from) == get_sp
                           ? std::optional<method>(method::get)
                           : detail::method_from({b + from, method_size});
    if (!known) return parse_error::method_not_implemented;
    m = *known;
    if (b[sp1 + 1] != '/' && !detail::valid_target_form(m, {b + sp1 + 1, sp2 - sp1 - 1}))
        return parse_error::invalid_target;
    return {};
}

struct field_line_marks {
    std::size_t colon, value, value_end, cr;  // the value without OWS on either side
};

// field-name ":" OWS field-value OWS CRLF
inline std::optional<field_line_marks> field_line_at(const char* b, std::size_t from,
                                                     std::size_t stop) noexcept {
    const std::size_t colon = detail::scan_token(b, from, stop);
    if (colon == from || colon >= stop || b[colon] != ':') return std::nullopt;
    const std::size_t value = detail::scan(b, colon + 1, stop, detail::cls_ows);
    const std::size_t cr = detail::scan_value(b, value, stop);
    if (cr + 1 >= stop || detail::load<std::uint16_t>(b + cr) != crlf) return std::nullopt;
    return field_line_marks{colon, value, trim_end(b, value, cr), cr};
}

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
    const auto line =
        request_line_at(b, 0, std::min<std::size_t>(stop, limits_.max_request_line), stop);
    if (!line || request_line_meaning(b, 0, line->sp1, line->sp2, head_.method, head_.version) !=
                     parse_error{}) {
        return false;
    }
    std::size_t p = line->cr + 2;
    for (;;) {  // *( field-line CRLF ) CRLF
        if (p + 1 >= stop) return fail_fast();
        if (b[p] == '\r') {
            if (b[p + 1] != '\n') return fail_fast();
            p += 2;
            break;
        }
        if (fields_.size() >= limits_.max_header_count) return fail_fast();
        const auto f = field_line_at(b, p, stop);
        if (!f) return fail_fast();
        const detail::field_span span{offset(p), offset(f->colon - p), offset(f->value),
                                      offset(f->value_end - f->value)};
        fields_.push_back(span);
        if (semantics_.note({b + p, span.name_size}, {b + f->value, span.value_size}) !=
            parse_error{})
            return fail_fast();
        p = f->cr + 2;
    }
    if (semantics_.finish(head_.version, limits_, head_) != parse_error{}) return fail_fast();
    head_.size = p;
    method_start_ = 0;
    method_end_ = offset(line->sp1);
    target_end_ = offset(line->sp2);
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
    const auto line = request_line_at(b, pos_, std::min<std::size_t>(n, line_bound_),
                                      std::min<std::size_t>(n, head_bound_));
    if (!line) return;
    method_end_ = offset(line->sp1);
    target_end_ = offset(line->sp2);
    mark_ = offset(line->sp2 + 1);
    pos_ = offset(line->cr + 2);
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
    const parse_error e = request_line_meaning(b, method_start_, method_end_, target_end_,
                                               head_.method, head_.version);
    if (e != parse_error{}) return fail_with(e);
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
        if (fields_.size() >= limits_.max_header_count) break;
        const auto f = field_line_at(b, p, stop);
        if (!f) break;
        line_start_ = offset(p);
        colon_ = offset(f->colon);
        mark_ = offset(f->value);
        value_end_ = offset(f->value_end);
        pos_ = offset(f->cr + 2);
        if (!add_field(b)) return;
        p = pos_;
    }
    pos_ = offset(p);
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
