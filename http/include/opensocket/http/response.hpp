#pragma once
/// \file response.hpp
/// What a handler returns, and how it goes on the wire.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace opensocket::http {

/// A response. The server adds `Date`, `Server`, `Content-Length` and `Connection`.
/// Steady-state cost: nothing is allocated for a static body and no extra headers.
struct response {
    int status = 200;
    /// Sent as `Content-Type` unless empty. Must outlive the response (a literal is fine).
    std::string_view content_type = "text/plain; charset=utf-8";
    /// The body, owned (short bodies stay in the string's small buffer)...
    std::string body;
    /// ...or, when non-empty, a body that outlives the response (a literal): no copy.
    std::string_view static_body;
    /// Extra header fields (name, value); the caller must not add the four the server adds.
    std::vector<std::pair<std::string, std::string>> headers;
    /// Close the connection after this response.
    bool close = false;

    std::string_view body_view() const noexcept {
        return static_body.empty() ? std::string_view(body) : static_body;
    }

    /// A response with a static body, e.g. `response::text(404, "not found\n")`.
    static response text(int status, std::string_view static_text,
                         std::string_view type = "text/plain; charset=utf-8") {
        response r;
        r.status = status;
        r.static_body = static_text;
        r.content_type = type;
        return r;
    }
};

/// The reason phrase for a status code ("OK", "Not Found"); "Unknown" for others.
std::string_view reason_phrase(int status) noexcept;

}  // namespace opensocket::http
