#pragma once
// Internal: character classes of RFC 9110/9112 as one 256-entry table, so that every inner loop
// is a load and a test per byte (no branches on ranges), plus the ASCII helpers the parsers share.

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace opensocket::http::detail {

inline constexpr std::uint8_t cls_token = 1;   // token: ALPHA DIGIT !#$%&'*+-.^_`|~
inline constexpr std::uint8_t cls_value = 2;   // field value: VCHAR obs-text SP HTAB
inline constexpr std::uint8_t cls_target = 4;  // request-target: VCHAR
inline constexpr std::uint8_t cls_hex = 8;
inline constexpr std::uint8_t cls_qdtext = 16;  // quoted-string text: HTAB SP ! #-[ ]-~ obs-text
inline constexpr std::uint8_t cls_ows = 32;     // SP HTAB

constexpr std::uint8_t classify(int c) noexcept {
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool digit = c >= '0' && c <= '9';
    const bool vchar = c >= 0x21 && c <= 0x7e;
    const bool obs_text = c >= 0x80;
    const bool space = c == ' ' || c == '\t';
    std::uint8_t f = 0;
    if (alpha || digit ||
        std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos) {
        f |= cls_token;
    }
    if (vchar || obs_text || space) f |= cls_value;
    if (vchar) f |= cls_target;
    if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) f |= cls_hex;
    if ((vchar || obs_text || space) && c != '"' && c != '\\') f |= cls_qdtext;
    if (space) f |= cls_ows;
    return f;
}

constexpr std::array<std::uint8_t, 256> make_char_table() noexcept {
    std::array<std::uint8_t, 256> t{};
    for (int c = 0; c < 256; ++c) t[static_cast<std::size_t>(c)] = classify(c);
    return t;
}

inline constexpr std::array<std::uint8_t, 256> char_table = make_char_table();

constexpr bool is(char c, std::uint8_t cls) noexcept {
    return (char_table[static_cast<unsigned char>(c)] & cls) != 0;
}

constexpr char to_lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

/// The bytes at `p` as one native-endian integer (an unaligned load).
template <class T>
T load(const char* p) noexcept {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

/// What `load<T>` gives for the bytes of `s` (a literal of exactly sizeof(T) characters).
template <class T, std::size_t N>
constexpr T word(const char (&s)[N]) noexcept {
    static_assert(N - 1 == sizeof(T), "one character per byte of T");
    T v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
        const auto byte = static_cast<T>(static_cast<unsigned char>(s[i]));
        const std::size_t at = std::endian::native == std::endian::little ? i : sizeof(T) - 1 - i;
        v = static_cast<T>(v | static_cast<T>(byte << (8 * at)));
    }
    return v;
}

/// Whether the `n` bytes at `a`, each ORed with `Fold`, equal the `n` bytes at `b`: whole words
/// for the short strings of the hot paths (no loop and no libc call up to 32 bytes). `Fold` is
/// 0 for plain equality, 0x20 to ignore ASCII case (see `field_iequals`).
template <std::uint8_t Fold>
inline bool equal_words(const char* a, const char* b, std::size_t n) noexcept {
    constexpr std::uint64_t fold8 = 0x0101010101010101 * Fold;
    const auto differ = [a, b](std::size_t i) {
        return (load<std::uint64_t>(a + i) | fold8) ^ load<std::uint64_t>(b + i);
    };
    if (n > 32) {
        if constexpr (Fold == 0) {
            return std::memcmp(a, b, n) == 0;
        } else {
            for (std::size_t i = 0; i + 8 < n; i += 8) {
                if (differ(i) != 0) return false;
            }
            return differ(n - 8) == 0;
        }
    }
    if (n >= 8) {  // two words from each end, overlapping when n < 32
        const std::size_t back = n > 16 ? n - 16 : 0;
        return (differ(0) | differ(n > 16 ? 8 : 0) | differ(back) | differ(n - 8)) == 0;
    }
    if (n >= 4) {
        constexpr auto fold4 = static_cast<std::uint32_t>(fold8);
        return (((load<std::uint32_t>(a) | fold4) ^ load<std::uint32_t>(b)) |
                ((load<std::uint32_t>(a + n - 4) | fold4) ^ load<std::uint32_t>(b + n - 4))) == 0;
    }
    for (std::size_t i = 0; i < n; ++i) {
        if ((a[i] | Fold) != b[i]) return false;
    }
    return true;
}

inline bool same_bytes(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && equal_words<0>(a.data(), b.data(), a.size());
}

/// Case-insensitive equality of bytes from a field line (a name, or an element of a value)
/// with `lower`, made of lower-case letters, digits and '-' only.
/// ORing 0x20 into a byte maps 'A'-'Z' to 'a'-'z' and leaves 'a'-'z', digits and '-' alone;
/// the only other bytes it maps onto those are controls other than HTAB, and a field line has
/// none (HTAB becomes ')', in no `lower`). So the result is exact for field-line bytes.
inline bool field_iequals(std::string_view s, std::string_view lower) noexcept {
    return s.size() == lower.size() && equal_words<0x20>(s.data(), lower.data(), s.size());
}

constexpr int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    return to_lower(c) - 'a' + 10;
}

/// The first index in [from, stop) whose byte is not in `cls`, or `stop`.
inline std::size_t scan(const char* b, std::size_t from, std::size_t stop,
                        std::uint8_t cls) noexcept {
    while (from < stop && is(b[from], cls)) ++from;
    return from;
}

/// `scan` for `cls_token`, four bytes per step while they are all token bytes (names and
/// methods are short: most end within a step or two).
inline std::size_t scan_token(const char* b, std::size_t from, std::size_t stop) noexcept {
    const auto at = [b](std::size_t i) { return char_table[static_cast<unsigned char>(b[i])]; };
    while (from + 4 <= stop && (at(from) & at(from + 1) & at(from + 2) & at(from + 3) & cls_token))
        from += 4;
    return scan(b, from, stop, cls_token);
}

}  // namespace opensocket::http::detail
