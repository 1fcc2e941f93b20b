// http_echo: the bundled HTTP/1.1 demo.
//   http_echo [--port 8888] [--bind ::] [--threads N] [--engine auto|epoll|...]
//   GET /           an HTML page echoing the request back
//   GET|POST /echo  the request body (POST) or head (GET) as text/plain
//   GET /plaintext  "Hello, World!" (the benchmark route: no allocation per request)
// Prints "listening on ADDR:PORT" when ready; SIGINT/SIGTERM drain connections and exit 0.

#include "cli.hpp"

#include <opensocket/http/server.hpp>
#include <opensocket/runtime.hpp>

#include <fmt/format.h>
#include <atomic>
#include <cstdio>
#include <string>

using namespace opensocket;
using namespace opensocket::http;

namespace {

std::atomic<uint64_t> page_views{0};

void append_escaped(std::string& out, std::string_view text) {
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
}

constexpr std::string_view page_style = R"(<style>
:root{color-scheme:light dark;--bg:#f6f7fb;--card:#fff;--ink:#1d2330;--muted:#66708a;--accent:#3b6cf6;--line:#e3e6ef}
@media (prefers-color-scheme:dark){:root{--bg:#11141b;--card:#1a1f2a;--ink:#e8ebf3;--muted:#98a1b8;--accent:#7aa2ff;--line:#2a3040}}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;background:var(--bg);color:var(--ink)}
main{max-width:860px;margin:40px auto;padding:0 20px}
h1{font-size:28px;margin:0 0 4px}h1 span{color:var(--accent)}p.sub{margin:0 0 24px;color:var(--muted)}
.card{background:var(--card);border:1px solid var(--line);border-radius:14px;padding:20px 22px;margin-bottom:18px;box-shadow:0 1px 2px rgba(0,0,0,.04)}
.line{font:600 17px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}
.method{display:inline-block;background:var(--accent);color:#fff;border-radius:6px;padding:1px 8px;margin-right:2px}
.stats{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px}
.stat{min-width:0}.stat b{display:block;font-size:22px;overflow-wrap:anywhere}#client{font-size:17px;line-height:1.9}.stat small{color:var(--muted)}
table{width:100%;border-collapse:collapse;font:14px/1.45 ui-monospace,SFMono-Regular,Menlo,monospace}
td{padding:6px 8px;border-top:1px solid var(--line);vertical-align:top;word-break:break-all}
td:first-child{color:var(--accent);width:30%;min-width:8em;overflow-wrap:anywhere}
h2{font-size:13px;text-transform:uppercase;letter-spacing:.08em;color:var(--muted);margin:0 0 10px}
footer{color:var(--muted);font-size:13px;text-align:center;margin:30px 0}code{font-family:ui-monospace,monospace}
</style>)";

// An IPv4 client of a dual-stack listener shows up as [::ffff:a.b.c.d]:port; print a.b.c.d:port.
std::string client_text(const socket_address& peer) {
    std::string host = peer.host_string();
    if (peer.is_v6() && host.rfind("::ffff:", 0) == 0 && host.find('.') != std::string::npos)
        return host.substr(7) + ":" + std::to_string(peer.port());
    return peer.to_string();
}

task<response> home(request& req) {
    uint64_t views = page_views.fetch_add(1, std::memory_order_relaxed) + 1;
    auto peer = req.peer_address();
    std::string html;
    html.reserve(4096);
    html +=
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content=\"width=device-width,initial-scale=1\">"
        "<title>OpenSocket echo</title>";
    html += page_style;
    html +=
        "</head><body><main><h1>Open<span>Socket</span> is working</h1>"
        "<p class=sub>Your request, echoed back by a C++20 coroutine server.</p>";
    html +=
        "<div class=card><h2>Request line</h2><div class=line id=request-line>"
        "<span class=method>";
    append_escaped(html, req.head.method_text);
    html += "</span> ";
    append_escaped(html, req.head.target);
    html += " ";
    html += to_string(req.head.version);
    html += "</div></div><div class=card><div class=stats>";
    html += fmt::format(
        "<div class=stat><small>Client</small><b id=client>{}</b></div>"
        "<div class=stat><small>Served by executor</small><b id=executor>#{}</b></div>"
        "<div class=stat><small>Page views</small><b id=views>{}</b></div>"
        "<div class=stat><small>Requests on this connection</small><b id=sequence>{}</b></div>",
        peer ? client_text(*peer) : "unknown", req.executor_index, views, req.sequence);
    html += "</div></div><div class=card><h2>Headers</h2><table id=headers>";
    for (const header& h : req.head.headers) {
        html += "<tr><td>";
        append_escaped(html, h.name);
        html += "</td><td>";
        append_escaped(html, h.value);
        html += "</td></tr>";
    }
    html +=
        "</table></div><footer>Try <code>curl -d hello http://HOST/echo</code> or "
        "<code>/plaintext</code> &middot; OpenSocket</footer></main></body></html>";
    response r;
    r.content_type = "text/html; charset=utf-8";
    r.body = std::move(html);
    co_return r;
}

task<response> echo(request& req) {
    response r;
    if (req.head.method == method::post) {
        r.body.assign(req.body);
        co_return r;
    }
    r.body.reserve(512);
    r.body += req.head.method_text;
    r.body += ' ';
    r.body += req.head.target;
    r.body += ' ';
    r.body += to_string(req.head.version);
    r.body += "\r\n";
    for (const header& h : req.head.headers) {
        r.body += h.name;
        r.body += ": ";
        r.body += h.value;
        r.body += "\r\n";
    }
    co_return r;
}

// A plain function: it never waits, so it needs no coroutine frame.
response plaintext(request&) { return response::text(200, "Hello, World!"); }

}  // namespace

int main(int argc, char** argv) {
    examples::flags f(argc, argv, {"port", "bind", "threads", "engine"},
                      "[--port P] [--bind ADDR] [--threads N] [--engine NAME]");
    auto where = examples::listen_address(f);
    auto threads = static_cast<unsigned>(f.integer("threads", 0, 0, 1024));

    examples::block_termination_signals();
    try {
        runtime rt({.threads = threads, .engine = f.engine()});
        router routes;
        routes.get("/", home);
        routes.get("/echo", echo);
        routes.post("/echo", echo);
        routes.get("/plaintext", plaintext);
        server_options opts;
        if (where.dual_stack) opts.listen.v6_only = false;
        auto server = http_server::bind(rt, where.addr, std::move(routes), {}, opts);
        if (!server)
            f.die(fmt::format("cannot listen on {}: {}", where.addr.to_string(),
                              server.error().message()));
        server->start();
        fmt::print("listening on {}\n", server->local_address().to_string());
        std::fflush(stdout);

        int sig = examples::wait_for_termination_signal();
        rt.stop();
        rt.join();
        fmt::print(stderr, "http_echo: signal {}, drained after {} requests on {} connections\n",
                   sig, server_stats::requests(), server_stats::connections());
    } catch (const std::system_error& e) {
        f.die(e.what());
    }
    return 0;
}
