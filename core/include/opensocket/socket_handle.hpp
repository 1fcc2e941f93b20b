#pragma once
/// \file socket_handle.hpp
/// An owning, move-only socket descriptor.

#include <opensocket/address.hpp>
#include <opensocket/detail/platform.hpp>
#include <opensocket/result.hpp>

#include <utility>

namespace opensocket {

/// Owns one socket descriptor and closes it on destruction. Move-only; not thread-safe.
class socket_handle {
public:
    socket_handle() noexcept = default;
    explicit socket_handle(native_handle fd) noexcept : fd_(fd) {}
    socket_handle(socket_handle&& o) noexcept : fd_(std::exchange(o.fd_, invalid_native_handle)) {}
    socket_handle& operator=(socket_handle&& o) noexcept {
        if (this != &o) reset(std::exchange(o.fd_, invalid_native_handle));
        return *this;
    }
    socket_handle(const socket_handle&) = delete;
    socket_handle& operator=(const socket_handle&) = delete;
    ~socket_handle() { reset(); }

    /// A new non-blocking, close-on-exec socket (on Windows: non-inheritable, and Winsock is
    /// started on first use). Errors: the `socket(2)` errno.
    static result<socket_handle> open(int family, int type, int protocol = 0) noexcept;

    native_handle get() const noexcept { return fd_; }
    bool valid() const noexcept { return fd_ != invalid_native_handle; }
    explicit operator bool() const noexcept { return valid(); }
    /// Gives up ownership without closing.
    native_handle release() noexcept { return std::exchange(fd_, invalid_native_handle); }
    /// Closes the current descriptor (if any) and takes `fd`.
    void reset(native_handle fd = invalid_native_handle) noexcept;

    /// The bound local address (`getsockname`).
    result<socket_address> local_address() const noexcept;
    /// The connected peer's address (`getpeername`).
    result<socket_address> peer_address() const noexcept;

private:
    native_handle fd_ = invalid_native_handle;
};

}  // namespace opensocket
