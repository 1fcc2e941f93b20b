#pragma once
/// \file frame_allocator.hpp
/// Coroutine frames come from per-thread free lists (64-byte size classes up to 2 KiB), so a
/// spawn or a child task costs no malloc in steady state. The fast path is inline and touches
/// only trivially destructible thread-local storage (no TLS init guard). Sanitizer builds use
/// plain `new` so that ASan still sees every use of a destroyed frame.

#include <cstddef>
#include <cstdint>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define OPENSOCKET_PLAIN_FRAMES 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define OPENSOCKET_PLAIN_FRAMES 1
#endif
#endif

namespace opensocket::detail {

void* frame_alloc_slow(std::size_t size);
void frame_free_slow(void* p, std::size_t size) noexcept;

#ifndef OPENSOCKET_PLAIN_FRAMES
inline constexpr std::size_t frame_granule = 64;
inline constexpr std::size_t frame_classes = 32;    // up to 2 KiB
inline constexpr uint32_t frame_max_cached = 4096;  // per class and thread

struct free_frame {
    free_frame* next;
};
struct frame_cache {
    free_frame* heads[frame_classes];
    uint32_t counts[frame_classes];
    /// 0: no reaper yet, 1: reaper registered (cache on), 2: thread exiting (cache off).
    uint8_t reaper_state;
};
/// Trivially destructible on purpose: access needs no guard. Emptied at thread exit by a
/// separate reaper registered on the slow path.
extern constinit thread_local frame_cache tls_frame_cache;

inline void* frame_alloc(std::size_t size) {
    std::size_t cls = (size + frame_granule - 1) / frame_granule;
    if (cls < frame_classes) {
        frame_cache& c = tls_frame_cache;
        if (free_frame* b = c.heads[cls]) {
            c.heads[cls] = b->next;
            --c.counts[cls];
            return b;
        }
    }
    return frame_alloc_slow(size);
}

inline void frame_free(void* p, std::size_t size) noexcept {
    std::size_t cls = (size + frame_granule - 1) / frame_granule;
    if (cls < frame_classes) {
        frame_cache& c = tls_frame_cache;
        if (c.reaper_state == 1 && c.counts[cls] < frame_max_cached) {
            auto* b = static_cast<free_frame*>(p);
            b->next = c.heads[cls];
            c.heads[cls] = b;
            ++c.counts[cls];
            return;
        }
    }
    frame_free_slow(p, size);
}
#else
inline void* frame_alloc(std::size_t size) { return frame_alloc_slow(size); }
inline void frame_free(void* p, std::size_t size) noexcept { frame_free_slow(p, size); }
#endif

}  // namespace opensocket::detail
