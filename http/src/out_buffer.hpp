#pragma once
// Internal: a connection's pending output. Unlike std::string it can hand out uninitialised
// room at its end, so a response is one capacity check and straight copies (no zero fill, no
// check per piece).

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>

namespace opensocket::http::detail {

class out_buffer {
public:
    out_buffer() = default;

    bool empty() const noexcept { return size_ == 0; }
    std::size_t size() const noexcept { return size_; }
    std::size_t capacity() const noexcept { return capacity_; }
    std::string_view view() const noexcept { return {data_.get(), size_}; }
    std::span<const std::byte> bytes() const noexcept {
        return std::as_bytes(std::span(data_.get(), size_));
    }
    void clear() noexcept { size_ = 0; }

    /// At least `n` writable bytes past the end (growing if needed); `commit` says how many of
    /// them were written. Throws std::bad_alloc like std::string.
    char* prepare(std::size_t n) {
        if (capacity_ - size_ < n) grow(n);
        return data_.get() + size_;
    }
    /// Makes `n` bytes written at `prepare()`'s pointer part of the buffer.
    void commit(std::size_t n) noexcept { size_ += n; }

    void append(std::string_view s) {
        if (s.empty()) return;
        std::memcpy(prepare(s.size()), s.data(), s.size());
        size_ += s.size();
    }

    /// Sets the capacity to `n` (at least the size): to reserve up front, or to give back a
    /// buffer a large response grew.
    void reallocate(std::size_t n) {
        n = std::max(n, size_);
        if (n == capacity_) return;
        std::unique_ptr<char[]> moved;
        if (n != 0) moved = std::make_unique_for_overwrite<char[]>(n);
        if (size_ != 0) std::memcpy(moved.get(), data_.get(), size_);
        data_ = std::move(moved);
        capacity_ = n;
    }

private:
    void grow(std::size_t n) { reallocate(std::max({capacity_ * 2, size_ + n, std::size_t{256}})); }

    std::unique_ptr<char[]> data_;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
};

}  // namespace opensocket::http::detail
