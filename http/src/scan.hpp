#pragma once
// Internal: the two long scans of a request head, 16 bytes at a time with SSE2 (baseline on
// x86-64), bytes one at a time elsewhere and for the tail. Field values and targets are most of
// a head's bytes; names and methods are short and use the table loop (chars.hpp).

#include "chars.hpp"

#include <cstddef>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace opensocket::http::detail {

#if defined(__SSE2__)
inline __m128i load16(const char* p) noexcept {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

/// Lanes holding a byte <= `max` (unsigned).
inline __m128i at_most(__m128i v, char max) noexcept {
    return _mm_cmpeq_epi8(_mm_subs_epu8(v, _mm_set1_epi8(max)), _mm_setzero_si128());
}

/// One bit per lane of a comparison result (bit i set: lane i matched).
inline int lane_mask(__m128i lanes) noexcept { return _mm_movemask_epi8(lanes); }
#endif

/// The first index in [from, stop) that is not a field-value byte (VCHAR, obs-text, SP, HTAB):
/// a CR, LF, another control or DEL; or `stop`.
inline std::size_t scan_value(const char* b, std::size_t from, std::size_t stop) noexcept {
#if defined(__SSE2__)
    for (; from + 16 <= stop; from += 16) {
        const __m128i v = load16(b + from);
        const __m128i ctl =
            _mm_andnot_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\t')), at_most(v, 0x1f));
        const int mask = lane_mask(_mm_or_si128(ctl, _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f))));
        if (mask != 0) return from + static_cast<std::size_t>(__builtin_ctz(mask));
    }
#endif
    return scan(b, from, stop, cls_value);
}

/// The first index in [from, stop) that is not a request-target byte (VCHAR), or `stop`.
inline std::size_t scan_target(const char* b, std::size_t from, std::size_t stop) noexcept {
#if defined(__SSE2__)
    for (; from + 16 <= stop; from += 16) {
        const __m128i v = load16(b + from);
        const __m128i low = at_most(v, 0x20);
        const __m128i high = _mm_andnot_si128(at_most(v, 0x7e), _mm_set1_epi8(-1));
        const int mask = lane_mask(_mm_or_si128(low, high));
        if (mask != 0) return from + static_cast<std::size_t>(__builtin_ctz(mask));
    }
#endif
    return scan(b, from, stop, cls_target);
}

}  // namespace opensocket::http::detail
