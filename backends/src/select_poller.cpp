#include <opensocket/backends/select_poller.hpp>
#include <opensocket/detail/platform.hpp>
#include <opensocket/error.hpp>

#ifdef _WIN32
#include <cstring>
#else
#include <fcntl.h>
#include <sys/select.h>
#include <unistd.h>
#endif
#include <cerrno>
#include <system_error>

namespace opensocket {

struct select_poller::fd_sets {
    fd_set read;
    fd_set write;
    fd_set except;
};

namespace {

constexpr uint8_t ready_read = 1;
constexpr uint8_t ready_write = 2;
constexpr uint8_t ready_error = 4;

#ifdef _WIN32
// Every translation unit must see the same FD_SETSIZE, or fd_set changes size between them.
static_assert(FD_SETSIZE >= 1024, "build with -DFD_SETSIZE=4096 (core/CMakeLists.txt)");

// Winsock's FD_SET scans the array for duplicates (quadratic over a whole set); the table has
// no duplicates, so append directly.
void append(fd_set& set, SOCKET s) noexcept { set.fd_array[set.fd_count++] = s; }

/// A connected loopback TCP pair: Winsock's select takes sockets only, so a pipe cannot wake it.
void make_wake_pair(SOCKET& read_end, SOCKET& write_end) {
    auto fail_with = [](const char* what) {
        throw std::system_error(detail::last_socket_error_code(), what);
    };
    auto l = socket_handle::open(AF_INET, SOCK_STREAM);
    if (!l) throw std::system_error(l.error(), "select_poller: wake-up listener");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int len = sizeof addr;
    if (::bind(l->get(), reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(l->get(), 1) != 0 ||
        ::getsockname(l->get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        fail_with("select_poller: wake-up listener");
    auto w = socket_handle::open(AF_INET, SOCK_STREAM);
    if (!w) throw std::system_error(w.error(), "select_poller: wake-up socket");
    // Blocking for the handshake: it is loopback and the listener is ours.
    if (auto ec = detail::set_blocking(w->get(), true))
        throw std::system_error(ec, "select_poller: wake-up socket");
    if (::connect(w->get(), reinterpret_cast<sockaddr*>(&addr), len) != 0)
        fail_with("select_poller: wake-up connect");
    sockaddr_in mine{}, peer{};
    int mine_len = sizeof mine, peer_len = sizeof peer;
    ::getsockname(w->get(), reinterpret_cast<sockaddr*>(&mine), &mine_len);
    for (;;) {
        // Another local process could connect first: keep only our own connection.
        socket_handle r(::accept(l->get(), reinterpret_cast<sockaddr*>(&peer), &peer_len));
        if (!r.valid()) {
            if (WSAGetLastError() == WSAEWOULDBLOCK) {
                fd_set set{};
                append(set, l->get());
                ::select(0, &set, nullptr, nullptr, nullptr);
                continue;
            }
            fail_with("select_poller: wake-up accept");
        }
        if (peer.sin_port != mine.sin_port) continue;
        for (SOCKET s : {r.get(), w->get()})
            if (auto ec = detail::set_blocking(s, false))
                throw std::system_error(ec, "select_poller: wake-up socket");
        read_end = r.release();
        write_end = w->release();
        return;
    }
}

int read_wake(SOCKET s, char* buf, int len) noexcept { return ::recv(s, buf, len, 0); }
int write_wake(SOCKET s, const char* buf, int len) noexcept { return ::send(s, buf, len, 0); }

bool still_open(SOCKET s) noexcept {
    int type = 0;
    int len = sizeof type;
    return ::getsockopt(s, SOL_SOCKET, SO_TYPE, reinterpret_cast<char*>(&type), &len) == 0;
}
#else
void append(fd_set& set, int fd) noexcept { FD_SET(fd, &set); }

bool fits(int fd) noexcept { return fd >= 0 && fd < FD_SETSIZE; }

void make_wake_pair(int& read_end, int& write_end) {
    int p[2];
    if (::pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0)
        throw std::system_error(errno_code(errno), "select_poller: pipe2");
    if (!fits(p[0])) {
        ::close(p[0]);
        ::close(p[1]);
        throw std::system_error(make_error_code(error::descriptor_too_large),
                                "select_poller: wake-up pipe");
    }
    read_end = p[0];
    write_end = p[1];
}

ssize_t read_wake(int fd, char* buf, int len) noexcept { return ::read(fd, buf, len); }
ssize_t write_wake(int fd, const char* buf, int len) noexcept { return ::write(fd, buf, len); }

bool still_open(int fd) noexcept { return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF; }
#endif

timeval to_timeval(int64_t ns) noexcept {
    int64_t us = (ns + 999) / 1000;  // round up: never wake before the deadline
    timeval tv{};
    tv.tv_sec = static_cast<decltype(tv.tv_sec)>(us / 1'000'000);
    tv.tv_usec = static_cast<decltype(tv.tv_usec)>(us % 1'000'000);
    return tv;
}

}  // namespace

select_poller::select_poller() : sets_(std::make_unique<fd_sets>()) {
    make_wake_pair(wake_read_, wake_write_);
}

select_poller::~select_poller() {
    detail::close_socket(wake_read_);
    detail::close_socket(wake_write_);
}

std::size_t select_poller::capacity() noexcept {
#ifdef _WIN32
    return FD_SETSIZE - 1;
#else
    return FD_SETSIZE;
#endif
}

select_poller::entry* select_poller::find(native_handle fd) noexcept {
    auto it = index_.find(fd);
    return it == index_.end() ? nullptr : &entries_[it->second];
}

result<void> select_poller::add(native_handle fd, uint64_t token, uint8_t interest) noexcept {
    if (fd == invalid_native_handle) return fail(std::errc::bad_file_descriptor);
#ifdef _WIN32
    if (entries_.size() >= capacity()) return fail(error::descriptor_too_large);
    // Urgent data would otherwise show in exceptfds until read with MSG_OOB: inline it.
    int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_OOBINLINE, reinterpret_cast<const char*>(&on), sizeof on);
#else
    if (fd < 0) return fail(std::errc::bad_file_descriptor);
    if (!fits(fd)) return fail(error::descriptor_too_large);
#endif
    if (index_.count(fd) != 0) return fail(std::errc::file_exists);
    try {
        entries_.push_back({fd, token, interest, 0});
        index_.emplace(fd, entries_.size() - 1);
    } catch (const std::bad_alloc&) {
        if (entries_.size() > index_.size()) entries_.pop_back();
        return fail(std::errc::not_enough_memory);
    }
    return {};
}

result<void> select_poller::update(native_handle fd, uint64_t token, uint8_t interest) noexcept {
    entry* e = find(fd);
    if (e == nullptr) return fail(std::errc::no_such_file_or_directory);
    e->token = token;
    e->interest = interest;
    return {};
}

void select_poller::remove(native_handle fd) noexcept {
    auto it = index_.find(fd);
    if (it == index_.end()) return;
    std::size_t pos = it->second;
    index_.erase(it);
    if (pos + 1 != entries_.size()) {
        entries_[pos] = entries_.back();
        index_[entries_[pos].fd] = pos;
    }
    entries_.pop_back();
}

std::size_t select_poller::fill_sets() noexcept {
    fd_sets& s = *sets_;
#ifdef _WIN32
    s.read.fd_count = s.write.fd_count = s.except.fd_count = 0;
#else
    FD_ZERO(&s.read);
    FD_ZERO(&s.write);
    FD_ZERO(&s.except);
#endif
    // The wake-up is always in: Winsock's select fails with WSAEINVAL when every set is empty.
    append(s.read, wake_read_);
    std::size_t nfds = static_cast<std::size_t>(wake_read_) + 1;
    for (const entry& e : entries_) {
        if (e.interest & interest_read) append(s.read, e.fd);
        if (e.interest & interest_write) append(s.write, e.fd);
#ifdef _WIN32
        // A refused non-blocking connect shows up here (and only here) on Windows.
        if (e.interest != interest_none) append(s.except, e.fd);
#endif
        if (e.interest != interest_none) nfds = std::max(nfds, static_cast<std::size_t>(e.fd) + 1);
    }
    return nfds;
}

bool select_poller::collect_ready() noexcept {
    fd_sets& s = *sets_;
    bool woken = false;
#ifdef _WIN32
    // select left only the ready sockets in each array: map them back through the index.
    auto mark = [&](const fd_set& set, uint8_t bit) {
        for (u_int i = 0; i < set.fd_count; ++i) {
            if (set.fd_array[i] == wake_read_) {
                woken = true;
                continue;
            }
            if (entry* e = find(set.fd_array[i])) e->ready |= bit;
        }
    };
    mark(s.read, ready_read);
    mark(s.write, ready_write);
    mark(s.except, ready_error);
#else
    woken = FD_ISSET(wake_read_, &s.read);
    for (entry& e : entries_) {
        if ((e.interest & interest_read) && FD_ISSET(e.fd, &s.read)) e.ready |= ready_read;
        if ((e.interest & interest_write) && FD_ISSET(e.fd, &s.write)) e.ready |= ready_write;
    }
#endif
    return woken;
}

std::size_t select_poller::emit(std::span<poll_event> out) noexcept {
    std::size_t count = 0;
    const std::size_t n = entries_.size();
    if (cursor_ >= n) cursor_ = 0;
    std::size_t stop = cursor_;
    for (std::size_t k = 0; k < n; ++k) {
        entry& e = entries_[(cursor_ + k) % n];
        if (e.ready == 0) continue;
        if (count == out.size()) {
            stop = (cursor_ + k) % n;  // the first one left over goes first next time
            break;
        }
        poll_event& pe = out[count++];
        pe = poll_event{};
        pe.token = e.token;
        pe.readable = (e.ready & ready_read) != 0;
        pe.writable = (e.ready & ready_write) != 0;
        pe.error = (e.ready & ready_error) != 0;
        e.ready = 0;
    }
    for (entry& e : entries_) e.ready = 0;
    cursor_ = stop;
    return count;
}

std::size_t select_poller::report_closed(std::span<poll_event> out) noexcept {
    // A descriptor closed while registered (misuse: detach first) fails the whole select with
    // EBADF/WSAENOTSOCK. Report each such entry as an error, so that the ops parked on it run
    // and fail, and stop watching it: the loop goes on for every other descriptor.
    std::size_t count = 0;
    for (entry& e : entries_) {
        if (e.interest == interest_none || still_open(e.fd)) continue;
        if (count < out.size()) {
            out[count] = poll_event{};
            out[count].token = e.token;
            out[count].error = true;
            ++count;
        }
        e.interest = interest_none;
    }
    return count;
}

result<std::size_t> select_poller::wait(std::span<poll_event> out, int64_t timeout_ns) noexcept {
    std::size_t nfds = fill_sets();
    timeval tv{};
    timeval* tvp = nullptr;
    if (timeout_ns >= 0) {
        tv = to_timeval(timeout_ns);
        tvp = &tv;
    }
    fd_sets& s = *sets_;
    int n = ::select(static_cast<int>(nfds), &s.read, &s.write, &s.except, tvp);
    if (n < 0) {
        std::error_code ec = detail::last_socket_error_code();
        if (ec == std::errc::interrupted) return std::size_t{0};
        if (ec == std::errc::bad_file_descriptor || ec == std::errc::not_a_socket)
            if (std::size_t closed = report_closed(out); closed != 0) return closed;
        return fail(ec);
    }
    if (n == 0) return std::size_t{0};
    if (collect_ready()) {
        char sink[64];
        while (read_wake(wake_read_, sink, sizeof sink) > 0) {
        }
        // After draining: a wake() from now on writes again. (Clearing first would let a wake
        // that lands between the two leave the flag set with its byte drained: every later
        // wake() would then be skipped.)
        wake_pending_.store(false, std::memory_order_seq_cst);
    }
    return emit(out);
}

void select_poller::wake() noexcept {
    // One byte per burst of wakes is enough; the flag keeps the channel from filling up.
    if (wake_pending_.exchange(true, std::memory_order_seq_cst)) return;
    char one = 1;
    (void)write_wake(wake_write_, &one, 1);  // full: a wake is already pending
}

}  // namespace opensocket
