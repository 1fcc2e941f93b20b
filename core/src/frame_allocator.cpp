#include <opensocket/detail/frame_allocator.hpp>

#include <array>
#include <new>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define OPENSOCKET_PLAIN_FRAMES 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define OPENSOCKET_PLAIN_FRAMES 1
#endif
#endif

namespace opensocket::detail {
namespace {

#ifndef OPENSOCKET_PLAIN_FRAMES
constexpr std::size_t granule = 64;
constexpr std::size_t classes = 32;       // up to 2 KiB
constexpr std::size_t max_cached = 4096;  // per class and thread; the rest goes back to malloc

struct free_block {
    free_block* next;
};

struct frame_cache {
    std::array<free_block*, classes> heads{};
    std::array<std::size_t, classes> counts{};
    ~frame_cache() {
        for (auto* head : heads) {
            while (head != nullptr) {
                free_block* next = head->next;
                ::operator delete(head);
                head = next;
            }
        }
    }
};

thread_local frame_cache cache;
#endif

}  // namespace

void* frame_alloc(std::size_t size) {
#ifndef OPENSOCKET_PLAIN_FRAMES
    std::size_t cls = (size + granule - 1) / granule;
    if (cls < classes) {
        if (free_block* b = cache.heads[cls]) {
            cache.heads[cls] = b->next;
            --cache.counts[cls];
            return b;
        }
        return ::operator new(cls * granule);
    }
#endif
    return ::operator new(size);
}

void frame_free(void* p, std::size_t size) noexcept {
#ifndef OPENSOCKET_PLAIN_FRAMES
    std::size_t cls = (size + granule - 1) / granule;
    if (cls < classes && cache.counts[cls] < max_cached) {
        auto* b = static_cast<free_block*>(p);
        b->next = cache.heads[cls];
        cache.heads[cls] = b;
        ++cache.counts[cls];
        return;
    }
#else
    (void)size;
#endif
    ::operator delete(p);
}

}  // namespace opensocket::detail
