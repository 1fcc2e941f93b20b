#pragma once
/// \file errors.hpp
/// Why a request was rejected, and the HTTP status code that tells the client so. Every error
/// of the parser layer is a `parse_error` in the "opensocket.http" category; the connection must
/// answer with `status_code(e)` and then close (a parse error leaves the framing unknown).

#include <system_error>

namespace opensocket::http {

/// A rejected request. Values start at 1: a zero `std::error_code` means success.
enum class parse_error {
    // 400 Bad Request: syntax (RFC 9112 section 2-5).
    invalid_request_line = 1,  ///< not `method SP target SP version CRLF` (extra or missing parts)
    invalid_method,            ///< the method holds a character that is not a token character
    invalid_target,            ///< a control, space or non-ASCII byte, or a form the method forbids
    invalid_version,           ///< not `HTTP/` DIGIT `.` DIGIT (e.g. `http/1.1`, `HTTP/1.10`)
    invalid_line_ending,       ///< a bare CR or a bare LF: every line must end in CRLF
    obs_fold,                  ///< a field line starting with SP or HTAB (obsolete line folding)
    invalid_header_name,       ///< empty name, a non-token character, or whitespace before ':'
    missing_colon,             ///< a field line without ':'
    invalid_header_value,      ///< NUL, DEL or another control character (HTAB is allowed)
    invalid_host,              ///< HTTP/1.1 without `Host`, or more than one `Host` field
    // 400 Bad Request: message framing (RFC 9112 section 6).
    invalid_content_length,   ///< not 1*DIGIT (signs, spaces, empty members) or too large
    content_length_mismatch,  ///< duplicate Content-Length values that differ (`5, 6`)
    content_length_with_transfer_encoding,  ///< both framings present: a smuggling vector
    invalid_transfer_encoding,  ///< final coding not chunked, chunked twice, empty, or HTTP/1.0
    invalid_chunk_size,         ///< not 1*HEXDIG, or more than 32 hex digits
    chunk_size_overflow,        ///< a chunk size above 2^64 - 1
    invalid_chunk_extension,    ///< a chunk extension that is not `;name[=token|"quoted"]`
    chunk_extension_too_long,   ///< the body's chunk extensions exceed the limit
    invalid_chunk_data,         ///< chunk data not followed by CRLF
    // 413, 414, 431: limits (parser_limits).
    body_too_large,         ///< 413: Content-Length or the chunked body exceeds max_body_size
    request_line_too_long,  ///< 414: the request line exceeds max_request_line
    header_too_large,       ///< 431: the head exceeds max_header_bytes
    too_many_headers,       ///< 431: more than max_header_count field lines
    trailer_too_large,      ///< 431: the trailer section exceeds the header limits
    // 501, 505: well-formed but not supported.
    method_not_implemented,           ///< 501: not GET HEAD POST PUT DELETE OPTIONS PATCH
    transfer_coding_not_implemented,  ///< 501: a transfer coding other than chunked (e.g. gzip)
    unsupported_version,              ///< 505: an HTTP major version other than 1
};

/// The "opensocket.http" error category. Thread-safe; lives for the whole program.
const std::error_category& parse_error_category() noexcept;

/// Makes `parse_error` usable as a `std::error_code` (found by ADL).
inline std::error_code make_error_code(parse_error e) noexcept {
    return {static_cast<int>(e), parse_error_category()};
}

/// The status code to answer `e` with: 400, 413, 414, 431, 501 or 505.
int status_code(parse_error e) noexcept;

/// `status_code(parse_error)` for a code in the "opensocket.http" category; 500 for any other
/// code (not the client's fault) and 200 for success.
int status_code(std::error_code ec) noexcept;

}  // namespace opensocket::http

template <>
struct std::is_error_code_enum<opensocket::http::parse_error> : std::true_type {};
