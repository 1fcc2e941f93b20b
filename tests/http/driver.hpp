#pragma once
// A connection loop in miniature for the parser tests and the fuzz target: feeds an input in
// pieces (each piece appended to a freshly allocated buffer, so the buffer moves between calls,
// as a growing read buffer does), parses heads, decodes bodies, consumes bytes, and records
// what happened as text, so that two runs compare with ==. No gtest here: the fuzz target
// links this file too.

#include <opensocket/http/limits.hpp>
#include <opensocket/http/request_head.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace http_test {

/// What a driven input produced.
struct outcome {
    std::vector<std::string> requests;    ///< one description per complete request, with body
    std::error_code error;                ///< the error the connection ended with, if any
    std::string state;                    ///< "idle", "partial-head" or "partial-body" (no error)
    std::vector<std::string> violations;  ///< broken invariants (views outside the buffer...)

    /// Everything but the violations, as one string: equal outcomes have equal transcripts.
    std::string transcript() const;
};

/// Feeds `input` cut at `cuts` (ascending offsets into `input`; empty: in one piece).
outcome drive(std::string_view input, std::span<const std::size_t> cuts,
              const opensocket::http::parser_limits& limits = {});

/// `drive` with the input in one piece, and one byte at a time.
outcome drive_whole(std::string_view input, const opensocket::http::parser_limits& limits = {});
outcome drive_bytewise(std::string_view input, const opensocket::http::parser_limits& limits = {});

/// A one-line description of a head: request line, derived fields and every header.
std::string describe(const opensocket::http::request_head& head);

/// Small limits for short limit vectors: request line 64, head 256 bytes, 4 fields, body 64,
/// chunk extensions 32.
opensocket::http::parser_limits small_limits();

}  // namespace http_test
