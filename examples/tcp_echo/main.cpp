// tcp_echo: echoes every byte back, on every executor.
//   tcp_echo [--port 8888] [--bind ::] [--threads N] [--engine auto|epoll|...] [--mode
//   reuse_port|handoff]
// Prints "listening on ADDR:PORT" when ready; SIGINT/SIGTERM close every connection and exit 0.

#include "cli.hpp"

#include <opensocket/runtime.hpp>
#include <opensocket/tcp_server.hpp>

#include <fmt/format.h>
#include <array>
#include <cstdio>

using namespace opensocket;

namespace {

task<> echo_session(tcp_stream s, executor&) {
    (void)s.set_nodelay(true);
    std::array<std::byte, 16384> buf;
    for (;;) {
        auto n = co_await s.read_some(buf);
        if (!n || *n == 0) break;
        if (!co_await s.write_all(std::span(buf).first(*n))) break;
    }
}

}  // namespace

int main(int argc, char** argv) {
    examples::flags f(argc, argv, {"port", "bind", "threads", "engine", "mode"},
                      "[--port P] [--bind ADDR] [--threads N] [--engine NAME] "
                      "[--mode reuse_port|handoff]");
    auto where = examples::listen_address(f);
    auto threads = static_cast<unsigned>(f.integer("threads", 0, 0, 1024));
    std::string mode = f.str("mode", "reuse_port");
    if (mode != "reuse_port" && mode != "handoff")
        f.die(fmt::format("--mode must be reuse_port or handoff, got '{}'", mode));

    examples::block_termination_signals();
    try {
        runtime rt({.threads = threads, .engine = f.engine()});
        server_options opts;
        opts.mode = mode == "handoff" ? accept_mode::handoff : accept_mode::reuse_port;
        if (where.dual_stack) opts.listen.v6_only = false;
        auto server = tcp_server::bind(rt, where.addr, opts);
        if (!server)
            f.die(fmt::format("cannot listen on {}: {}", where.addr.to_string(),
                              server.error().message()));
        server->start(echo_session);
        fmt::print("listening on {}\n", server->local_address().to_string());
        std::fflush(stdout);
        fmt::print(stderr, "tcp_echo: {} executor(s), {} engine\n", rt.size(), rt.engine_name());

        int sig = examples::wait_for_termination_signal();
        rt.stop();
        rt.join();
        auto counts = server->accept_counts();
        fmt::print(stderr, "tcp_echo: signal {}, drained; connections per executor: {}\n", sig,
                   fmt::join(counts, " "));
    } catch (const std::system_error& e) {
        f.die(e.what());
    }
    return 0;
}
