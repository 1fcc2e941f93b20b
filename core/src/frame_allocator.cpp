#include <opensocket/detail/frame_allocator.hpp>

#include <new>

namespace opensocket::detail {

#ifndef OPENSOCKET_PLAIN_FRAMES

constinit thread_local frame_cache tls_frame_cache{};

namespace {

// Frees the thread's cached frames when the thread exits. Only the slow path touches it, so the
// fast path never pays for its TLS guard.
struct frame_reaper {
    bool armed = false;
    ~frame_reaper() {
        frame_cache& c = tls_frame_cache;
        for (std::size_t i = 0; i < frame_classes; ++i) {
            while (free_frame* b = c.heads[i]) {
                c.heads[i] = b->next;
                ::operator delete(b);
            }
            c.counts[i] = 0;
        }
        c.reaper_state = 2;  // frames freed later in this thread's exit go back to malloc
    }
};
thread_local frame_reaper reaper;

}  // namespace

void* frame_alloc_slow(std::size_t size) {
    std::size_t cls = (size + frame_granule - 1) / frame_granule;
    if (cls < frame_classes) return ::operator new(cls* frame_granule);  // rounded: reusable
    return ::operator new(size);
}

void frame_free_slow(void* p, std::size_t size) noexcept {
    std::size_t cls = (size + frame_granule - 1) / frame_granule;
    frame_cache& c = tls_frame_cache;
    // The thread's first cacheable free registers the reaper; from then on the fast path caches.
    if (cls < frame_classes && c.reaper_state == 0) {
        reaper.armed = true;
        c.reaper_state = 1;
        auto* b = static_cast<free_frame*>(p);
        b->next = c.heads[cls];
        c.heads[cls] = b;
        ++c.counts[cls];
        return;
    }
    ::operator delete(p);
}

#else

void* frame_alloc_slow(std::size_t size) { return ::operator new(size); }
void frame_free_slow(void* p, std::size_t) noexcept { ::operator delete(p); }

#endif

}  // namespace opensocket::detail
