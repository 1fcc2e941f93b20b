#include <opensocket/http/server.hpp>

#include "chars.hpp"

namespace opensocket::http {

void router::add(method m, std::string path, handler h) {
    const bool query_mark = path.find('?') != std::string::npos;
    routes_.push_back({m, std::move(path), std::move(h), query_mark});
}

template <class Matches>
const handler* router::find_if(method m, bool& path_known, Matches matches) const noexcept {
    path_known = false;
    const handler* get_handler = nullptr;
    for (const route& r : routes_) {
        if (!matches(r)) continue;
        path_known = true;
        if (r.m == m) return &r.h;
        if (r.m == method::get) get_handler = &r.h;
    }
    return m == method::head ? get_handler : nullptr;  // HEAD is GET without the body
}

const handler* router::find(method m, std::string_view path, bool& path_known) const noexcept {
    return find_if(m, path_known,
                   [path](const route& r) { return detail::same_bytes(r.path, path); });
}

const handler* router::find(const request_head& head, bool& path_known) const noexcept {
    const std::string_view target = head.target;
    if (target.empty() || target.front() != '/') return find(head.method, head.path(), path_known);
    // origin-form: the path is the target up to its first '?', so a route matches when it is a
    // prefix of the target that ends at the target's end or at a '?' (and has no '?' itself).
    return find_if(head.method, path_known, [target](const route& r) {
        const std::size_t n = r.path.size();
        return n <= target.size() && (n == target.size() || target[n] == '?') &&
               !r.has_query_mark && detail::equal_words<0>(r.path.data(), target.data(), n);
    });
}

std::string router::allowed_methods(std::string_view path) const {
    std::string out;
    bool get = false, head = false;
    for (const route& r : routes_) {
        if (r.path != path) continue;
        get = get || r.m == method::get;
        head = head || r.m == method::head;
        if (!out.empty()) out += ", ";
        out += to_string(r.m);
    }
    if (get && !head) out += ", HEAD";
    return out;
}

result<http_server> http_server::bind(runtime& rt, const socket_address& addr, router r,
                                      server_config cfg, server_options opts) {
    auto tcp = tcp_server::bind(rt, addr, opts);
    if (!tcp) return fail(tcp.error());
    auto s = std::make_shared<shared>(shared{std::move(r), std::move(cfg)});
    return http_server(std::make_unique<tcp_server>(std::move(*tcp)), std::move(s));
}

void http_server::start() {
    tcp_->start([s = shared_](tcp_stream stream, executor&) -> task<> {
        return serve_connection(std::move(stream), s->routes, s->config);
    });
}

}  // namespace opensocket::http
