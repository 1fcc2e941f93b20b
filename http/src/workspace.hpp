#pragma once
// The per-request working memory of a connection: input and output buffers, the parser and the
// body decoder. Borrowed from a per-thread pool while a request is in progress, so an idle
// keep-alive connection pins none of it.

#include "out_buffer.hpp"

#include <opensocket/http/body.hpp>
#include <opensocket/http/limits.hpp>
#include <opensocket/http/parser.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace opensocket::http::detail {

struct workspace {
    explicit workspace(const parser_limits& l);

    std::vector<char> in;   ///< input; `in.size()` is its capacity
    std::size_t begin = 0;  ///< first byte of the current request
    std::size_t end = 0;    ///< one past the last byte read
    request_parser parser;
    body_decoder body;
    bool body_started = false;   ///< `body.start()` was called for the current request
    bool continue_sent = false;  ///< `100 Continue` was sent for the current request
    std::size_t body_used = 0;   ///< bytes after the head consumed by the chunked decoder
    std::string body_buf;        ///< decoded chunked body
    out_buffer out;              ///< responses not yet written

    bool input_empty() const noexcept { return begin == end; }
    /// Ready for the next request on the same connection.
    void next_request() noexcept;
};

/// Borrows a workspace for `limits` from this thread's pool (allocates only when it is empty).
std::unique_ptr<workspace> acquire_workspace(const parser_limits& limits);
/// Returns it: reset, trimmed if a large request grew it, cached unless the pool is full.
void release_workspace(std::unique_ptr<workspace> w) noexcept;

}  // namespace opensocket::http::detail
