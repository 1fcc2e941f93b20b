#include "field_semantics_inline.hpp"

#include <limits>

namespace opensocket::http::detail {
namespace {

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && is(s.front(), cls_ows)) s.remove_prefix(1);
    while (!s.empty() && is(s.back(), cls_ows)) s.remove_suffix(1);
    return s;
}

/// Calls `f(element)` for each comma-separated element, trimmed of OWS, empty ones included;
/// stops early and returns false when `f` does.
template <class F>
bool for_each_element(std::string_view list, F f) {
    for (;;) {
        const auto comma = list.find(',');
        if (!f(trim(list.substr(0, comma)))) return false;
        if (comma == std::string_view::npos) return true;
        list.remove_prefix(comma + 1);
    }
}

bool parse_decimal(std::string_view s, std::uint64_t& out) noexcept {
    if (s.empty()) return false;
    std::uint64_t v = 0;
    for (const char c : s) {
        if (c < '0' || c > '9') return false;
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return false;
        v = v * 10 + d;
    }
    out = v;
    return true;
}

bool is_token(std::string_view s) noexcept {
    return !s.empty() && scan(s.data(), 0, s.size(), cls_token) == s.size();
}

}  // namespace

// Every field but Host (`note` has taken that): Expect, Connection, Content-Length and
// Transfer-Encoding matter, the rest cost one switch on the length.
parse_error field_semantics::note_framing(std::string_view name, std::string_view value) noexcept {
    switch (name.size()) {
        case 6:
            if (!field_iequals(name, "expect")) break;
            for_each_element(value, [&](std::string_view e) {
                if (field_iequals(e, "100-continue")) expect_continue = true;
                return true;
            });
            break;
        case 10:
            if (!field_iequals(name, "connection")) break;
            for_each_element(value, [&](std::string_view e) {
                if (field_iequals(e, "close")) close = true;
                if (field_iequals(e, "keep-alive")) keep_alive = true;
                return true;
            });
            break;
        case 14:
            if (!field_iequals(name, "content-length")) break;
            return note_content_length(value);
        case 17:
            if (!field_iequals(name, "transfer-encoding")) break;
            return note_transfer_encoding(value);
        default: break;
    }
    return {};
}

// 1*DIGIT, or a list of identical 1*DIGIT values (RFC 9110 section 8.6): anything else is 400.
parse_error field_semantics::note_content_length(std::string_view value) noexcept {
    parse_error error{};
    for_each_element(value, [&](std::string_view e) {
        std::uint64_t n = 0;
        if (!parse_decimal(e, n)) {
            error = parse_error::invalid_content_length;
        } else if (has_content_length && n != content_length) {
            error = parse_error::content_length_mismatch;
        }
        content_length = n;
        has_content_length = true;
        return error == parse_error{};
    });
    return error;
}

// A list of transfer codings, possibly over several fields; only the order and the names matter
// here: `finish` decides once every field is known.
parse_error field_semantics::note_transfer_encoding(std::string_view value) noexcept {
    bool any = false;
    parse_error error{};
    for_each_element(value, [&](std::string_view e) {
        if (e.empty()) return true;  // empty list elements are ignored (RFC 9110 section 5.6.1)
        any = true;
        const std::string_view coding = trim(e.substr(0, e.find(';')));
        if (!is_token(coding) || (field_iequals(coding, "chunked") && coding.size() != e.size())) {
            error = parse_error::invalid_transfer_encoding;  // chunked takes no parameters
            return false;
        }
        const bool chunked = field_iequals(coding, "chunked");
        chunked_twice = chunked_twice || (chunked && chunked_seen);
        chunked_seen = chunked_seen || chunked;
        chunked_last = chunked;
        other_coding = other_coding || !chunked;
        return true;
    });
    has_transfer_encoding = true;
    if (error == parse_error{} && !any) error = parse_error::invalid_transfer_encoding;
    return error;
}

// RFC 9112 section 6.1 and 6.3: a request with both framings, a TE whose final coding is not
// chunked, or TE in HTTP/1.0 has no reliable length: 400 and close.
parse_error field_semantics::finish_transfer_encoding(version v,
                                                      request_head& head) const noexcept {
    if (has_content_length) return parse_error::content_length_with_transfer_encoding;
    if (v == version::http_1_0 || !chunked_last || chunked_twice) {
        return parse_error::invalid_transfer_encoding;
    }
    if (other_coding) return parse_error::transfer_coding_not_implemented;
    head.body.kind = body_kind::chunked;
    return finish_connection(v, head);
}

}  // namespace opensocket::http::detail
