#include <opensocket/log.hpp>
#include <opensocket/sleep.hpp>
#include <opensocket/tcp.hpp>

#include <array>
#include <cerrno>
#include <opensocket/detail/platform.hpp>

namespace opensocket {
namespace {

class accept_awaiter : public detail::io_awaiter_base {
public:
    // No peer address is asked for (addr and addrlen stay null): `tcp_stream::peer_address()`
    // reads it when wanted, and the io_uring engine's multishot accept would otherwise pay a
    // getpeername() per connection.
    explicit accept_awaiter(detail::io_object& obj) noexcept
        : io_awaiter_base(obj, io_kind::accept, nullptr, 0) {}
    /// The new descriptor, or the errno as an error.
    result<native_handle> await_resume() noexcept {
        if (auto ec = finish()) return fail(ec);
        return static_cast<native_handle>(op_.res);
    }
};

class connect_awaiter : public detail::io_awaiter_base {
public:
    connect_awaiter(detail::io_object& obj, const socket_address& peer) noexcept
        : io_awaiter_base(obj, io_kind::connect, nullptr, 0), len_(peer.native_size()) {
        op_.addr = const_cast<sockaddr*>(peer.native());
        op_.addrlen = &len_;
    }
    result<void> await_resume() noexcept {
        if (auto ec = finish()) return fail(ec);
        return {};
    }

private:
    socklen_t len_;
};

// accept(2): "Linux accept() passes already-pending network errors on the new socket as an
// error code from accept()... the application should treat them like EAGAIN by retrying."
bool transient_accept_error(int e) noexcept {
    switch (e) {
        case ECONNABORTED:
        case EPROTO:
        case ENETDOWN:
        case ENOPROTOOPT:
#ifdef ENONET  // Linux only (Windows has neither)
        case EHOSTDOWN:
        case ENONET:
#endif
        case EHOSTUNREACH:
        case EOPNOTSUPP:
        case ENETUNREACH:
        case EINTR: return true;
        default: return false;
    }
}

bool resource_exhausted(int e) noexcept {
    return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}

}  // namespace

task<result<tcp_stream>> tcp_stream::connect(socket_address peer) {
    auto h = socket_handle::open(peer.family(), SOCK_STREAM);
    if (!h) co_return fail(h.error());
    tcp_stream s(std::move(*h));
    auto r = co_await connect_awaiter(s.io_, peer);
    if (!r) co_return fail(r.error());
    co_return std::move(s);
}

task<result<tcp_stream>> tcp_stream::connect(socket_address peer, clock::duration timeout) {
    co_return co_await with_timeout(connect(peer), timeout);
}

result<void> tcp_stream::shutdown_write() noexcept {
    if (::shutdown(native(), SHUT_WR) != 0) return fail(detail::last_socket_error_code());
    return {};
}

void tcp_stream::abort() noexcept {
    if (is_open()) (void)set_linger(native(), std::chrono::seconds(0));
    close();
}

task<result<void>> tcp_stream::close_gracefully(clock::duration timeout) {
    if (!is_open()) co_return {};
    auto shut = shutdown_write();
    result<void> outcome;
    if (shut) {
        auto drain = [](tcp_stream& s) -> task<result<std::size_t>> {
            std::array<std::byte, 512> sink;
            for (;;) {
                auto n = co_await s.read_some(sink);
                if (!n || *n == 0) co_return n;
            }
        };
        auto r = co_await with_timeout(drain(*this), timeout);
        if (!r) outcome = fail(r.error());
    } else if (shut.error() != std::errc::not_connected) {
        outcome = fail(shut.error());
    }
    close();
    co_return outcome;
}

result<tcp_listener> tcp_listener::bind(const socket_address& addr, const listen_options& opts) {
    auto h = socket_handle::open(addr.family(), SOCK_STREAM);
    if (!h) return fail(h.error());
    native_handle fd = h->get();
    if (opts.reuse_address)
        if (auto r = set_reuse_address(fd, true); !r) return fail(r.error());
    if (opts.reuse_port)
        if (auto r = set_reuse_port(fd, true); !r) return fail(r.error());
    if (addr.is_v6() && opts.v6_only)
        if (auto r = set_v6_only(fd, *opts.v6_only); !r) return fail(r.error());
    if (::bind(fd, addr.native(), addr.native_size()) != 0)
        return fail(detail::last_socket_error_code());
    if (::listen(fd, opts.backlog) != 0) return fail(detail::last_socket_error_code());
    return tcp_listener(std::move(*h));
}

task<result<tcp_stream>> tcp_listener::accept() {
    auto backoff = std::chrono::milliseconds(1);
    for (;;) {
        auto fd = co_await accept_awaiter(io_);
        if (fd) {
            ++accepted_;
            co_return tcp_stream(socket_handle(*fd));
        }
        int e = fd.error().category() == errno_category() ? fd.error().value() : 0;
        if (transient_accept_error(e)) continue;
        if (!resource_exhausted(e)) co_return fail(fd.error());
        if (backoffs_++ % 64 == 0)
            log_warn("accept: {} - backing off (descriptor/memory limit reached)",
                     fd.error().message());
        if (auto slept = co_await sleep_for(backoff); !slept) co_return fail(slept.error());
        backoff = std::min(backoff * 2, std::chrono::milliseconds(100));
    }
}

}  // namespace opensocket
