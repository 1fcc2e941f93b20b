#pragma once
// Internal: the inline members of field_semantics (for the parser's per-field loop and
// field_semantics.cpp). Only translation units of the HTTP parser include this.

#include "chars.hpp"

#include <opensocket/http/detail/field_semantics.hpp>

namespace opensocket::http::detail {

inline parse_error field_semantics::note(std::string_view name, std::string_view value) noexcept {
    if (name.size() == 4) {
        if (field_iequals(name, "host") && ++host_count > 1) return parse_error::invalid_host;
        return {};
    }
    return note_framing(name, value);
}

inline parse_error field_semantics::finish(version v, const parser_limits& limits,
                                           request_head& head) const noexcept {
    head.body = {};
    if (has_transfer_encoding) return finish_transfer_encoding(v, head);
    if (has_content_length) {
        if (content_length > limits.max_body_size) return parse_error::body_too_large;
        head.body = {body_kind::content_length, content_length};
    }
    return finish_connection(v, head);
}

inline parse_error field_semantics::finish_connection(version v,
                                                      request_head& head) const noexcept {
    // RFC 9112 section 3.2: an HTTP/1.1 request without Host is 400 (duplicates fail in note).
    if (v == version::http_1_1 && host_count == 0) return parse_error::invalid_host;
    head.keep_alive = v == version::http_1_1 ? !close : keep_alive && !close;
    head.expect_continue = v == version::http_1_1 && expect_continue;
    return {};
}

}  // namespace opensocket::http::detail
