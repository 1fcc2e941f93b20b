#pragma once
// The non-blocking syscalls behind every io_kind, shared by the readiness-based engines.

#include <opensocket/engine.hpp>

namespace opensocket::detail {

/// Tries `op` once more. Returns true when it finished (op.res is set: >= 0 result or -errno);
/// false when the descriptor is not ready (EAGAIN / EINPROGRESS). `short_io` is set when a read
/// or write moved fewer bytes than asked (the socket buffer is likely drained or full).
bool perform_io(io_op& op, bool& short_io) noexcept;

/// True for the kinds that wait for readability.
inline bool reads(io_kind k) noexcept {
    return k == io_kind::accept || k == io_kind::recv || k == io_kind::recv_exact ||
           k == io_kind::wait_readable || k == io_kind::recv_lent;
}

}  // namespace opensocket::detail
