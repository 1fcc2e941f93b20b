#pragma once
/// \file field_semantics.hpp
/// Internal: what the framing-relevant fields of a head say (Content-Length, Transfer-Encoding,
/// Connection, Expect, Host), accumulated field by field and checked once the head is complete.

#include <opensocket/http/errors.hpp>
#include <opensocket/http/limits.hpp>
#include <opensocket/http/request_head.hpp>

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace opensocket::http::detail {

/// Accumulator over one head's field lines. `parse_error{}` (zero) means "no error".
struct field_semantics {
    std::uint64_t content_length = 0;
    std::uint32_t host_count = 0;
    bool has_content_length = false;
    bool has_transfer_encoding = false;
    bool chunked_seen = false;   ///< `chunked` was listed
    bool chunked_last = false;   ///< the last transfer coding seen so far is `chunked`
    bool chunked_twice = false;  ///< `chunked` was applied more than once
    bool other_coding = false;   ///< a coding other than `chunked` was listed
    bool close = false;          ///< `Connection: close`
    bool keep_alive = false;     ///< `Connection: keep-alive`
    bool expect_continue = false;

    /// Records one field line (value already trimmed); errors on a malformed framing field.
    /// Inline: a request's fields are mostly Host and fields that are none of these (one length
    /// test); the framing fields, rarer, are looked at out of line.
    parse_error note(std::string_view name, std::string_view value) noexcept {
        switch (name.size()) {
            case 4:
                if (is_host(name) && ++host_count > 1) return parse_error::invalid_host;
                return {};
            case 6:
            case 10:
            case 14:
            case 17: return note_framing(name, value);
            default: return {};
        }
    }

    /// Checks the fields together and fills `head.body`, `keep_alive` and `expect_continue`.
    parse_error finish(version v, const parser_limits& limits, request_head& head) const noexcept {
        head.body = {};
        if (has_transfer_encoding) return finish_transfer_encoding(v, head);
        if (has_content_length) {
            if (content_length > limits.max_body_size) return parse_error::body_too_large;
            head.body = {body_kind::content_length, content_length};
        }
        return finish_connection(v, head);
    }

private:
    /// "Host" in any case: ORing 0x20 into each byte folds the letters, and no other field-name
    /// byte folds onto one of them (see `field_iequals` in chars.hpp).
    static bool is_host(std::string_view name) noexcept {
        constexpr auto host = std::bit_cast<std::uint32_t>(std::array<char, 4>{'h', 'o', 's', 't'});
        std::uint32_t w;
        std::memcpy(&w, name.data(), sizeof w);
        return (w | 0x20202020u) == host;
    }
    parse_error note_framing(std::string_view name, std::string_view value) noexcept;
    parse_error note_content_length(std::string_view value) noexcept;
    parse_error note_transfer_encoding(std::string_view value) noexcept;
    parse_error finish_transfer_encoding(version v, request_head& head) const noexcept;
    /// Host, keep-alive and Expect, once the body framing is settled.
    parse_error finish_connection(version v, request_head& head) const noexcept {
        // RFC 9112 section 3.2: an HTTP/1.1 request without Host is 400 (duplicates fail in note).
        if (v == version::http_1_1 && host_count == 0) return parse_error::invalid_host;
        head.keep_alive = v == version::http_1_1 ? !close : keep_alive && !close;
        head.expect_continue = v == version::http_1_1 && expect_continue;
        return {};
    }
};

}  // namespace opensocket::http::detail
