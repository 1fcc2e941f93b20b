/* c_epoll_http: a hand-written C HTTP/1.1 server, the practical limit of the box for bench/run.
 *   c_epoll_http [--port P] [--threads N]
 *   GET /plaintext  "Hello, World!" with the headers OpenSocket's http_echo sends
 *                   (Server, Date, Content-Type, Content-Length); anything else: 404.
 * One thread per core (default), each with its own SO_REUSEPORT listener on 127.0.0.1 and its own
 * level-triggered epoll set. Keep-alive, pipelining (every complete request in a read is
 * answered, the responses leave in one write) and Connection: close are honoured. Request bodies
 * are skipped by Content-Length; chunked bodies get 501. Prints "listening on 127.0.0.1:PORT";
 * SIGTERM or SIGINT exit 0.
 *
 * Level-triggered on purpose: one read per readiness event is enough (epoll reports the socket
 * again if bytes remain), where edge-triggered would need an extra read that returns EAGAIN.
 * As a hand-tuned server would, it keeps the formatted "Hello, World!" responses for the current
 * second and copies them, so a request costs little more than its share of the syscalls. */
#define _GNU_SOURCE
#include "c_common.h"
#include "c_http.h"

#include <netinet/tcp.h>

enum { max_events = 256 };

struct conn {
    int fd;
    int close_after_flush; /* Connection: close, HTTP/1.0 or a bad request was answered */
    int want_out;          /* registered for EPOLLOUT instead of EPOLLIN (backpressure) */
    size_t in_len;
    char* pending; /* the unwritten tail of the last batch of responses, if any */
    size_t pending_len, pending_off;
    char in[in_capacity];
};

static void conn_close(struct conn* c) {
    close(c->fd); /* also removes it from the epoll set */
    free(c->pending);
    free(c);
}

static void set_interest(int ep, struct conn* c, int want_out) {
    if (c->want_out == want_out) return;
    struct epoll_event ev = {.events = want_out ? EPOLLOUT : EPOLLIN, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = want_out;
}

/* Writes c->pending; returns 0 when all is written, 1 when the socket is full, -1 on error. */
static int flush_pending(struct conn* c) {
    while (c->pending_off < c->pending_len) {
        ssize_t n = write(c->fd, c->pending + c->pending_off, c->pending_len - c->pending_off);
        if (n < 0) return errno == EAGAIN ? 1 : -1;
        c->pending_off += (size_t)n;
    }
    free(c->pending);
    c->pending = NULL;
    c->pending_len = c->pending_off = 0;
    return 0;
}

/* Writes the batch in out_tls; keeps what the socket does not take. Returns as flush_pending. */
static int write_batch(struct conn* c) {
    struct out_buffer* o = &out_tls;
    size_t off = 0;
    while (off < o->len) {
        ssize_t n = write(c->fd, o->data + off, o->len - off);
        if (n < 0) {
            if (errno != EAGAIN) return -1;
            c->pending = malloc(o->len - off);
            if (!c->pending) abort();
            memcpy(c->pending, o->data + off, o->len - off);
            c->pending_len = o->len - off;
            c->pending_off = 0;
            return 1;
        }
        off += (size_t)n;
    }
    return 0;
}

static void on_readable(int ep, struct conn* c) {
    ssize_t n = read(c->fd, c->in + c->in_len, in_capacity - c->in_len);
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
        conn_close(c);
        return;
    }
    c->in_len += (size_t)n;

    refresh_cache();
    out_tls.len = 0;
    size_t pos = 0, used = 0;
    enum parse_result r;
    while ((r = handle_request(c->in, c->in_len, pos, &used)) == parse_done) pos += used;
    if (r == parse_closed) {
        c->close_after_flush = 1;
        c->in_len = 0;
    } else {
        memmove(c->in, c->in + pos, c->in_len - pos);
        c->in_len -= pos;
    }
    if (out_tls.len == 0) return;

    int w = write_batch(c);
    if (w < 0 || (w == 0 && c->close_after_flush))
        conn_close(c);
    else if (w > 0)
        set_interest(ep, c, 1); /* read no more until the peer takes what it asked for */
}

static void on_writable(int ep, struct conn* c) {
    int w = flush_pending(c);
    if (w < 0 || (w == 0 && c->close_after_flush)) {
        conn_close(c);
    } else if (w == 0) {
        set_interest(ep, c, 0);
        /* Requests that arrived complete while we were blocked are answered on the next read
         * event: the input buffer may hold a partial request only, since every complete one
         * was answered when it was read. */
    }
}

static void accept_all(int ep, int listen_fd) {
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return; /* EAGAIN, or a connection that died in the queue */
        /* As nginx does for keep-alive: a response must not wait behind Nagle for the ACK of
         * the previous one when a pipelined batch was split across reads. */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn* c = malloc(sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->close_after_flush = c->want_out = 0;
        c->in_len = 0;
        c->pending = NULL;
        c->pending_len = c->pending_off = 0;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) conn_close(c);
    }
}

static void* http_loop(void* arg) {
    const struct peer_thread* t = arg;
    int ep = peer_epoll("c_epoll_http", t);
    struct epoll_event events[max_events];
    for (;;) {
        int n = epoll_wait(ep, events, max_events, -1);
        if (n < 0 && errno != EINTR) peer_die("c_epoll_http", "epoll_wait");
        for (int i = 0; i < n; i++) {
            void* tag = events[i].data.ptr;
            if (tag == &peer_stop_tag) {
                /* Connections still open are left to the process exit. */
                close(ep);
                free(out_tls.data);
                return NULL;
            }
            if (tag == &peer_listener_tag) {
                accept_all(ep, t->listen_fd);
                continue;
            }
            struct conn* c = tag;
            if (c->want_out)
                on_writable(ep, c);
            else
                on_readable(ep, c); /* EPOLLHUP/EPOLLERR end up as a failed read */
        }
    }
}

int main(int argc, char** argv) {
    peer_server_name = "c-epoll";
    return peer_main("c_epoll_http", peer_parse_flags(argc, argv), http_loop);
}
