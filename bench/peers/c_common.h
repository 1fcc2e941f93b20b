/* Shared plumbing of the hand-written C peers (c_epoll_http, c_epoll_echo): flags, one
 * SO_REUSEPORT listener per thread, and the SIGTERM shutdown. Each peer supplies only its
 * per-thread event loop. Header-only on purpose: the peers are two small programs, not a
 * library, and each must read top to bottom on its own. */
#ifndef OPENSOCKET_BENCH_C_COMMON_H
#define OPENSOCKET_BENCH_C_COMMON_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

struct peer_config {
    int port;    /* 0: any; the first listener picks it and the others share it */
    int threads; /* default: one per online CPU */
};

static void peer_die(const char* prog, const char* what) {
    fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(errno));
    exit(1);
}

static struct peer_config peer_parse_flags(int argc, char** argv) {
    struct peer_config c = {0, (int)sysconf(_SC_NPROCESSORS_ONLN)};
    for (int i = 1; i < argc; i += 2) { /* every flag takes a value */
        const char* v = i + 1 < argc ? argv[i + 1] : NULL;
        char* end = NULL;
        long n = v ? strtol(v, &end, 10) : -1;
        int ok = v && *v && *end == '\0';
        if (strcmp(argv[i], "--port") == 0 && ok && n >= 0 && n <= 65535) {
            c.port = (int)n;
        } else if (strcmp(argv[i], "--threads") == 0 && ok && n >= 0 && n <= 1024) {
            if (n > 0) c.threads = (int)n;
        } else {
            fprintf(stderr, "usage: %s [--port P] [--threads N]\n", argv[0]);
            exit(2);
        }
    }
    if (c.threads < 1) c.threads = 1;
    return c;
}

/* A non-blocking loopback listener with SO_REUSEPORT, so that every thread accepts on its own
 * socket and the kernel spreads connections: no shared accept queue, no locks. */
static int peer_listen(const char* prog, int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) peer_die(prog, "socket");
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
        peer_die(prog, "setsockopt");
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr*)&a, sizeof a) != 0) peer_die(prog, "bind");
    if (listen(fd, 4096) != 0) peer_die(prog, "listen");
    return fd;
}

static int peer_local_port(const char* prog, int fd) {
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    if (getsockname(fd, (struct sockaddr*)&a, &len) != 0) peer_die(prog, "getsockname");
    return ntohs(a.sin_port);
}

struct peer_thread {
    int listen_fd;
    int stop_fd; /* eventfd, readable once SIGTERM arrived: every loop watches it */
    pthread_t thread;
};

/* The per-thread loop a peer supplies; it returns once stop_fd is readable. */
typedef void* (*peer_loop_fn)(void* peer_thread);

/* Binds one listener per thread, prints "listening on 127.0.0.1:PORT", runs `loop` on every
 * thread, and returns 0 after SIGTERM or SIGINT once every thread has left its loop. */
static int peer_main(const char* prog, struct peer_config c, peer_loop_fn loop) {
    /* Blocked before the threads start, so that only sigwait() below sees them. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN); /* a peer that vanished is a write error, not a dead server */

    int stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (stop_fd < 0) peer_die(prog, "eventfd");
    struct peer_thread* t = calloc((size_t)c.threads, sizeof *t);
    if (!t) peer_die(prog, "calloc");
    int port = c.port;
    for (int i = 0; i < c.threads; i++) {
        t[i].listen_fd = peer_listen(prog, port);
        t[i].stop_fd = stop_fd;
        if (port == 0) port = peer_local_port(prog, t[i].listen_fd);
    }
    for (int i = 0; i < c.threads; i++)
        if (pthread_create(&t[i].thread, NULL, loop, &t[i]) != 0) peer_die(prog, "pthread_create");
    printf("listening on 127.0.0.1:%d\n", port);
    fflush(stdout);

    int sig = 0;
    sigwait(&sigs, &sig);
    uint64_t one = 1;
    if (write(stop_fd, &one, sizeof one) != sizeof one) peer_die(prog, "eventfd write");
    for (int i = 0; i < c.threads; i++) {
        pthread_join(t[i].thread, NULL);
        close(t[i].listen_fd);
    }
    close(stop_fd);
    free(t);
    return 0;
}

/* epoll_event.data.ptr of the listener and of the stop eventfd: two distinct addresses that are
 * never a connection. */
static char peer_listener_tag, peer_stop_tag;

/* Creates the thread's epoll set with the listener and the stop eventfd in it (level-triggered). */
static inline int peer_epoll(const char* prog, const struct peer_thread* t) {
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) peer_die(prog, "epoll_create1");
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &peer_listener_tag};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, t->listen_fd, &ev) != 0) peer_die(prog, "epoll_ctl");
    ev.data.ptr = &peer_stop_tag;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, t->stop_fd, &ev) != 0) peer_die(prog, "epoll_ctl");
    return ep;
}

#endif
