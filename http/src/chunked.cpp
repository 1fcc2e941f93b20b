#include <opensocket/http/chunked.hpp>

#include "chars.hpp"

#include <algorithm>
#include <limits>

// chunked-body = *chunk last-chunk trailer-section CRLF           (RFC 9112 section 7.1)
// chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
// chunk-ext    = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
// Framing bytes go through on_byte one at a time (they are few); data is handed out in bulk.

namespace opensocket::http {
namespace {

constexpr std::uint8_t max_size_digits = 32;  // leading zeros included

bool is_ws(char c) noexcept { return c == ' ' || c == '\t'; }

}  // namespace

chunked_decoder::chunked_decoder(const parser_limits& limits) noexcept : limits_(limits) {}

void chunked_decoder::reset() noexcept { *this = chunked_decoder(limits_); }

void chunked_decoder::fail_with(parse_error e) noexcept {
    error_ = e;
    state_ = state::failed;
}

result<body_step> chunked_decoder::next(std::string_view input) noexcept {
    std::size_t i = 0;
    while (i < input.size() && state_ < state::done) {
        if (state_ == state::data) {
            const auto take =
                static_cast<std::size_t>(std::min<std::uint64_t>(chunk_left_, input.size() - i));
            chunk_left_ -= take;
            if (chunk_left_ == 0) state_ = state::data_cr;
            return body_step{i + take, input.substr(i, take), false};
        }
        on_byte(input[i++]);
    }
    if (state_ == state::failed) return fail(error_);
    return body_step{i, {}, state_ == state::done};
}

void chunked_decoder::on_byte(char c) noexcept {
    switch (state_) {
        case state::size_first:
            if (!detail::is(c, detail::cls_hex)) return fail_with(parse_error::invalid_chunk_size);
            return on_size_digit(c);
        case state::size:
            if (detail::is(c, detail::cls_hex)) return on_size_digit(c);
            return end_size(c);
        case state::ext_ws:
        case state::ext_name_ws:
        case state::ext_name:
        case state::ext_after_name:
        case state::ext_value_ws:
        case state::ext_value:
        case state::ext_after_quoted:
        case state::ext_quoted:
        case state::ext_quoted_pair: return on_extension(c);
        case state::size_lf:
        case state::data_cr:
        case state::data_lf:
        case state::final_lf: return on_crlf(c);
        case state::trailer_start:
        case state::trailer_name:
        case state::trailer_value:
        case state::trailer_lf: return on_trailer(c);
        case state::data:
        case state::done:
        case state::failed: return;
    }
}

void chunked_decoder::on_size_digit(char c) noexcept {
    if (++digits_ > max_size_digits) return fail_with(parse_error::invalid_chunk_size);
    if (chunk_left_ > std::numeric_limits<std::uint64_t>::max() >> 4) {
        return fail_with(parse_error::chunk_size_overflow);
    }
    chunk_left_ = chunk_left_ << 4 | static_cast<std::uint64_t>(detail::hex_value(c));
    state_ = state::size;
}

// The size is known at its first non-digit: check the body limit before any data arrives.
void chunked_decoder::end_size(char c) noexcept {
    if (chunk_left_ > limits_.max_body_size - declared_) {
        return fail_with(parse_error::body_too_large);
    }
    declared_ += chunk_left_;
    if (c == '\r') {
        state_ = state::size_lf;
    } else if (c == ';' || is_ws(c)) {
        state_ = state::ext_ws;
        on_extension(c);
    } else {
        fail_with(c == '\n' ? parse_error::invalid_line_ending : parse_error::invalid_chunk_size);
    }
}

// Extensions are validated (token or quoted-string values) and ignored.
void chunked_decoder::on_extension(char c) noexcept {
    if (c == '\r' && (state_ == state::ext_name || state_ == state::ext_value ||
                      state_ == state::ext_after_quoted)) {
        return enter(state::size_lf);
    }
    if (++extension_bytes_ > limits_.max_chunk_extensions) {
        return fail_with(parse_error::chunk_extension_too_long);
    }
    state_ = extension_step(state_, c);
    if (state_ == state::failed) fail_with(parse_error::invalid_chunk_extension);
}

// The state after byte `c` of a chunk extension in state `s`, or `failed`.
chunked_decoder::state chunked_decoder::extension_step(state s, char c) noexcept {
    const bool token = detail::is(c, detail::cls_token);
    const bool ws = is_ws(c);
    switch (s) {
        case state::ext_ws:
            if (c == ';') return state::ext_name_ws;
            return ws ? s : state::failed;
        case state::ext_name_ws:
            if (token) return state::ext_name;
            return ws ? s : state::failed;
        case state::ext_name:
            if (token) return s;
            [[fallthrough]];
        case state::ext_after_name:
            if (c == '=') return state::ext_value_ws;
            if (c == ';') return state::ext_name_ws;
            return ws ? state::ext_after_name : state::failed;
        case state::ext_value_ws:
            if (token) return state::ext_value;
            if (c == '"') return state::ext_quoted;
            return ws ? s : state::failed;
        case state::ext_value:
            if (token) return s;
            [[fallthrough]];
        case state::ext_after_quoted:
            if (c == ';') return state::ext_name_ws;
            return ws ? state::ext_ws : state::failed;
        case state::ext_quoted:
            if (c == '\\') return state::ext_quoted_pair;
            if (c == '"') return state::ext_after_quoted;
            return detail::is(c, detail::cls_qdtext) ? s : state::failed;
        case state::ext_quoted_pair:  // "\" ( HTAB / SP / VCHAR / obs-text )
            return detail::is(c, detail::cls_value) ? state::ext_quoted : state::failed;
        default: return state::failed;
    }
}

// The LF of a chunk-size line, the CRLF after chunk data, and the final LF of the body.
void chunked_decoder::on_crlf(char c) noexcept {
    if (state_ == state::data_cr) {
        if (c != '\r') return fail_with(parse_error::invalid_chunk_data);
        return enter(state::data_lf);
    }
    if (c != '\n') return fail_with(parse_error::invalid_line_ending);
    switch (state_) {
        case state::size_lf:
            digits_ = 0;
            return enter(chunk_left_ == 0 ? state::trailer_start : state::data);
        case state::data_lf: return enter(state::size_first);
        default: return enter(state::done);  // final_lf
    }
}

// trailer-section = *( field-line CRLF ): validated like header fields, then dropped.
void chunked_decoder::on_trailer(char c) noexcept {
    if (++trailer_bytes_ > limits_.max_header_bytes) {
        return fail_with(parse_error::trailer_too_large);
    }
    switch (state_) {
        case state::trailer_start: return on_trailer_start(c);
        case state::trailer_name:
            if (c == ':') return enter(state::trailer_value);
            if (detail::is(c, detail::cls_token)) return;
            return fail_with(c == '\r' || c == '\n' ? parse_error::missing_colon
                                                    : parse_error::invalid_header_name);
        case state::trailer_value:
            if (c == '\r') return enter(state::trailer_lf);
            if (detail::is(c, detail::cls_value)) return;
            return fail_with(c == '\n' ? parse_error::invalid_line_ending
                                       : parse_error::invalid_header_value);
        default:  // trailer_lf
            if (c != '\n') return fail_with(parse_error::invalid_line_ending);
            return enter(state::trailer_start);
    }
}

void chunked_decoder::on_trailer_start(char c) noexcept {
    if (c == '\r') return enter(state::final_lf);
    if (is_ws(c)) return fail_with(parse_error::obs_fold);
    if (!detail::is(c, detail::cls_token)) {
        return fail_with(c == '\n' ? parse_error::invalid_line_ending
                                   : parse_error::invalid_header_name);
    }
    if (++trailer_count_ > limits_.max_header_count) {
        return fail_with(parse_error::trailer_too_large);
    }
    enter(state::trailer_name);
}

}  // namespace opensocket::http
