#pragma once
// Shared plumbing of the Asio peers (asio_http, asio_echo): flags, one io_context and one
// SO_REUSEPORT acceptor per thread, SIGTERM shutdown. Written the way an Asio 1.22 user would:
// C++20 coroutines (awaitable, co_spawn, use_awaitable), no hand-rolled event loop.

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <thread>
#include <vector>

namespace asio_peer {

using asio::ip::tcp;

struct config {
    unsigned short port = 0;  // 0: any; the first acceptor picks it and the others share it
    unsigned threads = std::thread::hardware_concurrency();
};

inline config parse_flags(int argc, char** argv) {
    config c;
    for (int i = 1; i < argc; i += 2) {
        std::string flag = argv[i];
        char* end = nullptr;
        long n = i + 1 < argc ? std::strtol(argv[i + 1], &end, 10) : -1;
        bool ok = end && *end == '\0' && end != argv[i + 1];
        if (flag == "--port" && ok && n >= 0 && n <= 65535) {
            c.port = static_cast<unsigned short>(n);
        } else if (flag == "--threads" && ok && n >= 0 && n <= 1024) {
            if (n > 0) c.threads = static_cast<unsigned>(n);
        } else {
            std::fprintf(stderr, "usage: %s [--port P] [--threads N]\n", argv[0]);
            std::exit(2);
        }
    }
    if (c.threads == 0) c.threads = 1;
    return c;
}

// Asio has no named SO_REUSEPORT option; its generic boolean option is the documented way.
using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

/// Runs `session(socket)` for every connection: one io_context per thread (concurrency hint 1,
/// so Asio takes no locks), each with its own loopback acceptor on the shared port. Prints
/// "listening on 127.0.0.1:PORT"; returns 0 after SIGTERM or SIGINT.
template <class Session>
int serve(const char* prog, config c, Session session) {
    // Blocked before the threads start, so that only sigwait() below sees them.
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

    std::deque<asio::io_context> contexts;  // a deque: io_context cannot move
    std::vector<tcp::acceptor> acceptors;
    unsigned short port = c.port;
    try {
        for (unsigned i = 0; i < c.threads; ++i) {
            auto& ctx = contexts.emplace_back(1);
            tcp::acceptor& a = acceptors.emplace_back(ctx);
            a.open(tcp::v4());
            a.set_option(tcp::acceptor::reuse_address(true));
            a.set_option(reuse_port(true));
            a.bind({asio::ip::address_v4::loopback(), port});
            a.listen(4096);
            port = a.local_endpoint().port();
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", prog, e.what());
        return 1;
    }
    for (tcp::acceptor& a : acceptors) {
        asio::co_spawn(
            a.get_executor(),
            [&a, session]() -> asio::awaitable<void> {
                for (;;) {
                    std::error_code ec;
                    tcp::socket s =
                        co_await a.async_accept(asio::redirect_error(asio::use_awaitable, ec));
                    if (ec) continue;  // e.g. a connection reset while queued
                    asio::co_spawn(a.get_executor(), session(std::move(s)), asio::detached);
                }
            },
            asio::detached);
    }
    std::vector<std::thread> threads;
    for (auto& ctx : contexts) threads.emplace_back([&ctx] { ctx.run(); });
    std::printf("listening on 127.0.0.1:%u\n", static_cast<unsigned>(port));
    std::fflush(stdout);

    int sig = 0;
    sigwait(&sigs, &sig);
    for (auto& ctx : contexts) ctx.stop();
    for (auto& t : threads) t.join();
    return 0;
}

}  // namespace asio_peer
