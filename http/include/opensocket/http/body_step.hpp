#pragma once
/// \file body_step.hpp
/// One step of a body decoder: how much input it used and which body bytes that yielded.

#include <cstddef>
#include <string_view>

namespace opensocket::http {

/// The outcome of one `next(input)` call of a body decoder.
struct body_step {
    /// Bytes of `input` used (framing and data). The caller drops them and passes the rest
    /// (plus newly read bytes) to the next call; the decoder never needs them again.
    std::size_t consumed = 0;
    /// Decoded body bytes: a view into `input` (no copy), possibly empty.
    std::string_view data;
    /// The body is complete; bytes after `consumed` belong to the next request.
    bool done = false;
};

}  // namespace opensocket::http
