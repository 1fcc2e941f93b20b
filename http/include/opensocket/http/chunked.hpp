#pragma once
/// \file chunked.hpp
/// The incremental decoder for `Transfer-Encoding: chunked` bodies (RFC 9112 section 7.1):
/// hexadecimal chunk sizes with overflow detection, chunk extensions (validated, ignored),
/// chunk data handed out as views into the input, the trailer section (validated like header
/// fields, then ignored) and the final CRLF.

#include <opensocket/http/body_step.hpp>
#include <opensocket/http/errors.hpp>
#include <opensocket/http/limits.hpp>
#include <opensocket/result.hpp>

#include <cstdint>
#include <string_view>

namespace opensocket::http {

/// Decodes one chunked body at a time; any split of the input gives the same bytes and the same
/// error. A state machine: it keeps no input, so the caller may drop consumed bytes at once.
/// Not thread-safe; no allocation.
///
/// ```cpp
/// while (!input.empty()) {
///     auto step = decoder.next(input);
///     if (!step) return reply_and_close(status_code(step.error()));
///     deliver(step->data);                 // a view into input
///     input.remove_prefix(step->consumed);
///     if (step->done) break;               // input now starts at the next request
/// }
/// ```
class chunked_decoder {
public:
    /// A decoder enforcing `max_body_size` (413), `max_chunk_extensions` (400) and, for the
    /// trailer section, `max_header_bytes` and `max_header_count` (431).
    explicit chunked_decoder(const parser_limits& limits = {}) noexcept;

    /// Decodes from `input` up to and including the first run of chunk data it reaches (one
    /// `data` view per call), or to the end of `input`, or to the end of the body. Errors are
    /// sticky: once failed, every call returns the same error.
    result<body_step> next(std::string_view input) noexcept;

    /// Starts a new body (keeps the limits).
    void reset() noexcept;

    bool done() const noexcept { return state_ == state::done; }
    /// Sum of the chunk sizes read so far (the body size once `done()`).
    std::uint64_t body_size() const noexcept { return declared_; }

private:
    enum class state : std::uint8_t {
        size_first,
        size,
        ext_ws,       // BWS before the next ';'
        ext_name_ws,  // BWS after ';', before the name
        ext_name,
        ext_after_name,  // BWS after the name: '=' or ';' follows
        ext_value_ws,    // BWS after '='
        ext_value,
        ext_quoted,
        ext_quoted_pair,
        ext_after_quoted,
        size_lf,
        data,
        data_cr,
        data_lf,
        trailer_start,
        trailer_name,
        trailer_value,
        trailer_lf,
        final_lf,
        done,
        failed,
    };

    void on_byte(char c) noexcept;
    void on_size_digit(char c) noexcept;
    void end_size(char c) noexcept;
    void on_extension(char c) noexcept;
    static state extension_step(state s, char c) noexcept;
    void on_crlf(char c) noexcept;
    void on_trailer(char c) noexcept;
    void on_trailer_start(char c) noexcept;
    void enter(state s) noexcept { state_ = s; }
    void fail_with(parse_error e) noexcept;

    parser_limits limits_;
    std::uint64_t chunk_left_ = 0;  // data bytes left in the current chunk (its size while read)
    std::uint64_t declared_ = 0;
    std::size_t extension_bytes_ = 0;
    std::size_t trailer_bytes_ = 0;
    std::size_t trailer_count_ = 0;
    std::uint8_t digits_ = 0;
    state state_ = state::size_first;
    parse_error error_{};
};

}  // namespace opensocket::http
