// asio_echo: an idiomatic Asio 1.22 C++20-coroutine TCP echo server, a peer for bench/run.
//   asio_echo [--port P] [--threads N]
// A coroutine per connection: async_read_some into 16 KiB (as OpenSocket's tcp_echo), then
// async_write of what came; TCP_NODELAY. Prints "listening on 127.0.0.1:PORT"; SIGTERM exits 0.

#include "asio_common.hpp"

#include <asio/write.hpp>

#include <array>

namespace {

using asio_peer::tcp;

asio::awaitable<void> session(tcp::socket s) {
    s.set_option(tcp::no_delay(true));
    std::array<char, 16384> buf;
    for (;;) {
        std::error_code ec;
        std::size_t n = co_await s.async_read_some(asio::buffer(buf),
                                                   asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return;  // EOF or reset: the socket closes with the frame
        co_await asio::async_write(s, asio::buffer(buf.data(), n),
                                   asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return;
    }
}

}  // namespace

int main(int argc, char** argv) {
    return asio_peer::serve("asio_echo", asio_peer::parse_flags(argc, argv), session);
}
