#include "workspace.hpp"

namespace opensocket::http::detail {
namespace {

constexpr std::size_t initial_input = 16 * 1024;
constexpr std::size_t initial_output = 16 * 1024;
constexpr std::size_t kept_capacity = 64 * 1024;  // larger buffers are trimmed on release
constexpr std::size_t max_pooled = 1024;

bool same_limits(const parser_limits& a, const parser_limits& b) noexcept {
    return a.max_request_line == b.max_request_line && a.max_header_bytes == b.max_header_bytes &&
           a.max_header_count == b.max_header_count && a.max_body_size == b.max_body_size &&
           a.max_chunk_extensions == b.max_chunk_extensions;
}

struct pool {
    std::vector<std::unique_ptr<workspace>> free;
};
thread_local pool pool_tls;

}  // namespace

workspace::workspace(const parser_limits& l) : in(initial_input), parser(l), body(l) {
    out.reallocate(initial_output);
}

void workspace::next_request() noexcept {
    parser.next();
    body_started = false;
    continue_sent = false;
    body_used = 0;
    body_buf.clear();
}

std::unique_ptr<workspace> acquire_workspace(const parser_limits& limits) {
    auto& free = pool_tls.free;
    while (!free.empty()) {
        auto w = std::move(free.back());
        free.pop_back();
        // A pool serves every server on this thread; one with other limits gets a new parser.
        if (same_limits(w->parser.limits(), limits)) return w;
    }
    return std::make_unique<workspace>(limits);
}

void release_workspace(std::unique_ptr<workspace> w) noexcept {
    if (!w) return;
    w->parser.reset();
    w->body_started = w->continue_sent = false;
    w->begin = w->end = w->body_used = 0;
    w->out.clear();
    w->body_buf.clear();
    if (w->in.size() > kept_capacity) {
        w->in.resize(initial_input);
        w->in.shrink_to_fit();
    }
    if (w->out.capacity() > kept_capacity) w->out.reallocate(initial_output);
    if (w->body_buf.capacity() > kept_capacity) w->body_buf.shrink_to_fit();
    auto& free = pool_tls.free;
    if (free.size() < max_pooled) {
        try {
            free.push_back(std::move(w));
        } catch (...) {
        }
    }
}

}  // namespace opensocket::http::detail
