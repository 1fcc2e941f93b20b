#pragma once
/// \file error.hpp
/// Errors specific to OpenSocket. System errors use `std::system_category()`
/// (errno values); portable conditions compare against `std::errc`:
/// `r.error() == std::errc::operation_canceled`, `== std::errc::timed_out`.

#include <system_error>

namespace opensocket {

/// Library-specific error codes, in the "opensocket" category.
enum class error {
    invalid_address = 1,  ///< text is not `IPv4:port`, `[IPv6]:port` or a bare address
    invalid_port,         ///< port missing, not a number, or above 65535
    unexpected_eof,       ///< the peer closed before `read_exact` got every byte
    engine_unavailable,   ///< the requested engine cannot run on this system
    not_on_executor,      ///< started off the socket's executor (or outside any executor)
};

/// The "opensocket" error category.
const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), error_category()};
}

/// An `errno` value as an error code in the system category.
inline std::error_code errno_code(int e) noexcept { return {e, std::system_category()}; }

}  // namespace opensocket

template <>
struct std::is_error_code_enum<opensocket::error> : std::true_type {};
