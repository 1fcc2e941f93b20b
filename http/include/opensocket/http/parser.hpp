#pragma once
/// \file parser.hpp
/// The incremental, zero-copy HTTP/1.1 request head parser (RFC 9112 sections 2-6).
///
/// The caller owns a contiguous buffer that starts at the first byte of a request and grows as
/// bytes arrive; it may move (be reallocated) between calls. The parser keeps offsets, never
/// pointers, and resumes where it stopped, so feeding n bytes in any number of pieces costs
/// O(n). Once the head is complete, `head()` exposes views into the buffer:
///
/// ```cpp
/// request_parser parser;                       // one per connection, reused per request
/// for (;;) {
///     auto r = parser.parse(buffer_view);      // the unconsumed bytes, request first
///     if (!r) return reply_and_close(status_code(r.error()));
///     if (*r == parse_status::incomplete) { read_more(); continue; }
///     const request_head& head = parser.head();   // views into buffer_view
///     // ... read head.body (body_decoder), answer, consume head.size + body bytes ...
///     parser.next();
/// }
/// ```

#include <opensocket/http/detail/field_semantics.hpp>
#include <opensocket/http/errors.hpp>
#include <opensocket/http/limits.hpp>
#include <opensocket/http/request_head.hpp>
#include <opensocket/result.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace opensocket::http {

/// What `request_parser::parse` found.
enum class parse_status : std::uint8_t {
    incomplete,  ///< the head is not complete yet: read more and call `parse` again
    complete,    ///< `head()` is ready
};

/// Parses request heads one after another on one connection. Not thread-safe (one per
/// connection). Steady state allocates nothing: the field table keeps its capacity across
/// requests and grows only when a request has more fields than any before (an allocation
/// failure there terminates, as `noexcept` implies).
class request_parser {
public:
    /// A parser enforcing `limits` (see `parser_limits` for the defaults).
    explicit request_parser(const parser_limits& limits = {}) noexcept;

    /// Parses as much of the head as `data` holds. `data` must start at the request's first byte
    /// and hold every byte given in earlier calls for this request (it may have moved and grown,
    /// never shrunk or changed); bytes past the head (body, pipelined requests) are not read.
    /// Returns `complete` (then `head()` is valid), `incomplete`, or the first error in byte
    /// order: the same result whatever the split of the input into calls. After an error the
    /// parser stays failed and returns that error until `reset()`. After `complete` it returns
    /// `complete` again (rebinding `head()` to `data`) until `next()`.
    result<parse_status> parse(std::string_view data) noexcept;
    result<parse_status> parse(std::span<const std::byte> data) noexcept {
        return parse(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
    }

    /// The complete head, as views into the `data` of the last `parse` call: valid until that
    /// buffer moves or changes, or until the next call to `parse`, `next` or `reset`.
    /// Precondition: the last `parse` returned `complete`.
    const request_head& head() const noexcept { return head_; }

    /// Prepares for the next request on the same connection, once the caller has consumed this
    /// request's head and body: the next `parse` gets a buffer starting at the next request.
    /// A failed parser stays failed: a request after a framing error is never parsed.
    void next() noexcept;

    /// Forgets everything, errors included: for a new connection.
    void reset() noexcept;

    /// An error was returned; only `reset()` clears it.
    bool failed() const noexcept { return phase_ == phase::failed; }
    /// The limits in force (after clamping, see `parser_limits`).
    const parser_limits& limits() const noexcept { return limits_; }

private:
    enum class phase : std::uint8_t {
        request_start,  // before the method; empty lines (CRLF) are skipped here
        leading_lf,
        method,
        target,
        version,
        request_lf,
        field_start,
        field_name,
        field_ows,
        field_value,
        field_lf,
        head_lf,
        complete,
        failed,
    };

    bool parse_whole_head(const char* b, std::size_t n) noexcept;
    bool fail_fast() noexcept;
    void run_phase(const char* b, std::size_t n) noexcept;
    void parse_request_line(const char* b, std::size_t n) noexcept;
    void parse_field_lines(const char* b, std::size_t n) noexcept;
    void start_request_line() noexcept;
    void on_request_start(char c) noexcept;
    void on_leading_lf(char c) noexcept;
    void scan_method(const char* b, std::size_t n) noexcept;
    void scan_target(const char* b, std::size_t n) noexcept;
    void on_version(char c) noexcept;
    void on_request_lf(const char* b, char c) noexcept;
    void finish_request_line(const char* b) noexcept;
    void on_field_start(char c) noexcept;
    void scan_field_name(const char* b, std::size_t n) noexcept;
    void scan_field_ows(const char* b, std::size_t n) noexcept;
    void scan_field_value(const char* b, std::size_t n) noexcept;
    void on_field_lf(const char* b, char c) noexcept;
    void on_head_lf(char c) noexcept;
    bool add_field(const char* b) noexcept;
    void finish_head() noexcept;
    void bind(const char* b) noexcept;
    void fail_with(parse_error e) noexcept;

    parser_limits limits_;
    std::vector<detail::field_span> fields_;
    detail::field_semantics semantics_;
    request_head head_;
    std::uint32_t pos_ = 0;         // next byte to examine, from the start of the request
    std::uint32_t line_start_ = 0;  // start of the current field line
    std::uint32_t mark_ = 0;        // start of the current element (target, version, value)
    std::uint32_t method_start_ = 0;
    std::uint32_t method_end_ = 0;
    std::uint32_t target_end_ = 0;
    std::uint32_t colon_ = 0;
    std::uint32_t value_end_ = 0;
    std::uint32_t line_bound_ = 0;  // request line bytes at or past this are over a limit
    std::uint32_t head_bound_ = 0;  // head bytes at or past this are over max_header_bytes
    parse_error line_bound_error_ = parse_error::request_line_too_long;
    parse_error error_{};
    phase phase_ = phase::request_start;
};

}  // namespace opensocket::http
