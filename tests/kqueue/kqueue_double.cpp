// The kqueue()/kevent() test double (see kqueue_double.hpp for what it emulates and where it
// approximates). One global mutex guards every table; kevent() never holds it while blocking,
// so NOTE_TRIGGER from another thread gets through to a waiting kevent().

#include "kqueue_double.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <climits>
#include <ctime>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

#include <linux/sockios.h>

namespace {

struct file_id {
    dev_t dev;
    ino_t ino;
    bool operator==(const file_id&) const = default;
};

std::optional<file_id> identify(int fd) {
    struct stat st {};
    if (fd < 0 || ::fstat(fd, &st) != 0) return std::nullopt;
    return file_id{st.st_dev, st.st_ino};
}

using key = std::pair<uintptr_t, short>;  // (ident, filter)

struct registration {
    uint64_t id = 0;  // epoll data: events for a deleted registration are recognised and dropped
    uintptr_t ident = 0;
    short filter = 0;
    unsigned short flags = 0;  // as registered, less the actions (what the kernel returns)
    unsigned int fflags = 0;   // EVFILT_USER: the stored flags
    void* udata = nullptr;
    bool enabled = true;
    file_id file{};          // READ/WRITE: the descriptor's file when registered
    int epfd = -1;           // the epoll instance holding it, -1 if none (disabled, USER)
    bool triggered = false;  // EVFILT_USER
};

struct kq_state {
    int fd = -1;      // the descriptor kqueue() returned: the read end of `wake_w`'s pipe
    int wake_w = -1;  // NOTE_TRIGGER writes a byte here to wake a blocked kevent()
    file_id id{};
    int ep[2][2] = {{-1, -1}, {-1, -1}};  // [write filter][EV_CLEAR]: four epoll instances
    std::map<key, registration> regs;
    std::unordered_map<uint64_t, key> by_id;
    std::deque<struct kevent> injected;
    int blocked = 0;  // threads inside ppoll() for this kqueue

    ~kq_state() {
        for (auto& dir : ep)
            for (int e : dir)
                if (e >= 0) ::close(e);
        if (wake_w >= 0) ::close(wake_w);
        // `fd` belongs to the caller, who closed it (that is how this state died).
    }
};

struct world {
    std::mutex mu;
    std::map<int, std::unique_ptr<kq_state>> kqs;
    uint64_t next_id = 1;
    std::vector<kqueue_double::change_record> changes;
    std::vector<kqueue_double::call_record> calls;
    std::size_t dropped = 0;
    int fail_kqueue = 0;
    std::map<short, int> fail_add;
    bool interrupt = false;
};

world& the_world() {
    static world w;
    return w;
}

constexpr unsigned short actions = EV_ADD | EV_DELETE | EV_ENABLE | EV_DISABLE;

bool is_fd_filter(short filter) { return filter == EVFILT_READ || filter == EVFILT_WRITE; }

void disarm(kq_state& k, registration& r) {
    if (r.epfd >= 0) {
        // ENOENT/EBADF when the file is gone: the kernel already forgot it.
        ::epoll_ctl(r.epfd, EPOLL_CTL_DEL, static_cast<int>(r.ident), nullptr);
        r.epfd = -1;
    }
    (void)k;
}

/// (Re)inserts an enabled READ/WRITE registration into its epoll. Re-adding re-evaluates the
/// condition, as the kernel does when EV_ADD or EV_ENABLE touches an existing knote.
int arm(kq_state& k, registration& r) {
    disarm(k, r);
    if (!r.enabled) return 0;
    const bool write = r.filter == EVFILT_WRITE;
    const bool clear = (r.flags & EV_CLEAR) != 0;
    epoll_event ev{};
    ev.events = write ? EPOLLOUT : (EPOLLIN | EPOLLRDHUP);
    if (clear) ev.events |= EPOLLET;
    ev.data.u64 = r.id;
    int epfd = k.ep[write ? 1 : 0][clear ? 1 : 0];
    if (::epoll_ctl(epfd, EPOLL_CTL_ADD, static_cast<int>(r.ident), &ev) != 0) return errno;
    r.epfd = epfd;
    return 0;
}

void erase(kq_state& k, std::map<key, registration>::iterator it) {
    disarm(k, it->second);
    k.by_id.erase(it->second.id);
    k.regs.erase(it);
}

/// Drops closed kqueues and the registrations of closed (or reused) descriptors.
void sweep(world& w) {
    for (auto it = w.kqs.begin(); it != w.kqs.end();) {
        auto id = identify(it->first);
        if (!id || !(*id == it->second->id))
            it = w.kqs.erase(it);
        else
            ++it;
    }
    for (auto& [fd, k] : w.kqs) {
        for (auto it = k->regs.begin(); it != k->regs.end();) {
            registration& r = it->second;
            auto id = is_fd_filter(r.filter) ? identify(static_cast<int>(r.ident)) : std::nullopt;
            if (is_fd_filter(r.filter) && (!id || !(*id == r.file))) {
                // The kernel removed the epoll item with the file; a DEL now could only hit a
                // different file that reuses the number.
                r.epfd = -1;
                k->by_id.erase(r.id);
                it = k->regs.erase(it);
                ++w.dropped;
            } else {
                ++it;
            }
        }
    }
}

kq_state* find_kq(world& w, int kq) {
    auto it = w.kqs.find(kq);
    return it == w.kqs.end() ? nullptr : it->second.get();
}

int apply_fd(world& w, kq_state& k, const struct kevent& c) {
    if (c.ident > static_cast<uintptr_t>(INT_MAX)) return EBADF;
    auto file = identify(static_cast<int>(c.ident));
    if (!file) return EBADF;
    auto it = k.regs.find({c.ident, c.filter});
    if (c.flags & EV_DELETE) {
        if (it == k.regs.end()) return ENOENT;
        erase(k, it);
        return 0;
    }
    const bool added = it == k.regs.end();
    if (added && !(c.flags & EV_ADD)) return ENOENT;
    if (c.flags & EV_ADD) {
        if (auto f = w.fail_add.find(c.filter); f != w.fail_add.end()) {
            int err = f->second;
            w.fail_add.erase(f);
            return err;
        }
    }
    if (added) {
        registration r;
        r.id = w.next_id++;
        r.ident = c.ident;
        r.filter = c.filter;
        r.file = *file;
        r.enabled = (c.flags & EV_DISABLE) == 0;
        it = k.regs.emplace(key{c.ident, c.filter}, r).first;
        k.by_id[r.id] = it->first;
    }
    registration& r = it->second;
    if (c.flags & EV_ADD) {
        r.udata = c.udata;
        r.flags = c.flags & ~(actions | EV_SYSFLAGS);
    }
    if (c.flags & EV_DISABLE)
        r.enabled = false;
    else if (c.flags & EV_ENABLE)
        r.enabled = true;
    if (int err = arm(k, r); err != 0) {
        if (added) erase(k, it);
        return err;
    }
    return 0;
}

int apply_user(world& w, kq_state& k, const struct kevent& c) {
    auto it = k.regs.find({c.ident, EVFILT_USER});
    if (c.flags & EV_DELETE) {
        if (it == k.regs.end()) return ENOENT;
        erase(k, it);
        return 0;
    }
    if (it == k.regs.end()) {
        if (!(c.flags & EV_ADD)) return ENOENT;
        if (auto f = w.fail_add.find(EVFILT_USER); f != w.fail_add.end()) {
            int err = f->second;
            w.fail_add.erase(f);
            return err;
        }
        registration r;
        r.id = w.next_id++;
        r.ident = c.ident;
        r.filter = EVFILT_USER;
        r.enabled = (c.flags & EV_DISABLE) == 0;
        it = k.regs.emplace(key{c.ident, EVFILT_USER}, r).first;
        k.by_id[r.id] = it->first;
    }
    registration& r = it->second;
    if (c.flags & EV_ADD) {
        r.udata = c.udata;
        r.flags = c.flags & ~(actions | EV_SYSFLAGS);
    }
    if (c.flags & EV_DISABLE)
        r.enabled = false;
    else if (c.flags & EV_ENABLE)
        r.enabled = true;
    const unsigned int value = c.fflags & NOTE_FFLAGSMASK;
    switch (c.fflags & NOTE_FFCTRLMASK) {
        case NOTE_FFAND: r.fflags &= value; break;
        case NOTE_FFOR: r.fflags |= value; break;
        case NOTE_FFCOPY: r.fflags = value; break;
        default: break;
    }
    if (c.fflags & NOTE_TRIGGER) {
        r.triggered = true;
        char byte = 1;
        [[maybe_unused]] auto n = ::write(k.wake_w, &byte, 1);  // EAGAIN: already awake
    }
    return 0;
}

int apply(world& w, kq_state& k, const struct kevent& in) {
    struct kevent c = in;
    c.flags &= static_cast<unsigned short>(~EV_SYSFLAGS);
    int err = EINVAL;
    if (is_fd_filter(c.filter))
        err = apply_fd(w, k, c);
    else if (c.filter == EVFILT_USER)
        err = apply_user(w, k, c);
    bool fd_open = is_fd_filter(c.filter) && c.ident <= static_cast<uintptr_t>(INT_MAX) &&
                   identify(static_cast<int>(c.ident)).has_value();
    w.changes.push_back({k.fd, in.ident, in.filter, in.flags, in.fflags, in.udata, fd_open, err});
    return err;
}

int64_t readable_bytes(int fd) {
    int listening = 0;
    socklen_t len = sizeof listening;
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening != 0)
        return 1;  // the kernel reports the backlog length; "at least one" is what we know
    int n = 0;
    return ::ioctl(fd, FIONREAD, &n) == 0 ? n : 0;
}

int64_t writable_bytes(int fd) {
    int sndbuf = 0;
    socklen_t len = sizeof sndbuf;
    int queued = 0;
    if (::getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &len) != 0 ||
        ::ioctl(fd, SIOCOUTQ, &queued) != 0)
        return 1;
    return std::max(sndbuf - queued, 1);
}

/// Builds the event for a fired READ/WRITE registration and applies ONESHOT/DISPATCH.
struct kevent fd_event(kq_state& k, registration& r, uint32_t happened) {
    struct kevent ev {};
    ev.ident = r.ident;
    ev.filter = r.filter;
    ev.flags = r.flags;
    ev.udata = r.udata;
    const int fd = static_cast<int>(r.ident);
    if (r.filter == EVFILT_READ) {
        ev.data = readable_bytes(fd);
        if (happened & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) ev.flags |= EV_EOF;
    } else {
        ev.data = writable_bytes(fd);
        if (happened & (EPOLLHUP | EPOLLERR)) ev.flags |= EV_EOF;
    }
    if (happened & EPOLLERR) ev.fflags = EIO;  // stand-in: reading SO_ERROR would clear it
    if (r.flags & EV_DISPATCH) {
        r.enabled = false;
        disarm(k, r);
    }
    return ev;
}

/// Collects up to `room` pending events of `k` into `out` without blocking.
int collect(kq_state& k, struct kevent* out, int room) {
    char sink[64];
    while (::read(k.fd, sink, sizeof sink) > 0) {
    }
    int n = 0;
    while (n < room && !k.injected.empty()) {
        out[n++] = k.injected.front();
        k.injected.pop_front();
    }
    std::vector<key> oneshots;
    for (auto& [id, r] : k.regs) {
        if (n == room) break;
        if (r.filter != EVFILT_USER || !r.enabled || !r.triggered) continue;
        struct kevent& ev = out[n++];
        ev = {};
        ev.ident = r.ident;
        ev.filter = EVFILT_USER;
        ev.flags = r.flags;
        ev.fflags = r.fflags;
        ev.udata = r.udata;
        if (r.flags & EV_CLEAR) r.triggered = false;
        if (r.flags & EV_DISPATCH) r.enabled = false;
        if (r.flags & EV_ONESHOT) oneshots.push_back(id);
    }
    // Descriptor events from the four epolls; then grouped by ident, so that the READ and WRITE
    // events of one descriptor sit next to each other as in the kernel's queue when both fire.
    std::vector<std::pair<uint64_t, uint32_t>> fired;
    epoll_event buf[64];
    for (auto& dir : k.ep) {
        for (int epfd : dir) {
            int want = std::min<int>(room - n - static_cast<int>(fired.size()), 64);
            if (want <= 0) break;
            int got = ::epoll_wait(epfd, buf, want, 0);
            for (int i = 0; i < got; ++i) {
                uint64_t id = buf[i].data.u64;  // epoll_event is packed: copy, do not bind
                uint32_t happened = buf[i].events;
                fired.emplace_back(id, happened);
            }
        }
    }
    std::vector<std::pair<key, uint32_t>> ready;
    for (auto [id, happened] : fired) {
        auto it = k.by_id.find(id);
        if (it != k.by_id.end()) ready.emplace_back(it->second, happened);
    }
    std::stable_sort(ready.begin(), ready.end(),
                     [](const auto& a, const auto& b) { return a.first.first < b.first.first; });
    for (auto& [id, happened] : ready) {
        registration& r = k.regs.at(id);
        if (!r.enabled) continue;
        out[n++] = fd_event(k, r, happened);
        if (r.flags & EV_ONESHOT) oneshots.push_back(id);
    }
    for (const key& id : oneshots)
        if (auto it = k.regs.find(id); it != k.regs.end()) erase(k, it);
    return n;
}

int64_t now_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

int fail_with(int err) {
    errno = err;
    return -1;
}

}  // namespace

extern "C" int kqueue(void) {
    world& w = the_world();
    std::lock_guard lock(w.mu);
    sweep(w);
    if (w.fail_kqueue != 0) return fail_with(std::exchange(w.fail_kqueue, 0));
    auto k = std::make_unique<kq_state>();
    int p[2];
    if (::pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0) return -1;
    k->fd = p[0];
    k->wake_w = p[1];
    for (auto& dir : k->ep) {
        for (int& e : dir) {
            e = ::epoll_create1(EPOLL_CLOEXEC);
            if (e < 0) {
                int err = errno;
                ::close(k->fd);
                return fail_with(err);
            }
        }
    }
    k->id = *identify(k->fd);
    int fd = k->fd;
    w.kqs[fd] = std::move(k);
    return fd;
}

extern "C" int kevent(int kq, const struct kevent* changelist, int nchanges,
                      struct kevent* eventlist, int nevents, const struct timespec* timeout) {
    world& w = the_world();
    std::unique_lock lock(w.mu);
    const int64_t timeout_ns =
        timeout == nullptr ? -1 : int64_t{timeout->tv_sec} * 1'000'000'000 + timeout->tv_nsec;
    auto finish = [&](int result, int err) {
        w.calls.push_back({kq, nchanges, nevents, timeout_ns, result, err});
        if (result < 0) errno = err;
        return result;
    };
    sweep(w);
    kq_state* k = find_kq(w, kq);
    if (k == nullptr) return finish(-1, EBADF);
    if (nchanges < 0 || nevents < 0) return finish(-1, EINVAL);
    if (timeout != nullptr &&
        (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1'000'000'000))
        return finish(-1, EINVAL);

    // Changes first. A failed change, or any change with EV_RECEIPT, takes an eventlist entry
    // flagged EV_ERROR with the errno in `data` (FreeBSD: flags = EV_ERROR; xnu: |= EV_ERROR).
    int nerrors = 0;
    int pending_error = 0;
    for (int i = 0; i < nchanges; ++i) {
        const struct kevent& c = changelist[i];
        if (c.filter == 0) continue;
        int err = apply(w, *k, c);
        if (err == 0 && !(c.flags & EV_RECEIPT)) continue;
        if (nevents - nerrors == 0) {
#ifdef OPENSOCKET_KQUEUE_ABI_MACOS
            if (err != 0) pending_error = err;  // xnu keeps going, then fails the call
            continue;
#else
            // FreeBSD's kqueue_kevent() returns at once: the remaining changes are not applied.
            return err != 0 ? finish(-1, err) : finish(0, 0);
#endif
        }
        struct kevent& r = eventlist[nerrors++];
        r = c;
#ifdef OPENSOCKET_KQUEUE_ABI_MACOS
        r.flags |= EV_ERROR;
#else
        r.flags = EV_ERROR;
#endif
        r.data = err;
    }
    if (pending_error != 0) return finish(-1, pending_error);
    if (nerrors > 0) return finish(nerrors, 0);
    if (nevents == 0) return finish(0, 0);

    const int64_t deadline = timeout_ns < 0 ? -1 : now_ns() + timeout_ns;
    for (;;) {
        if (int n = collect(*k, eventlist, nevents); n > 0) return finish(n, 0);
        int64_t left = deadline < 0 ? -1 : deadline - now_ns();
        if (deadline >= 0 && left <= 0) return finish(0, 0);
        if (std::exchange(w.interrupt, false)) return finish(-1, EINTR);
        pollfd fds[5] = {{k->fd, POLLIN, 0},
                         {k->ep[0][0], POLLIN, 0},
                         {k->ep[0][1], POLLIN, 0},
                         {k->ep[1][0], POLLIN, 0},
                         {k->ep[1][1], POLLIN, 0}};
        timespec ts{static_cast<time_t>(left / 1'000'000'000),
                    static_cast<long>(left % 1'000'000'000)};
        ++k->blocked;
        lock.unlock();
        int r = ::ppoll(fds, 5, left < 0 ? nullptr : &ts, nullptr);
        int err = errno;
        lock.lock();
        --k->blocked;
        if (r < 0 && err == EINTR) return finish(-1, EINTR);
        sweep(w);
        k = find_kq(w, kq);
        if (k == nullptr) return finish(-1, EBADF);
    }
}

namespace kqueue_double {

std::vector<change_record> changes() {
    std::lock_guard lock(the_world().mu);
    return the_world().changes;
}

std::vector<call_record> calls() {
    std::lock_guard lock(the_world().mu);
    return the_world().calls;
}

void reset_log() {
    world& w = the_world();
    std::lock_guard lock(w.mu);
    w.changes.clear();
    w.calls.clear();
    w.dropped = 0;
}

std::size_t registrations(int kq) {
    world& w = the_world();
    std::lock_guard lock(w.mu);
    sweep(w);
    kq_state* k = find_kq(w, kq);
    return k == nullptr ? 0 : k->regs.size();
}

bool is_registered(int kq, uintptr_t ident, short filter) {
    world& w = the_world();
    std::lock_guard lock(w.mu);
    sweep(w);
    kq_state* k = find_kq(w, kq);
    return k != nullptr && k->regs.count({ident, filter}) != 0;
}

bool is_enabled(int kq, uintptr_t ident, short filter) {
    world& w = the_world();
    std::lock_guard lock(w.mu);
    sweep(w);
    kq_state* k = find_kq(w, kq);
    if (k == nullptr) return false;
    auto it = k->regs.find({ident, filter});
    return it != k->regs.end() && it->second.enabled;
}

std::size_t dropped_on_close() {
    world& w = the_world();
    std::lock_guard lock(w.mu);
    sweep(w);
    return w.dropped;
}

int blocked_waiters(int kq) {
    world& w = the_world();
    std::lock_guard lock(w.mu);
    kq_state* k = find_kq(w, kq);
    return k == nullptr ? 0 : k->blocked;
}

std::size_t live_kqueues() {
    world& w = the_world();
    std::lock_guard lock(w.mu);
    sweep(w);
    return w.kqs.size();
}

void fail_next_kqueue(int err) {
    std::lock_guard lock(the_world().mu);
    the_world().fail_kqueue = err;
}

void fail_next_add(short filter, int err) {
    std::lock_guard lock(the_world().mu);
    the_world().fail_add[filter] = err;
}

void interrupt_next_wait() {
    std::lock_guard lock(the_world().mu);
    the_world().interrupt = true;
}

void inject_event(int kq, const struct kevent& ev) {
    world& w = the_world();
    std::lock_guard lock(w.mu);
    if (kq_state* k = find_kq(w, kq)) {
        k->injected.push_back(ev);
        char byte = 1;
        [[maybe_unused]] auto n = ::write(k->wake_w, &byte, 1);
    }
}

}  // namespace kqueue_double
