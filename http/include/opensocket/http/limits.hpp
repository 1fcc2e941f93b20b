#pragma once
/// \file limits.hpp
/// The bounds a request must stay within. Every limit is enforced as the bytes arrive, so a
/// client that never ends a line still gets its error once it crosses the bound.

#include <cstddef>
#include <cstdint>

namespace opensocket::http {

/// Limits for the head parser and the body decoders. A plain value; copy it into each parser.
struct parser_limits {
    /// Bytes of the request line, without its CRLF (method, target, version): above → 414.
    std::size_t max_request_line = 8 * 1024;
    /// Bytes of the whole head: leading empty lines, request line, field lines and the final
    /// CRLF (above → 431). Also bounds a chunked body's trailer section. Clamped to 2^31.
    std::size_t max_header_bytes = 64 * 1024;
    /// Field lines in the head (and in a trailer section): above → 431.
    std::size_t max_header_count = 100;
    /// Body bytes (Content-Length, or the sum of chunk sizes): above → 413.
    std::uint64_t max_body_size = 1024 * 1024;
    /// Bytes of chunk extensions over a whole chunked body: above → 400. Extensions are
    /// parsed and ignored; the bound keeps a body of tiny chunks from being mostly metadata.
    std::size_t max_chunk_extensions = 16 * 1024;
};

}  // namespace opensocket::http
