#pragma once
/// \file frame_allocator.hpp
/// Coroutine frames come from per-thread free lists (64-byte size classes up to 2 KiB), so a
/// spawn or a child task costs no malloc in steady state. Sanitizer builds use plain `new` so
/// that ASan still sees every use of a destroyed frame.

#include <cstddef>

namespace opensocket::detail {

void* frame_alloc(std::size_t size);
void frame_free(void* p, std::size_t size) noexcept;

}  // namespace opensocket::detail
