#include "io_syscalls.hpp"
#include "raw_syscalls.hpp"

#include <cerrno>

namespace opensocket::detail {
namespace {

bool would_block(int e) noexcept { return e == EAGAIN || e == EWOULDBLOCK; }

bool finish(io_op& op, int64_t res) noexcept {
    op.res = res;
    return true;
}

bool do_accept(io_op& op) noexcept {
    for (;;) {
        native_handle fd = sys_accept(op.fd, op.addr, op.addrlen);
        if (fd != invalid_native_handle) return finish(op, static_cast<int64_t>(fd));
        int e = errno;
        if (e == EINTR) continue;
        if (would_block(e)) return false;
        return finish(op, -e);
    }
}

bool do_connect(io_op& op) noexcept {
    if (!op.started) {
        op.started = true;
        if (sys_connect(op.fd, op.addr, *op.addrlen) == 0) return finish(op, 0);
        int e = errno;
        // EINTR on a non-blocking connect: the handshake goes on in the background (connect(2)).
        if (e == EINPROGRESS || e == EINTR) return false;
        return finish(op, -e);
    }
    int err = 0;
    if (sys_socket_error(op.fd, err) != 0) return finish(op, -errno);
    if (err == EINPROGRESS || err == EALREADY) return false;
    return finish(op, -err);
}

bool do_recv(io_op& op, bool& short_io) noexcept {
    for (;;) {
        ssize_t n = sys_recv(op.fd, op.buf + op.done, op.len - op.done, 0);
        if (n > 0) {
            op.done += static_cast<std::size_t>(n);
            if (op.done < op.len) short_io = true;
            if (op.kind == io_kind::recv || op.done == op.len)
                return finish(op, static_cast<int64_t>(op.done));
            continue;  // recv_exact: try for the rest
        }
        if (n == 0) return finish(op, static_cast<int64_t>(op.done));  // EOF
        int e = errno;
        if (e == EINTR) continue;
        if (would_block(e)) {
            short_io = true;
            return false;
        }
        return finish(op, -e);
    }
}

bool do_send(io_op& op, bool& short_io) noexcept {
    for (;;) {
        ssize_t n = sys_send(op.fd, op.buf + op.done, op.len - op.done, MSG_NOSIGNAL);
        if (n >= 0) {
            op.done += static_cast<std::size_t>(n);
            if (op.done < op.len) short_io = true;
            if (op.kind == io_kind::send || op.done == op.len)
                return finish(op, static_cast<int64_t>(op.done));
            continue;
        }
        int e = errno;
        if (e == EINTR) continue;
        if (would_block(e)) {
            short_io = true;
            return false;
        }
        return finish(op, -e);
    }
}

bool do_wait_readable(io_op& op) noexcept {
    char probe;
    for (;;) {
        ssize_t n = sys_recv(op.fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n >= 0) return finish(op, 0);  // data or EOF: a read will not block
        int e = errno;
        if (e == EINTR) continue;
        if (would_block(e)) return false;
        return finish(op, 0);  // a pending socket error: the next read reports it
    }
}

}  // namespace

bool perform_io(io_op& op, bool& short_io) noexcept {
    switch (op.kind) {
        case io_kind::accept: return do_accept(op);
        case io_kind::connect: return do_connect(op);
        case io_kind::recv:
        case io_kind::recv_exact: return do_recv(op, short_io);
        case io_kind::send:
        case io_kind::send_all: return do_send(op, short_io);
        case io_kind::wait_readable: return do_wait_readable(op);
        case io_kind::recv_lent: break;  // the engine lends a buffer first (lent_pool.hpp)
    }
    return finish(op, -EINVAL);
}

}  // namespace opensocket::detail
