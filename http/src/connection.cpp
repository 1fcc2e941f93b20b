// The per-connection loop: idle wait without a buffer, then bursts of parse / dispatch / write
// with a borrowed workspace.

#include "stats.hpp"
#include "wire.hpp"
#include "workspace.hpp"

#include <opensocket/http/errors.hpp>
#include <opensocket/http/server.hpp>
#include <opensocket/log.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <opensocket/detail/platform.hpp>

namespace opensocket::http {
namespace {

using detail::workspace;

/// The time at the start of this loop turn: deadlines need no fresh clock read per request (a
/// clock read costs a syscall on some VMs' clock sources).
clock::time_point loop_now() noexcept { return executor::current()->now(); }

/// Per-connection state that outlives bursts (kept small: it lives in an idle frame).
struct connection_state {
    uint64_t sequence = 0;
    const std::stop_token* outer_stop = nullptr;  ///< the connection task's token (drain)
};

task<bool> flush(tcp_stream& s, workspace& w, const server_config& cfg) {
    if (w.out.empty()) co_return true;
    auto r = co_await s.write_all(w.out.bytes(), loop_now() + cfg.write_timeout);
    w.out.clear();
    co_return static_cast<bool>(r);
}

/// Makes room to read more: drops answered requests and decoded chunk data, then grows the
/// buffer when it is full. False if the request cannot fit (the parser's limits prevent this).
bool make_room(workspace& w, const server_config& cfg) {
    if (w.begin > 0) {
        std::memmove(w.in.data(), w.in.data() + w.begin, w.end - w.begin);
        w.end -= w.begin;
        w.begin = 0;
    }
    if (w.body_used > 0) {  // decoded chunked data is in body_buf: keep only the head before it
        std::size_t head = w.parser.head().size;
        std::size_t from = head + w.body_used;
        std::memmove(w.in.data() + head, w.in.data() + from, w.end - from);
        w.end -= w.body_used;
        w.body_used = 0;
    }
    if (w.end < w.in.size()) return true;
    const std::size_t cap = cfg.limits.max_header_bytes + cfg.limits.max_body_size + 64 * 1024;
    if (w.in.size() >= cap) return false;
    w.in.resize(std::min(cap, w.in.size() * 2));
    return true;
}

/// The body of the complete head at `w.begin`, if it is all here. Sets `status` on a framing
/// error (then the connection closes).
bool body_ready(workspace& w, std::string_view data, std::string_view& body, std::size_t& used,
                int& status) {
    const request_head& head = w.parser.head();
    switch (head.body.kind) {
        case body_kind::none: used = head.size; return true;
        case body_kind::content_length:
            if (data.size() - head.size < head.body.length) return false;
            body = data.substr(head.size, head.body.length);
            used = head.size + head.body.length;
            return true;
        case body_kind::chunked: break;
    }
    if (!w.body_started) {
        w.body.start(head.body);
        w.body_started = true;
    }
    for (;;) {
        auto step = w.body.next(data.substr(head.size + w.body_used));
        if (!step) {
            status = status_code(step.error());
            return false;
        }
        w.body_buf.append(step->data);
        w.body_used += step->consumed;
        if (step->done) {
            body = w.body_buf;
            used = head.size + w.body_used;
            return true;
        }
        if (step->consumed == 0) return false;  // needs more input
    }
}

/// The response when no handler matches: 404, or 405 with `Allow` when the path exists.
response no_handler(const router& r, const request_head& head, bool path_known) {
    if (!path_known) return response::text(404, "not found\n");
    response not_allowed = response::text(405, "method not allowed\n");
    not_allowed.headers.emplace_back("Allow", r.allowed_methods(head.path()));
    return not_allowed;
}

/// What a handler that threw gets: logged, 500, and the connection closes.
response handler_failed(const request_head& head, std::exception_ptr e) {
    try {
        std::rethrow_exception(std::move(e));
    } catch (const std::exception& x) {
        log_error("http handler for {} failed: {}", head.target, x.what());
    } catch (...) {
        log_error("http handler for {} failed: an exception not derived from std::exception",
                  head.target);
    }
    response err = response::text(500, "internal server error\n");
    err.close = true;
    return err;
}

/// A plain-function handler's response, or the 500 if it throws.
response answer_now(const handler& h, request& req) {
    try {
        return h.now(req);  // no coroutine frame for a handler that never waits
    } catch (...) {
        return handler_failed(req.head, std::current_exception());
    }
}

enum class burst_end { idle, close };

/// Answers every request it can with the bytes at hand, reading more while a request is
/// incomplete. Runs shielded from the connection's stop token: a request in progress finishes.
task<burst_end> serve_burst(tcp_stream& s, workspace& w, const router& r, const server_config& cfg,
                            connection_state& st) {
    auto head_deadline = loop_now() + cfg.head_timeout;
    auto body_deadline = clock::time_point::max();
    bool have_read = !w.input_empty();  // a burst starts because the socket became readable
    for (;;) {
        while (!w.input_empty()) {
            std::string_view data(w.in.data() + w.begin, w.end - w.begin);
            auto parsed = w.parser.parse(data);
            if (!parsed) {
                detail::append_error(w.out, status_code(parsed.error()), cfg.server_name);
                co_await flush(s, w, cfg);
                co_return burst_end::close;
            }
            if (*parsed == parse_status::incomplete) break;
            const request_head& head = w.parser.head();
            // The body is written straight into the request: a copy of a view just stored as
            // two words is a 16-byte load that store forwarding cannot serve (a stall per
            // request, measured with perf).
            request req{head, {}, s, 0, 0};
            std::size_t used = 0;
            int status = 0;
            if (!body_ready(w, data, req.body, used, status)) {
                if (status != 0) {
                    detail::append_error(w.out, status, cfg.server_name);
                    co_await flush(s, w, cfg);
                    co_return burst_end::close;
                }
                if (body_deadline == clock::time_point::max())
                    body_deadline = loop_now() + cfg.body_timeout;
                if (head.expect_continue && !w.continue_sent) {
                    w.out.append("HTTP/1.1 100 Continue\r\n\r\n");
                    w.continue_sent = true;
                }
                break;
            }
            req.executor_index = executor::current()->index();
            req.sequence = ++st.sequence;
            detail::bump(detail::my_counters().requests);
            // The handler runs in this frame's co_await (no dispatch coroutine per request). A
            // plain function's response (and a 404/405) is built in place; only a coroutine
            // handler's is moved in.
            bool path_known = false;
            const handler* h = r.find(head, path_known);
            const bool waits = h != nullptr && h->waits();
            response resp = waits          ? response{}
                            : h != nullptr ? answer_now(*h, req)
                                           : no_handler(r, head, path_known);
            if (waits) {
                std::exception_ptr failure;
                try {
                    resp = co_await (*h)(req);
                } catch (...) {
                    failure = std::current_exception();
                }
                if (failure) resp = handler_failed(head, std::move(failure));
            }
            detail::framing_choice how;
            how.head_request = head.method == method::head;
            how.close = !head.keep_alive || st.outer_stop->stop_requested();
            how.http10_keep_alive = head.version == version::http_1_0 && head.keep_alive;
            detail::append_response(w.out, resp, cfg.server_name, how);
            w.begin += used;
            w.next_request();
            body_deadline = clock::time_point::max();
            head_deadline = loop_now() + cfg.head_timeout;  // the next request's own
            if (how.close || resp.close) {
                co_await flush(s, w, cfg);
                co_return burst_end::close;
            }
            if (w.out.size() >= cfg.output_flush_bytes && !co_await flush(s, w, cfg))
                co_return burst_end::close;
        }
        // Out of complete requests: send what is pending before waiting for more bytes. Written
        // here, not through flush: no child frame per burst. (Making flush a frameless awaiter
        // instead puts one awaiter per call site in this frame, past the 2 KiB the frame cache
        // serves: the allocation test then counts one malloc per request.)
        if (!w.out.empty()) {
            auto sent = co_await s.write_all(w.out.bytes(), loop_now() + cfg.write_timeout);
            w.out.clear();
            if (!sent) co_return burst_end::close;
        }
        if (w.input_empty() && have_read) co_return burst_end::idle;
        if (!make_room(w, cfg)) {
            detail::append_error(w.out, 413, cfg.server_name);
            co_await flush(s, w, cfg);
            co_return burst_end::close;
        }
        bool in_body = body_deadline != clock::time_point::max();
        auto n = co_await s.read_some(std::as_writable_bytes(std::span(w.in).subspan(w.end)),
                                      in_body ? body_deadline : head_deadline);
        if (!n || *n == 0) {
            if (!n && n.error() == std::errc::timed_out) {
                detail::append_error(w.out, 408, cfg.server_name);
                co_await flush(s, w, cfg);
            }
            co_return burst_end::close;
        }
        w.end += *n;
        have_read = true;
    }
}

/// Closes after the last response. If the client may still be sending (unread input), read and
/// discard for a moment first: closing with unread data sends RST, which can destroy the
/// response in flight.
task<> close_connection(tcp_stream& s, bool unread_input) {
    char probe;  // char: Winsock's recv takes char*
    if (!unread_input && ::recv(s.native(), &probe, 1, MSG_PEEK | MSG_DONTWAIT) <= 0) {
        s.close();
        co_return;
    }
    if (!s.shutdown_write()) {
        s.close();
        co_return;
    }
    const auto deadline = loop_now() + std::chrono::seconds(2);
    std::array<std::byte, 512> sink;
    for (;;) {
        auto n = co_await s.read_some(sink, deadline);
        if (!n || *n == 0) break;
    }
    s.close();
}

}  // namespace

namespace {

/// One busy period: borrows a workspace, serves until the input runs dry (true: go idle again)
/// or the connection must close (false, after closing it). Its frame exists only while busy.
task<bool> busy_period(tcp_stream& s, const router& r, const server_config& cfg,
                       connection_state& st) {
    // Borrowed from serve_connection's promise (no reference-count traffic per request).
    const std::stop_token& stop = co_await opensocket::detail::current_stop_token();
    st.outer_stop = &stop;
    auto w = detail::acquire_workspace(cfg.limits);
    auto end = co_await serve_burst(s, *w, r, cfg, st).with_stop_token({});
    const bool unread = !w->input_empty();
    detail::release_workspace(std::move(w));
    if (end == burst_end::idle && !stop.stop_requested()) co_return true;
    co_await close_connection(s, unread);
    co_return false;
}

}  // namespace

task<> serve_connection(tcp_stream s, const router& r, const server_config& cfg) {
    // This frame is all an idle connection costs (with the socket and its engine slot), so it
    // holds only the socket, the idle wait and a little state; the rest lives in child frames.
    detail::bump(detail::my_counters().connections);
    // Every read below goes through `s`: on io_uring one multishot recv then serves the idle
    // wait and the request reads (one completion per request, no poll or recv submissions).
    s.read_ahead();
    connection_state st;
    for (;;) {
        if (!co_await s.wait_readable(loop_now() + cfg.idle_timeout)) break;
        if (!co_await busy_period(s, r, cfg, st)) co_return;
    }
    s.close();  // idle timeout or stop: nothing is in flight
}

}  // namespace opensocket::http
