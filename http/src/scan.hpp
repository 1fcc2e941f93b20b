#pragma once
// Internal: the two long scans of a request head, 16 bytes at a time with SSE2 (baseline on
// x86-64), bytes one at a time elsewhere and for the tail. Field values and targets are most of
// a head's bytes; names and methods are short and use the table loop (chars.hpp).

#include "chars.hpp"

#include <algorithm>
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

/// The 16-byte steps of a scan: `ends(v)` marks the lanes whose byte ends it. Steps while the
/// 16 bytes lie before `readable`, which may be past `stop` (a line is rarely 16 bytes long,
/// but the buffer goes on past it); a mark at or past `stop` counts as `stop`. True with `from`
/// at the result; false with `from` where the byte loop takes over.
template <class Ends>
inline bool scan_wide(const char* b, std::size_t& from, std::size_t stop, std::size_t readable,
                      Ends ends) noexcept {
    while (from < stop && from + 16 <= readable) {
        const int mask = lane_mask(ends(load16(b + from)));
        if (mask != 0) {
            from = std::min(from + static_cast<std::size_t>(__builtin_ctz(mask)), stop);
            return true;
        }
        from += 16;
        if (from >= stop) {
            from = stop;
            return true;
        }
    }
    return false;
}
#endif

/// The first index in [from, stop) that is not a field-value byte (VCHAR, obs-text, SP, HTAB):
/// a CR, LF, another control or DEL; or `stop`. Bytes up to `readable` (>= stop) may be read.
inline std::size_t scan_value(const char* b, std::size_t from, std::size_t stop,
                              std::size_t readable) noexcept {
#if defined(__SSE2__)
    const auto ends = [](__m128i v) {
        const __m128i ctl =
            _mm_andnot_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\t')), at_most(v, 0x1f));
        return _mm_or_si128(ctl, _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)));
    };
    if (scan_wide(b, from, stop, readable, ends)) return from;
#else
    (void)readable;
#endif
    return scan(b, from, stop, cls_value);
}

/// The first index in [from, stop) that is not a request-target byte (VCHAR), or `stop`. Bytes
/// up to `readable` (>= stop) may be read.
inline std::size_t scan_target(const char* b, std::size_t from, std::size_t stop,
                               std::size_t readable) noexcept {
#if defined(__SSE2__)
    const auto ends = [](__m128i v) {
        return _mm_or_si128(at_most(v, 0x20),
                            _mm_andnot_si128(at_most(v, 0x7e), _mm_set1_epi8(-1)));
    };
    if (scan_wide(b, from, stop, readable, ends)) return from;
#else
    (void)readable;
#endif
    return scan(b, from, stop, cls_target);
}

}  // namespace opensocket::http::detail
