#pragma once
// Writing responses into a connection's output buffer, and the cached Date header value.

#include "out_buffer.hpp"

#include <opensocket/http/request_head.hpp>
#include <opensocket/http/response.hpp>

#include <string>
#include <string_view>

namespace opensocket::http::detail {

/// The current `Date` value (IMF-fixdate), formatted at most once per second per thread.
std::string_view http_date() noexcept;

struct framing_choice {
    bool head_request = false;       ///< HEAD: Content-Length of the body, but no body
    bool close = false;              ///< send `Connection: close`
    bool http10_keep_alive = false;  ///< HTTP/1.0 client that asked for keep-alive
};

/// Appends the status line, headers and (unless HEAD) the body of `r` to `out`. Allocates only
/// if `out` must grow past its capacity.
void append_response(out_buffer& out, const response& r, std::string_view server_name,
                     const framing_choice& how);

/// Appends a minimal error response (`status`, short text body, `Connection: close`).
void append_error(out_buffer& out, int status, std::string_view server_name);

}  // namespace opensocket::http::detail
