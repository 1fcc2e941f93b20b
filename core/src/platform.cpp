#include <opensocket/detail/platform.hpp>
#include <opensocket/error.hpp>

#ifndef _WIN32
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>
#endif
#include <cerrno>
#include <string>

namespace opensocket {

#ifdef _WIN32
#if defined(__GNUC__) && !defined(__clang__)
// mingw-w64 GCC emulates thread_local (emutls) over winpthreads keys, whose destructors run at
// thread exit in key order. emutls's key, made at the first thread_local access, frees every
// thread_local of the exiting thread before libstdc++'s key (made at the first registration of
// a thread_local destructor) runs those destructors: they then read freed memory. Seen with GCC
// 12.2 under wine: 0xfeeefeee in a thread_local's destructor, and heap corruption at executor
// thread exit (the frame cache's reaper, the HTTP workspace pool). Registering a no-op
// thread-exit destructor before anything touches a thread_local makes libstdc++'s key the older
// one, so the destructors run while their storage is still there.
extern "C" int __cxa_thread_atexit(void (*)(void*), void*, void*) noexcept;

namespace {
void no_thread_exit_work(void*) noexcept {}
struct thread_exit_order {
    thread_exit_order() noexcept { __cxa_thread_atexit(no_thread_exit_work, nullptr, nullptr); }
};
[[gnu::init_priority(101)]] const thread_exit_order thread_exit_order_fix;
}  // namespace
#endif

namespace {

struct errno_pair {
    int wsa;
    int posix;
};

// Winsock's errors and the errno values of the same meaning (mingw's <errno.h> has them all).
constexpr errno_pair socket_errors[] = {
    {WSAEINTR, EINTR},
    {WSAEBADF, EBADF},
    {WSAEACCES, EACCES},
    {WSAEFAULT, EFAULT},
    {WSAEINVAL, EINVAL},
    {WSAEMFILE, EMFILE},
    {WSAEWOULDBLOCK, EWOULDBLOCK},
    {WSAEINPROGRESS, EINPROGRESS},
    {WSAEALREADY, EALREADY},
    {WSAENOTSOCK, ENOTSOCK},
    {WSAEDESTADDRREQ, EDESTADDRREQ},
    {WSAEMSGSIZE, EMSGSIZE},
    {WSAEPROTOTYPE, EPROTOTYPE},
    {WSAENOPROTOOPT, ENOPROTOOPT},
    {WSAEPROTONOSUPPORT, EPROTONOSUPPORT},
    {WSAESOCKTNOSUPPORT, EPROTONOSUPPORT},
    {WSAEOPNOTSUPP, EOPNOTSUPP},
    {WSAEPFNOSUPPORT, EAFNOSUPPORT},
    {WSAEAFNOSUPPORT, EAFNOSUPPORT},
    {WSAEADDRINUSE, EADDRINUSE},
    {WSAEADDRNOTAVAIL, EADDRNOTAVAIL},
    {WSAENETDOWN, ENETDOWN},
    {WSAENETUNREACH, ENETUNREACH},
    {WSAENETRESET, ENETRESET},
    {WSAECONNABORTED, ECONNABORTED},
    {WSAECONNRESET, ECONNRESET},
    {WSAENOBUFS, ENOBUFS},
    {WSAEISCONN, EISCONN},
    {WSAENOTCONN, ENOTCONN},
    {WSAESHUTDOWN, EPIPE},  // send after shutdown(SD_SEND): POSIX says EPIPE
    {WSAETIMEDOUT, ETIMEDOUT},
    {WSAECONNREFUSED, ECONNREFUSED},
    {WSAENAMETOOLONG, ENAMETOOLONG},
    {WSAEHOSTDOWN, EHOSTUNREACH},
    {WSAEHOSTUNREACH, EHOSTUNREACH},
    {WSAECANCELLED, ECANCELED},
    {WSA_OPERATION_ABORTED, ECANCELED},
    {WSA_NOT_ENOUGH_MEMORY, ENOMEM},
};

/// errno values, with Winsock's wording where Winsock has the error: mingw's strerror() knows
/// only the C runtime's first few dozen values ("Unknown error" for ECONNRESET).
class errno_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "errno"; }
    std::string message(int ev) const override {
        for (const auto& p : socket_errors)
            if (p.posix == ev) return std::system_category().message(p.wsa);
        if (ev >= WSABASEERR) return std::system_category().message(ev);
        return std::generic_category().message(ev);
    }
    std::error_condition default_error_condition(int ev) const noexcept override {
        return {ev, std::generic_category()};
    }
};

}  // namespace

const std::error_category& errno_category() noexcept {
    static const errno_category_impl instance;
    return instance;
}

namespace detail {

int errno_from_socket_error(int native) noexcept {
    for (const auto& p : socket_errors)
        if (p.wsa == native) return p.posix;
    return native;
}

std::error_code init_sockets() noexcept {
    // Once per process; never WSACleanup: sockets may live until exit.
    static const int rc = [] {
        WSADATA data;
        return ::WSAStartup(MAKEWORD(2, 2), &data);
    }();
    return rc == 0 ? std::error_code{} : errno_code(errno_from_socket_error(rc));
}

void close_socket(native_handle h) noexcept {
    if (h != invalid_native_handle) ::closesocket(h);
}

std::error_code set_blocking(native_handle h, bool blocking) noexcept {
    u_long on = blocking ? 0 : 1;
    if (::ioctlsocket(h, FIONBIO, &on) != 0) return last_socket_error_code();
    return {};
}

bool pin_current_thread(unsigned cpu) noexcept {
    if (cpu >= 64) return false;  // one processor group
    return ::SetThreadAffinityMask(::GetCurrentThread(), DWORD_PTR{1} << cpu) != 0;
}

}  // namespace detail

#else  // POSIX

namespace detail {

int errno_from_socket_error(int native) noexcept { return native; }

std::error_code init_sockets() noexcept { return {}; }

void close_socket(native_handle h) noexcept {
    if (h != invalid_native_handle) ::close(h);  // EINTR still closes on Linux: never retry
}

std::error_code set_blocking(native_handle h, bool blocking) noexcept {
    int flags = ::fcntl(h, F_GETFL);
    if (flags < 0) return errno_code(errno);
    flags = blocking ? (flags & ~O_NONBLOCK) : (flags | O_NONBLOCK);
    if (::fcntl(h, F_SETFL, flags) != 0) return errno_code(errno);
    return {};
}

bool pin_current_thread(unsigned cpu) noexcept {
#ifdef __linux__
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return ::pthread_setaffinity_np(::pthread_self(), sizeof set, &set) == 0;
#else
    (void)cpu;
    return false;
#endif
}

}  // namespace detail

#endif

std::error_code detail::last_socket_error_code() noexcept {
    return errno_code(last_socket_errno());
}

}  // namespace opensocket
