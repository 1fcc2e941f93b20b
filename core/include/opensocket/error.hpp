#pragma once
/// \file error.hpp
/// Errors specific to OpenSocket. System errors are errno values in `errno_category()`
/// (`std::system_category()` on POSIX); portable conditions compare against `std::errc`:
/// `r.error() == std::errc::operation_canceled`, `== std::errc::timed_out`.

#include <system_error>

namespace opensocket {

/// Library-specific error codes, in the "opensocket" category.
enum class error {
    invalid_address = 1,   ///< text is not `IPv4:port`, `[IPv6]:port` or a bare address
    invalid_port,          ///< port missing, not a number, or above 65535
    unexpected_eof,        ///< the peer closed before `read_exact` got every byte
    engine_unavailable,    ///< the requested engine cannot run on this system
    not_on_executor,       ///< started off the socket's executor (or outside any executor)
    descriptor_too_large,  ///< select() cannot watch it: fd >= FD_SETSIZE (POSIX), or the set
                           ///< already holds FD_SETSIZE sockets (Windows)
};

/// The "opensocket" error category.
const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), error_category()};
}

#ifdef _WIN32
/// The category of `errno_code`. On Windows `std::system_category()` holds Windows error
/// numbers, so errno values (Winsock errors mapped to them) get their own category: it compares
/// equal to `std::errc` like the generic category and takes its messages from Winsock.
const std::error_category& errno_category() noexcept;
#else
/// The category of `errno_code`: the system category (errno values).
inline const std::error_category& errno_category() noexcept { return std::system_category(); }
#endif

/// An `errno` value as an error code in `errno_category()`.
inline std::error_code errno_code(int e) noexcept { return {e, errno_category()}; }

}  // namespace opensocket

template <>
struct std::is_error_code_enum<opensocket::error> : std::true_type {};
