/* c_uring_http: the hand-written C HTTP/1.1 server of c_epoll_http, on io_uring instead of epoll:
 * the yardstick of what io_uring saves on this kernel when nothing else is in the way.
 *   c_uring_http [--port P] [--threads N]
 * Same requests, responses and rules as c_epoll_http (c_http.h). Per thread: one ring
 * (SINGLE_ISSUER | DEFER_TASKRUN), a multishot accept on its SO_REUSEPORT listener, one multishot
 * recv per connection into a provided-buffer ring, sends as SQEs, and closing as a cancel plus a
 * close SQE. Every SQE of a loop turn goes in the one io_uring_enter that also waits. Needs
 * Linux 6.0+ (multishot recv); it exits with a reason where the ring or an opcode is refused.
 * Prints "listening on 127.0.0.1:PORT"; SIGTERM or SIGINT exit 0. */
#define _GNU_SOURCE
#include "c_common.h"
#include "c_http.h"

#include <liburing.h>
#include <netinet/tcp.h>
#include <sys/mman.h>

enum {
    ring_entries = 1024,
    buffer_count = 1024, /* provided buffers per thread, of in_capacity bytes each */
    buffer_group = 0,
};

/* user_data: a connection's address with the operation in the low bits, or a fixed tag. */
enum op_tag { op_recv = 0, op_send = 1, op_ignored = 2 };
#define TAG_ACCEPT ((uint64_t)8)
#define TAG_STOP ((uint64_t)16)
#define TAG_IGNORED ((uint64_t)op_ignored)

struct conn {
    int fd;
    int closing;      /* a close is queued: free once the recv and the send are over */
    int recv_armed;   /* the multishot recv is in the kernel */
    int close_after;  /* close once the output is sent */
    size_t in_len;    /* a partial request carried over to the next recv */
    char* out;        /* output queued or in flight (one send at a time) */
    size_t out_len, out_off, out_cap;
    size_t in_flight; /* bytes of `out` the send in the kernel covers; 0: none */
    char in[in_capacity];
};

struct loop {
    struct io_uring ring;
    struct io_uring_buf_ring* bufs;
    char* buf_data;
    const struct peer_thread* t;
    uint64_t stop_value;
};

static struct io_uring_sqe* get_sqe(struct loop* l) {
    struct io_uring_sqe* sqe = io_uring_get_sqe(&l->ring);
    while (!sqe) { /* SQ full: submit what is queued and take the freed entry */
        io_uring_submit(&l->ring);
        sqe = io_uring_get_sqe(&l->ring);
    }
    return sqe;
}

static void give_buffer(struct loop* l, unsigned bid) {
    io_uring_buf_ring_add(l->bufs, l->buf_data + (size_t)bid * in_capacity, in_capacity,
                          (unsigned short)bid, io_uring_buf_ring_mask(buffer_count), 0);
    io_uring_buf_ring_advance(l->bufs, 1);
}

static void arm_recv(struct loop* l, struct conn* c) {
    struct io_uring_sqe* sqe = get_sqe(l);
    io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = buffer_group;
    io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)c | op_recv);
    c->recv_armed = 1;
}

static void arm_accept(struct loop* l) {
    struct io_uring_sqe* sqe = get_sqe(l);
    io_uring_prep_multishot_accept(sqe, l->t->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, TAG_ACCEPT);
}

static void arm_stop(struct loop* l) {
    struct io_uring_sqe* sqe = get_sqe(l);
    io_uring_prep_read(sqe, l->t->stop_fd, &l->stop_value, sizeof l->stop_value, 0);
    io_uring_sqe_set_data64(sqe, TAG_STOP);
}

static void send_out(struct loop* l, struct conn* c) {
    c->in_flight = c->out_len - c->out_off;
    struct io_uring_sqe* sqe = get_sqe(l);
    io_uring_prep_send(sqe, c->fd, c->out + c->out_off, c->in_flight, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)c | op_send);
}

static void maybe_free(struct conn* c) {
    if (c->closing && !c->recv_armed && c->in_flight == 0) {
        free(c->out);
        free(c);
    }
}

/* Cancels the multishot recv and closes the descriptor, both as SQEs of this loop turn. The
 * connection is freed when its recv (and any send) has completed. */
static void conn_close(struct loop* l, struct conn* c) {
    if (c->closing) return;
    c->closing = 1;
    struct io_uring_sqe* sqe;
    if (c->recv_armed) {
        sqe = get_sqe(l);
        io_uring_prep_cancel64(sqe, (uint64_t)(uintptr_t)c | op_recv, 0);
        io_uring_sqe_set_data64(sqe, TAG_IGNORED);
    }
    sqe = get_sqe(l);
    io_uring_prep_close(sqe, c->fd);
    io_uring_sqe_set_data64(sqe, TAG_IGNORED);
    maybe_free(c);
}

/* Moves the batch in out_tls behind the connection's output and sends if no send is running. */
static void queue_output(struct loop* l, struct conn* c) {
    struct out_buffer* o = &out_tls;
    if (o->len == 0) return;
    if (c->out_len + o->len > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 512;
        while (cap < c->out_len + o->len) cap *= 2;
        char* d = realloc(c->out, cap);
        if (!d) abort();
        c->out = d;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, o->data, o->len);
    c->out_len += o->len;
    if (c->in_flight == 0) send_out(l, c);
}

/* Answers every complete request in [data, data+n) (after any carried-over partial one). */
static void on_data(struct loop* l, struct conn* c, const char* data, size_t n) {
    const char* in = data;
    size_t in_len = n;
    if (c->in_len > 0) { /* a partial request waits: append and parse from the carry buffer */
        if (n > in_capacity - c->in_len) n = in_capacity - c->in_len; /* 431/413 below */
        memcpy(c->in + c->in_len, data, n);
        c->in_len += n;
        in = c->in;
        in_len = c->in_len;
    }
    refresh_cache();
    out_tls.len = 0;
    size_t pos = 0, used = 0;
    enum parse_result r;
    while ((r = handle_request(in, in_len, pos, &used)) == parse_done) pos += used;
    if (r == parse_closed) {
        c->close_after = 1;
        c->in_len = 0;
    } else if (in == c->in) {
        memmove(c->in, c->in + pos, in_len - pos);
        c->in_len = in_len - pos;
    } else {
        memcpy(c->in, in + pos, in_len - pos); /* the partial tail outlives the ring buffer */
        c->in_len = in_len - pos;
    }
    queue_output(l, c);
    if (c->close_after && c->in_flight == 0) conn_close(l, c);
}

static void on_recv(struct loop* l, struct conn* c, int res, unsigned flags) {
    if (!(flags & IORING_CQE_F_MORE)) c->recv_armed = 0;
    if (flags & IORING_CQE_F_BUFFER) {
        unsigned bid = flags >> IORING_CQE_BUFFER_SHIFT;
        if (res > 0 && !c->closing && !c->close_after)
            on_data(l, c, l->buf_data + (size_t)bid * in_capacity, (size_t)res);
        give_buffer(l, bid);
    }
    if (c->closing) {
        maybe_free(c);
    } else if (res == -ENOBUFS) {
        arm_recv(l, c); /* every buffer is out: read again once some come back */
    } else if (res <= 0) {
        conn_close(l, c); /* EOF or an error */
    } else if (!c->recv_armed) {
        arm_recv(l, c);
    }
}

static void on_send(struct loop* l, struct conn* c, int res) {
    size_t covered = c->in_flight;
    c->in_flight = 0;
    if (c->closing) {
        maybe_free(c);
        return;
    }
    if (res < 0) {
        conn_close(l, c);
        return;
    }
    c->out_off += (size_t)res;
    if ((size_t)res == covered && c->out_off == c->out_len) {
        c->out_off = c->out_len = 0;
        if (c->close_after) conn_close(l, c);
        return;
    }
    send_out(l, c); /* a short send, or a batch queued behind it */
}

static void on_accept(struct loop* l, int fd, unsigned flags) {
    if (!(flags & IORING_CQE_F_MORE)) arm_accept(l);
    if (fd < 0) return;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* as c_epoll_http */
    struct conn* c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return;
    }
    c->fd = fd;
    arm_recv(l, c);
}

static void setup(struct loop* l, const struct peer_thread* t) {
    static const char* prog = "c_uring_http";
    memset(l, 0, sizeof *l);
    l->t = t;
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE;
    p.cq_entries = ring_entries * 16;
    int r = io_uring_queue_init_params(ring_entries, &l->ring, &p);
    if (r < 0) {
        errno = -r;
        peer_die(prog, "io_uring_queue_init_params (needs 6.1+ for DEFER_TASKRUN)");
    }
    size_t ring_bytes = buffer_count * sizeof(struct io_uring_buf);
    l->bufs = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    l->buf_data = malloc((size_t)buffer_count * in_capacity);
    if (l->bufs == MAP_FAILED || !l->buf_data) peer_die(prog, "buffer ring memory");
    struct io_uring_buf_reg reg;
    memset(&reg, 0, sizeof reg);
    reg.ring_addr = (uint64_t)(uintptr_t)l->bufs;
    reg.ring_entries = buffer_count;
    reg.bgid = buffer_group;
    r = io_uring_register_buf_ring(&l->ring, &reg, 0);
    if (r < 0) {
        errno = -r;
        peer_die(prog, "io_uring_register_buf_ring (needs 5.19+)");
    }
    io_uring_buf_ring_init(l->bufs);
    for (unsigned i = 0; i < buffer_count; i++)
        io_uring_buf_ring_add(l->bufs, l->buf_data + (size_t)i * in_capacity, in_capacity,
                              (unsigned short)i, io_uring_buf_ring_mask(buffer_count), (int)i);
    io_uring_buf_ring_advance(l->bufs, buffer_count);
    arm_accept(l);
    arm_stop(l);
}

static void* http_loop(void* arg) {
    struct loop l;
    setup(&l, arg);
    for (;;) {
        int r = io_uring_submit_and_wait(&l.ring, 1);
        if (r < 0 && r != -EINTR && r != -ETIME) {
            errno = -r;
            peer_die("c_uring_http", "io_uring_enter");
        }
        struct io_uring_cqe* cqe;
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&l.ring, head, cqe) {
            uint64_t tag = cqe->user_data;
            seen++;
            if (tag == TAG_STOP) {
                /* Connections still open are left to the process exit. */
                io_uring_queue_exit(&l.ring);
                free(out_tls.data);
                return NULL;
            }
            if (tag == TAG_ACCEPT) {
                on_accept(&l, cqe->res, cqe->flags);
            } else if (tag != TAG_IGNORED) {
                struct conn* c = (struct conn*)(uintptr_t)(tag & ~(uint64_t)3);
                if ((tag & 3) == op_recv)
                    on_recv(&l, c, cqe->res, cqe->flags);
                else
                    on_send(&l, c, cqe->res);
            }
        }
        io_uring_cq_advance(&l.ring, seen);
    }
}

int main(int argc, char** argv) {
    peer_server_name = "c-uring";
    return peer_main("c_uring_http", peer_parse_flags(argc, argv), http_loop);
}
