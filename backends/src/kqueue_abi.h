#pragma once
/// \file kqueue_abi.h
/// The kqueue ABI, declared by us for systems without <sys/event.h> (Linux), so that
/// kqueue_poller.cpp compiles and can be tested there against a test double of kqueue()/kevent().
/// Never used where the system header exists: kqueue_poller.cpp includes this file only when
/// `__has_include(<sys/event.h>)` is false. Not installed; not public API.
///
/// Two layouts, picked with a macro:
///   default                        FreeBSD >= 12: 64-byte struct kevent (int64_t data, ext[4])
///   OPENSOCKET_KQUEUE_ABI_MACOS    macOS/iOS (xnu): 32-byte struct kevent, #pragma pack(4)
/// Sources: FreeBSD sys/sys/event.h and kqueue(2); xnu bsd/sys/event.h (both match the layouts in
/// the Rust libc crate). The flag values below are the same on both systems except EVFILT_USER.

// It stands in for a system header, and is treated as one: g++ -Wshadow would otherwise flag
// the kevent() function hiding struct kevent's constructor, as it does not in <sys/event.h>.
#pragma GCC system_header

#include <stdint.h>
#include <time.h>

#ifdef OPENSOCKET_KQUEUE_ABI_MACOS

#pragma pack(push, 4)
struct kevent {
    uintptr_t ident;  // identifier for this event (a descriptor for READ/WRITE)
    int16_t filter;   // EVFILT_*
    uint16_t flags;   // EV_* actions, flags and returned values
    uint32_t fflags;  // filter-specific flags (NOTE_*)
    intptr_t data;    // filter-specific data (bytes readable, errno with EV_ERROR, ...)
    void* udata;      // opaque user data, returned unchanged
};
#pragma pack(pop)

#define EVFILT_USER (-10)

#if UINTPTR_MAX == 0xffffffffffffffffu
static_assert(sizeof(struct kevent) == 32, "macOS LP64 struct kevent is 32 bytes");
static_assert(alignof(struct kevent) == 4, "xnu declares struct kevent under #pragma pack(4)");
#endif

#define EV_SET(kevp, a, b, c, d, e, f) \
    do {                               \
        struct kevent* kev_ = (kevp);  \
        kev_->ident = (a);             \
        kev_->filter = (b);            \
        kev_->flags = (c);             \
        kev_->fflags = (d);            \
        kev_->data = (e);              \
        kev_->udata = (f);             \
    } while (0)

#else  // FreeBSD >= 12

struct kevent {
    uintptr_t ident;       // identifier for this event (a descriptor for READ/WRITE)
    short filter;          // EVFILT_*
    unsigned short flags;  // EV_* actions, flags and returned values
    unsigned int fflags;   // filter-specific flags (NOTE_*)
    int64_t data;          // filter-specific data (bytes readable, errno with EV_ERROR, ...)
    void* udata;           // opaque user data, returned unchanged
    uint64_t ext[4];       // extensions: [0], [1] filter-defined, [2], [3] passed through
};

#define EVFILT_USER (-11)

#if UINTPTR_MAX == 0xffffffffffffffffu
static_assert(sizeof(struct kevent) == 64, "FreeBSD >= 12 LP64 struct kevent is 64 bytes");
#endif

#define EV_SET(kevp, a, b, c, d, e, f) \
    do {                               \
        struct kevent* kev_ = (kevp);  \
        kev_->ident = (a);             \
        kev_->filter = (b);            \
        kev_->flags = (c);             \
        kev_->fflags = (d);            \
        kev_->data = (e);              \
        kev_->udata = (f);             \
        kev_->ext[0] = 0;              \
        kev_->ext[1] = 0;              \
        kev_->ext[2] = 0;              \
        kev_->ext[3] = 0;              \
    } while (0)

#endif

// Filters (the ones OpenSocket uses or its test double knows; same numbers on both systems).
#define EVFILT_READ (-1)
#define EVFILT_WRITE (-2)
#define EVFILT_AIO (-3)
#define EVFILT_VNODE (-4)
#define EVFILT_PROC (-5)
#define EVFILT_SIGNAL (-6)
#define EVFILT_TIMER (-7)

// Actions.
#define EV_ADD 0x0001      // add the event (implies enable)
#define EV_DELETE 0x0002   // delete the event
#define EV_ENABLE 0x0004   // enable (report) the event
#define EV_DISABLE 0x0008  // disable (do not report) the event

// Flags.
#define EV_ONESHOT 0x0010   // report one occurrence, then delete
#define EV_CLEAR 0x0020     // reset the state after reporting (edge-triggered)
#define EV_RECEIPT 0x0040   // always return an EV_ERROR entry for the change (data 0 = success)
#define EV_DISPATCH 0x0080  // disable after reporting

#define EV_SYSFLAGS 0xF000  // reserved by the system; cleared from input

// Returned values.
#define EV_ERROR 0x4000  // error: data holds the errno
#define EV_EOF 0x8000    // end of file; fflags may hold a socket error

// EVFILT_USER: on input the top two bits of fflags say how the low 24 bits combine with the
// stored fflags; NOTE_TRIGGER fires the event.
#define NOTE_FFNOP 0x00000000u
#define NOTE_FFAND 0x40000000u
#define NOTE_FFOR 0x80000000u
#define NOTE_FFCOPY 0xc0000000u
#define NOTE_FFCTRLMASK 0xc0000000u
#define NOTE_FFLAGSMASK 0x00ffffffu
#define NOTE_TRIGGER 0x01000000u

// EVFILT_READ/WRITE.
#define NOTE_LOWAT 0x0001u

#ifdef __cplusplus
extern "C" {
#endif

int kqueue(void);
int kevent(int kq, const struct kevent* changelist, int nchanges, struct kevent* eventlist,
           int nevents, const struct timespec* timeout);

#ifdef __cplusplus
}
#endif
