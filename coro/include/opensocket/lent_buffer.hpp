#pragma once
/// \file lent_buffer.hpp
/// `lent_buffer`: bytes a read put into a buffer the engine owns (`tcp_stream::read_lent`), on
/// loan to the caller until it is destroyed or reset. The io_uring engine lends buffers of its
/// provided-buffer ring; the readiness engines lend from a small heap pool. Either way no buffer
/// is tied up while a read waits, so an idle connection costs no buffer memory.

#include <opensocket/engine.hpp>
#include <opensocket/io_object.hpp>

#include <cstddef>
#include <span>
#include <string_view>
#include <utility>

namespace opensocket {

namespace detail {
class lent_awaiter;
}

/// Move-only. Gives the buffer back to its engine when destroyed, reset or assigned to. It
/// belongs to the executor whose engine lent it: destroy or reset it on that executor's thread,
/// and before that executor (its runtime) ends. Holding many for long drains the engine's pool
/// (the io_uring engine then reads into heap buffers: slower, never stuck).
class lent_buffer {
public:
    lent_buffer() noexcept = default;
    lent_buffer(lent_buffer&& o) noexcept
        : engine_(std::exchange(o.engine_, nullptr)),
          data_(std::exchange(o.data_, nullptr)),
          size_(std::exchange(o.size_, 0)),
          id_(o.id_) {}
    lent_buffer& operator=(lent_buffer&& o) noexcept {
        if (this != &o) {
            reset();
            engine_ = std::exchange(o.engine_, nullptr);
            data_ = std::exchange(o.data_, nullptr);
            size_ = std::exchange(o.size_, 0);
            id_ = o.id_;
        }
        return *this;
    }
    ~lent_buffer() { reset(); }

    /// The bytes read (empty: the peer closed the stream). Writable: the buffer is the caller's
    /// until given back.
    std::span<std::byte> bytes() const noexcept { return {data_, size_}; }
    std::byte* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    std::string_view text() const noexcept { return {reinterpret_cast<const char*>(data_), size_}; }

    /// Gives the buffer back now; the object is empty afterwards.
    void reset() noexcept {
        if (data_ != nullptr) engine_->release(data_, id_);
        engine_ = nullptr;
        data_ = nullptr;
        size_ = 0;
    }

private:
    friend class detail::lent_awaiter;
    lent_buffer(engine* e, std::byte* data, std::size_t size, std::size_t id) noexcept
        : engine_(e), data_(data), size_(size), id_(id) {}

    engine* engine_ = nullptr;
    std::byte* data_ = nullptr;
    std::size_t size_ = 0;
    std::size_t id_ = 0;
};

namespace detail {

/// read_lent: a lent buffer with at least 1 byte, or an empty one at end of stream.
class lent_awaiter : public deadline_mixin<lent_awaiter> {
public:
    using deadline_mixin::deadline_mixin;
    result<lent_buffer> await_resume() noexcept {
        if (auto ec = finish()) return fail(ec);
        if (op_.res <= 0 || op_.buf == nullptr) return lent_buffer{};
        return lent_buffer(&op_.ex->io(), op_.buf, static_cast<std::size_t>(op_.res), op_.done);
    }
};

}  // namespace detail
}  // namespace opensocket
