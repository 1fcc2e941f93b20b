/* c_epoll_echo: a hand-written C TCP echo server, the practical limit of the box for bench/run.
 *   c_epoll_echo [--port P] [--threads N]
 * One thread per core (default), each with its own SO_REUSEPORT listener on 127.0.0.1 and its own
 * level-triggered epoll set; 16 KiB reads (as OpenSocket's tcp_echo), TCP_NODELAY. What the peer
 * does not take at once is kept and the connection stops reading until it is written
 * (backpressure). Prints "listening on 127.0.0.1:PORT"; SIGTERM or SIGINT exit 0. */
#define _GNU_SOURCE
#include "c_common.h"

#include <netinet/tcp.h>

enum { buffer_size = 16384, max_events = 256 };

struct conn {
    int fd;
    size_t len, off; /* bytes in buf not yet echoed: buf[off, len) */
    char buf[buffer_size];
};

static void conn_close(struct conn* c) {
    close(c->fd); /* also removes it from the epoll set */
    free(c);
}

static void set_interest(int ep, struct conn* c, uint32_t events) {
    struct epoll_event ev = {.events = events, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Writes buf[off, len); returns 0 when all is written, 1 when the socket is full, -1 on error. */
static int flush(struct conn* c) {
    while (c->off < c->len) {
        ssize_t n = write(c->fd, c->buf + c->off, c->len - c->off);
        if (n < 0) return errno == EAGAIN ? 1 : -1;
        c->off += (size_t)n;
    }
    c->len = c->off = 0;
    return 0;
}

static void on_event(int ep, struct conn* c) {
    if (c->len != 0) { /* registered for EPOLLOUT: finish the previous echo first */
        int w = flush(c);
        if (w < 0) conn_close(c);
        if (w == 0) set_interest(ep, c, EPOLLIN);
        return;
    }
    ssize_t n = read(c->fd, c->buf, buffer_size);
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) { /* EOF, or EPOLLHUP/EPOLLERR surfacing as an error */
        conn_close(c);
        return;
    }
    c->len = (size_t)n;
    int w = flush(c);
    if (w < 0) conn_close(c);
    if (w > 0) set_interest(ep, c, EPOLLOUT);
}

static void accept_all(int ep, int listen_fd) {
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return; /* EAGAIN, or a connection that died in the queue */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn* c = malloc(sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->len = c->off = 0;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) conn_close(c);
    }
}

static void* echo_loop(void* arg) {
    const struct peer_thread* t = arg;
    int ep = peer_epoll("c_epoll_echo", t);
    struct epoll_event events[max_events];
    for (;;) {
        int n = epoll_wait(ep, events, max_events, -1);
        if (n < 0 && errno != EINTR) peer_die("c_epoll_echo", "epoll_wait");
        for (int i = 0; i < n; i++) {
            void* tag = events[i].data.ptr;
            if (tag == &peer_stop_tag) {
                close(ep); /* connections still open are left to the process exit */
                return NULL;
            }
            if (tag == &peer_listener_tag)
                accept_all(ep, t->listen_fd);
            else
                on_event(ep, tag);
        }
    }
}

int main(int argc, char** argv) {
    return peer_main("c_epoll_echo", peer_parse_flags(argc, argv), echo_loop);
}
