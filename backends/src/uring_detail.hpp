#pragma once
// Shared by the io_uring engine's files: how SQEs are tagged, and how long one step may be.
// An operation's SQE carries the io_op's address (at least 8-byte aligned, so the low bits are
// free); the other tags are never valid addresses.

#include "io_syscalls.hpp"

#include <opensocket/backends/uring_engine.hpp>
#include <opensocket/engine.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace opensocket {

/// The first queued op on one side (reads or writes) of a descriptor.
inline io_op* uring_engine::op_queue::first(bool read_side) const noexcept {
    for (io_op* cur = front(); cur != nullptr; cur = after(cur))
        if (detail::reads(cur->kind) == read_side) return cur;
    return nullptr;
}

}  // namespace opensocket

namespace opensocket::detail::uring {

/// A cancel request: its own CQE carries nothing the engine needs.
inline constexpr uint64_t ignored = 0;
/// The read on the wake-up eventfd.
inline constexpr uint64_t wake = 8;
/// Set on an op's address while the op waits for readiness (the EAGAIN fallback's POLL_ADD).
inline constexpr uint64_t poll_bit = 1;
/// liburing's own timeout SQE on kernels without IORING_FEAT_EXT_ARG (LIBURING_UDATA_TIMEOUT).
inline constexpr uint64_t liburing_timeout = ~uint64_t{0};

/// The user_data of `op`'s SQE in flight: its address, plus `poll_bit` in the readiness phase.
/// (The engine keeps that phase in `io_op::started`.)
inline uint64_t tag(const io_op& op) noexcept {
    return reinterpret_cast<uintptr_t>(&op) | (op.started ? poll_bit : 0);
}

inline io_op* op_of(uint64_t user_data) noexcept {
    return reinterpret_cast<io_op*>(static_cast<uintptr_t>(user_data & ~poll_bit));
}

/// Set in the tag of an SQE that belongs to a descriptor's slot rather than to one operation (a
/// multishot accept or recv, which outlives the operations it serves). Bit 1 of an op's address
/// is always clear; the wake-up tag (8) has it clear too.
inline constexpr uint64_t slot_bit = 2;
/// Bit 2 of a slot tag: which multishot SQE it is.
enum class slot_sqe : uint64_t { accept = 0, recv = 4 };
/// A slot tag keeps the low 29 bits of the slot's generation (bits 35-63) and its index (bits
/// 3-34): a CQE of a detached descriptor whose slot was reused does not match the new slot.
inline constexpr uint32_t tag_generation_mask = 0x1fffffff;

inline uint64_t slot_tag(io_token t, slot_sqe what) noexcept {
    return (uint64_t{t.generation & tag_generation_mask} << 35) | (uint64_t{t.index} << 3) |
           static_cast<uint64_t>(what) | slot_bit;
}
inline bool is_slot_tag(uint64_t user_data) noexcept { return (user_data & slot_bit) != 0; }
inline slot_sqe slot_sqe_of(uint64_t user_data) noexcept {
    return static_cast<slot_sqe>(user_data & 4);
}
inline uint32_t tag_index(uint64_t user_data) noexcept {
    return static_cast<uint32_t>(user_data >> 3);
}
inline uint32_t tag_generation(uint64_t user_data) noexcept {
    return static_cast<uint32_t>(user_data >> 35);
}

/// The kernel moves at most MAX_RW_COUNT (INT_MAX rounded down to a page) per call, and an SQE's
/// length is 32 bits: a bigger buffer is done in steps (recv_exact/send_all loop anyway).
inline constexpr std::size_t max_step = 0x7ffff000;

/// The length of `op`'s next recv/send step.
inline unsigned step_len(const io_op& op) noexcept {
    return static_cast<unsigned>(std::min(op.len - op.done, max_step));
}

}  // namespace opensocket::detail::uring
