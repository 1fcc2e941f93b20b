#pragma once
/// \file request_head.hpp
/// A parsed request head: views into the caller's buffer, never copies. Everything here is
/// valid while the buffer holding the head is alive and unmoved (see `request_parser::head`).

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string_view>

namespace opensocket::http {

/// The methods this server implements; any other method is answered with 501.
enum class method : std::uint8_t { get, head, post, put, delete_, options, patch };

/// The method's name as sent on the wire (`"GET"`, `"DELETE"`, ...).
std::string_view to_string(method m) noexcept;

/// The protocol version. `HTTP/1.x` with x > 1 is read as 1.1 (RFC 9110 section 2.5).
enum class version : std::uint8_t { http_1_0, http_1_1 };

/// `"HTTP/1.0"` or `"HTTP/1.1"`.
std::string_view to_string(version v) noexcept;

/// How the body is delimited (RFC 9112 section 6.3).
enum class body_kind : std::uint8_t {
    none,            ///< neither Content-Length nor Transfer-Encoding: no body
    content_length,  ///< exactly `length` bytes follow the head (maybe 0)
    chunked,         ///< `Transfer-Encoding: chunked`: decode with `chunked_decoder`
};

/// The body framing of a request; `length` is meaningful for `content_length` only.
struct body_framing {
    body_kind kind = body_kind::none;
    std::uint64_t length = 0;
};

/// One field line: the name as sent (compare case-insensitively) and the value without
/// leading or trailing whitespace.
struct header {
    std::string_view name;
    std::string_view value;
};

namespace detail {
/// Where a field line's name and value lie, as offsets from the start of the head.
struct field_span {
    std::uint32_t name_offset;
    std::uint32_t name_size;
    std::uint32_t value_offset;
    std::uint32_t value_size;
};
}  // namespace detail

/// The field lines of a head, in order: an indexable forward range of `header` values built
/// on access from offsets. Cheap to copy; valid as long as the head it came from.
class header_list {
public:
    class iterator {
    public:
        using iterator_concept = std::forward_iterator_tag;
        using iterator_category = std::input_iterator_tag;  // yields values, not references
        using value_type = header;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = header;

        iterator() = default;
        iterator(const char* base, const detail::field_span* at) noexcept : base_(base), at_(at) {}
        header operator*() const noexcept { return header_list::make(base_, *at_); }
        iterator& operator++() noexcept {
            ++at_;
            return *this;
        }
        iterator operator++(int) noexcept {
            auto old = *this;
            ++at_;
            return old;
        }
        friend bool operator==(iterator a, iterator b) noexcept { return a.at_ == b.at_; }

    private:
        const char* base_ = nullptr;
        const detail::field_span* at_ = nullptr;
    };

    header_list() = default;
    header_list(const char* base, std::span<const detail::field_span> fields) noexcept
        : base_(base), fields_(fields) {}

    std::size_t size() const noexcept { return fields_.size(); }
    bool empty() const noexcept { return fields_.empty(); }
    /// The i-th field line; `i < size()`.
    header operator[](std::size_t i) const noexcept { return make(base_, fields_[i]); }
    iterator begin() const noexcept { return {base_, fields_.data()}; }
    iterator end() const noexcept { return {base_, fields_.data() + fields_.size()}; }

    /// The value of the first field named `name` (ASCII case-insensitive), or nullopt.
    std::optional<std::string_view> find(std::string_view name) const noexcept;

private:
    static header make(const char* base, const detail::field_span& f) noexcept {
        return {{base + f.name_offset, f.name_size}, {base + f.value_offset, f.value_size}};
    }
    const char* base_ = nullptr;
    std::span<const detail::field_span> fields_;
};

/// A complete, validated request head. A plain value of views (see the file comment).
struct request_head {
    http::method method = http::method::get;
    std::string_view method_text;  ///< the method as sent, e.g. `"GET"`
    std::string_view target;       ///< the request-target as sent, e.g. `"/a/b?x=1"`
    http::version version = http::version::http_1_1;
    header_list headers;
    body_framing body;
    /// The connection may carry another request after this one: HTTP/1.1 unless
    /// `Connection: close`; HTTP/1.0 only with `Connection: keep-alive` (and no `close`).
    bool keep_alive = true;
    /// HTTP/1.1 with `Expect: 100-continue`: send `100 Continue` (or the final status) before
    /// reading the body. Ignored in HTTP/1.0 requests (RFC 9110 section 10.1.1).
    bool expect_continue = false;
    /// Bytes of the head from the start of the buffer through the empty line's CRLF, including
    /// any empty lines skipped before the request line. The body (if any) starts here.
    std::size_t size = 0;

    /// The target's path: up to `?` for origin-form; after the authority for absolute-form
    /// (`"/"` when it has none); `"*"` for asterisk-form.
    std::string_view path() const noexcept;
    /// The target's query, without the `?`; empty when there is none.
    std::string_view query() const noexcept;
};

}  // namespace opensocket::http
