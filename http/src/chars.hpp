#pragma once
// Internal: character classes of RFC 9110/9112 as one 256-entry table, so that every inner loop
// is a load and a test per byte (no branches on ranges), plus the ASCII helpers the parsers share.

#include <array>
#include <cstddef>
#include <cstdint>
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

/// ASCII case-insensitive equality; `lower` must already be lower case.
constexpr bool iequals(std::string_view s, std::string_view lower) noexcept {
    if (s.size() != lower.size()) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (to_lower(s[i]) != lower[i]) return false;
    }
    return true;
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

}  // namespace opensocket::http::detail
