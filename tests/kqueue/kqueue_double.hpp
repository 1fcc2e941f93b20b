#pragma once
// A test double of kqueue()/kevent() for Linux, where neither exists: kqueue_double.cpp defines
// both functions (with the ABI of backends/src/kqueue_abi.h) on top of epoll, pipes and poll, so
// that kqueue_poller.cpp runs unchanged. This header is the tests' window into it: a log of every
// change and call the code under test made, fault injection, and the live registrations.
//
// What it emulates (FreeBSD semantics; the macOS ABI build follows xnu where they differ):
//  - kqueue(): a descriptor (a pipe's read end, so close() works and is detected).
//  - per-kqueue registrations keyed by (ident, filter); EV_ADD (modifies an existing one),
//    EV_DELETE, EV_ENABLE, EV_DISABLE, EV_CLEAR, EV_ONESHOT, EV_DISPATCH, EV_RECEIPT, EV_ERROR
//    entries for failed changes; EV_SYSFLAGS cleared from input; ENOENT, EBADF, EINVAL.
//  - EVFILT_READ/WRITE on sockets and pipes: EV_CLEAR registrations sit in an edge-triggered
//    epoll per direction, so a report comes once per change (each new arrival, FIN, buffer space
//    freed) exactly as the kernel's knote activations; others sit in a level-triggered epoll.
//    EV_EOF on EPOLLRDHUP/EPOLLHUP (read) and EPOLLHUP (write). `data`: FIONREAD bytes for reads
//    (1 for a listening socket), a free-space estimate for writes.
//  - EVFILT_USER: EV_ADD/DELETE, NOTE_FF* flag arithmetic, NOTE_TRIGGER from any thread (wakes a
//    blocked kevent() through the pipe), EV_CLEAR resets the trigger once reported.
//  - timeouts (null = forever, {0,0} = poll), -1/EINTR, nevents == 0 returns without waiting.
//  - closing a registered descriptor drops its registrations, as the real kqueue does: checked
//    at every call by comparing the descriptor's (st_dev, st_ino) with the one registered, which
//    also catches a closed-and-reused number. The drop is counted (dropped_on_close()).
// Approximations (documented, none matters for a socket poller):
//  - a socket error (EPOLLERR) is reported as EV_EOF with fflags = EIO, not the real errno: Linux
//    can only read SO_ERROR by clearing it, and the code under test must still see it.
//  - a closed descriptor's registrations go at the next kevent()/kqueue() call, not at close().
//  - regular files and other epoll-less descriptors get EPERM from EV_ADD (the kernel accepts).

#include "kqueue_abi.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace kqueue_double {

/// One change as the code under test passed it to kevent(), with what it did.
struct change_record {
    int kq;
    uintptr_t ident;
    short filter;
    unsigned short flags;  ///< as passed (before EV_SYSFLAGS is cleared)
    unsigned int fflags;
    void* udata;
    bool fd_open;  ///< READ/WRITE: the descriptor was open when the change was applied
    int error;     ///< the errno it produced; 0 = applied
};

/// One kevent() call.
struct call_record {
    int kq;
    int nchanges;
    int nevents;
    int64_t timeout_ns;  ///< -1 = null (forever)
    int result;          ///< return value (-1: see error)
    int error;
};

/// Everything logged since the last reset (all kqueues), oldest first.
std::vector<change_record> changes();
std::vector<call_record> calls();
void reset_log();

/// Registrations of `kq` still alive (READ/WRITE/USER), after dropping closed descriptors'.
std::size_t registrations(int kq);
bool is_registered(int kq, uintptr_t ident, short filter);
/// Whether the (READ/WRITE) registration is enabled; false if there is none.
bool is_enabled(int kq, uintptr_t ident, short filter);
/// Registrations dropped because their descriptor was closed (or its number reused) without
/// EV_DELETE first, since the last reset_log().
std::size_t dropped_on_close();
/// Threads blocked inside kevent() on `kq` right now (for tests that must wake a real sleeper).
int blocked_waiters(int kq);
/// kqueues still open (a closed kqueue descriptor frees its state at the next call).
std::size_t live_kqueues();

/// The next kqueue() fails with `err`.
void fail_next_kqueue(int err);
/// The next change with EV_ADD on `filter` fails with `err` (before anything is registered).
void fail_next_add(short filter, int err);
/// The next kevent() that would block returns -1 with EINTR instead.
void interrupt_next_wait();
/// `ev` is returned, as is, by the next kevent() on `kq` that collects events.
void inject_event(int kq, const struct kevent& ev);

}  // namespace kqueue_double
