#pragma once
/// \file body.hpp
/// One decoder for every request body framing, so that the connection loop has a single path:
/// none (done at once), Content-Length (a byte count) or chunked (`chunked_decoder`).

#include <opensocket/http/body_step.hpp>
#include <opensocket/http/chunked.hpp>
#include <opensocket/http/limits.hpp>
#include <opensocket/http/request_head.hpp>
#include <opensocket/result.hpp>

#include <cstdint>
#include <string_view>

namespace opensocket::http {

/// Reads the body that `request_head::body` announces. Not thread-safe; no allocation.
/// Content-Length was checked against `max_body_size` by the head parser; a chunked body is
/// checked as its chunk sizes arrive.
class body_decoder {
public:
    explicit body_decoder(const parser_limits& limits = {}) noexcept : chunked_(limits) {}

    /// Starts reading a body framed as `framing` (for the next request, too).
    void start(const body_framing& framing) noexcept;

    /// Same contract as `chunked_decoder::next`. For `none`, returns `{0, {}, true}`; for
    /// Content-Length, the first `min(remaining, input.size())` bytes of `input`.
    result<body_step> next(std::string_view input) noexcept;

    /// The whole body was read.
    bool done() const noexcept;

    /// Body bytes still expected for Content-Length; 0 otherwise.
    std::uint64_t remaining() const noexcept { return remaining_; }

private:
    chunked_decoder chunked_;
    std::uint64_t remaining_ = 0;
    body_kind kind_ = body_kind::none;
};

}  // namespace opensocket::http
