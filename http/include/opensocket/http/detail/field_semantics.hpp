#pragma once
/// \file field_semantics.hpp
/// Internal: what the framing-relevant fields of a head say (Content-Length, Transfer-Encoding,
/// Connection, Expect, Host), accumulated field by field and checked once the head is complete.

#include <opensocket/http/errors.hpp>
#include <opensocket/http/limits.hpp>
#include <opensocket/http/request_head.hpp>

#include <cstdint>
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
    /// Inline (defined in http/src/field_semantics_inline.hpp, for the parser): Host, in nearly
    /// every request, costs no call; the other framing fields are looked at out of line.
    inline parse_error note(std::string_view name, std::string_view value) noexcept;

    /// Checks the fields together and fills `head.body`, `keep_alive` and `expect_continue`.
    /// Inline, like `note`.
    inline parse_error finish(version v, const parser_limits& limits,
                              request_head& head) const noexcept;

private:
    parse_error note_framing(std::string_view name, std::string_view value) noexcept;
    parse_error note_content_length(std::string_view value) noexcept;
    parse_error note_transfer_encoding(std::string_view value) noexcept;
    parse_error finish_transfer_encoding(version v, request_head& head) const noexcept;
    /// Host, keep-alive and Expect, once the body framing is settled.
    inline parse_error finish_connection(version v, request_head& head) const noexcept;
};

}  // namespace opensocket::http::detail
