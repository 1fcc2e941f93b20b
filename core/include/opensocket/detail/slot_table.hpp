#pragma once
/// \file slot_table.hpp
/// The engines' table of attached descriptors: slots reused through a free list, each with a
/// generation so that an `io_token` (index + generation) of a detached slot is recognised as
/// stale even after the slot is reused. Shared by the readiness and io_uring engines.
/// Single-threaded.

#include <opensocket/engine.hpp>
#include <opensocket/result.hpp>

#include <cstdint>
#include <new>
#include <system_error>
#include <vector>

namespace opensocket::detail {

/// `Slot` must have `uint32_t generation` (start at 1), `bool in_use` and `uint32_t next_free`.
template <class Slot>
class slot_table {
public:
    /// A free slot (reused or new), marked in use; its fields are what the last user left, apart
    /// from `in_use`. Fails only when the table cannot grow.
    result<io_token> acquire() noexcept {
        uint32_t index;
        if (free_head_ != 0) {
            index = free_head_ - 1;
            free_head_ = slots_[index].next_free;
        } else {
            try {
                slots_.emplace_back();
            } catch (const std::bad_alloc&) {
                return fail(std::errc::not_enough_memory);
            }
            index = static_cast<uint32_t>(slots_.size() - 1);
        }
        Slot& s = slots_[index];
        s.in_use = true;
        return io_token{index, s.generation};
    }

    /// Puts back a slot acquired just now and never handed out (its generation stays).
    void unacquire(io_token t) noexcept {
        slots_[t.index].in_use = false;
        recycle(t.index);
    }

    /// Ends the live slot of `t`: its generation moves on, so `t` and every event or completion
    /// still carrying it are stale from now on. The slot is not reusable until `recycle`, so
    /// the caller may still tidy it (`release` does both).
    void retire(Slot& s) noexcept {
        ++s.generation;
        s.in_use = false;
    }
    void recycle(uint32_t index) noexcept {
        slots_[index].next_free = free_head_;
        free_head_ = index + 1;
    }
    void release(io_token t) noexcept {
        if (Slot* s = find(t)) {
            retire(*s);
            recycle(t.index);
        }
    }

    /// The live slot of `t`, or nullptr when `t` is stale or was never issued.
    Slot* find(io_token t) noexcept {
        if (t.index >= slots_.size()) return nullptr;
        Slot& s = slots_[t.index];
        return s.in_use && s.generation == t.generation ? &s : nullptr;
    }

    /// The slot at `index` whatever its state (nullptr past the end).
    Slot* at(uint32_t index) noexcept { return index < slots_.size() ? &slots_[index] : nullptr; }

    auto begin() noexcept { return slots_.begin(); }
    auto end() noexcept { return slots_.end(); }

private:
    std::vector<Slot> slots_;
    uint32_t free_head_ = 0;  // 1-based index into slots_, 0 = none
};

}  // namespace opensocket::detail
