#pragma once
/// \file engine.hpp
/// The engine interface: what the coroutine layer asks of an I/O mechanism. The readiness engine
/// (over epoll, kqueue or select) and the io_uring engine implement it. One engine per executor;
/// every member except `wake()` is called on that executor's thread only.

#include <opensocket/operation.hpp>
#include <opensocket/result.hpp>
#include <opensocket/socket_handle.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace opensocket {

/// Identifies an attached descriptor inside one engine: slot index + generation, so that an
/// event for a descriptor that was detached (and whose slot was reused) is recognised and dropped.
struct io_token {
    uint32_t index = 0;
    uint32_t generation = 0;
    uint64_t pack() const noexcept { return (uint64_t{generation} << 32) | index; }
    static io_token unpack(uint64_t v) noexcept {
        return {static_cast<uint32_t>(v), static_cast<uint32_t>(v >> 32)};
    }
};

enum class io_kind : uint8_t {
    accept,         ///< `res` = the new descriptor; `addr`/`addrlen` receive the peer
    connect,        ///< `addr`/`addrlen` hold the target; `res` = 0
    recv,           ///< `res` = bytes read (0 = EOF)
    recv_exact,     ///< reads until `len` bytes or EOF; `res` = bytes read
    send,           ///< `res` = bytes written
    send_all,       ///< writes all `len` bytes; `res` = `len`
    wait_readable,  ///< waits until a read would not block (data, EOF or error); `res` = 0.
                    ///< Needs no buffer: idle connections pin no memory while they wait.
    recv_lent,      ///< reads into a buffer the engine lends: on success `buf` points at `res`
                    ///< bytes (0 = EOF, `buf` null) and `done` names the buffer for
                    ///< `engine::release`. `buf`/`len` are ignored on start. No buffer is pinned
                    ///< while the op waits.
};

/// An I/O operation in the awaiting frame. `res` >= 0 is the result, < 0 is `-errno`.
/// `done` counts bytes already moved by the *_exact/_all kinds (valid after any completion).
struct io_op : op_base {
    io_kind kind = io_kind::recv;
    // Two flags in one byte: the struct has no padding left, and a byte more costs eight.
    bool started : 1 = false;  ///< connect: the connect(2) call was issued
    /// A read (recv, recv_exact, wait_readable) the engine may serve from its read-ahead: bytes
    /// it already took from the socket into its own buffers (`tcp_stream::read_ahead`).
    bool ahead : 1 = false;
    io_token token{};
    native_handle fd = invalid_native_handle;
    std::byte* buf = nullptr;
    std::size_t len = 0;
    std::size_t done = 0;
    sockaddr* addr = nullptr;
    socklen_t* addrlen = nullptr;
    int64_t res = 0;
    io_op* next = nullptr;  ///< engine-private link while parked
};

/// The I/O mechanism behind one executor.
class engine {
public:
    virtual ~engine() = default;

    /// Short name: "epoll", "uring", "select", "kqueue".
    virtual std::string_view name() const noexcept = 0;

    /// Starts watching `fd` (already non-blocking). The caller keeps ownership of the descriptor.
    virtual result<io_token> attach(native_handle fd) noexcept = 0;

    /// Stops watching; every pending op on the token completes with ECANCELED. Call before close.
    virtual void detach(io_token token) noexcept = 0;

    /// `detach`, when the caller closes the descriptor right after (what `tcp_stream::close`
    /// does). An engine may then skip unregistering what the close removes anyway: the epoll
    /// engine saves one `epoll_ctl` per connection (a closed file leaves every epoll set).
    virtual void detach_closing(io_token token) noexcept { detach(token); }

    /// `detach`, and close `fd` too if this engine can do it better than close(2): returns true
    /// when the engine took the descriptor (the caller forgets it without closing it), false
    /// when the caller closes it right after, as with `detach_closing`. The io_uring engine
    /// queues an IORING_OP_CLOSE behind the descriptor's own SQEs: no syscall of its own.
    virtual bool detach_and_close(io_token token, native_handle fd) noexcept {
        (void)fd;
        detach_closing(token);
        return false;
    }

    /// Starts `op` (its `ex` is set). Returns true if it completed inline (then `complete()` is
    /// NOT called); false if pending, in which case `op.complete()` will be called exactly once.
    virtual bool start(io_op& op) noexcept = 0;

    /// Requests that the pending `op` end early; it then completes with ECANCELED (or its real
    /// result, if that arrived first).
    virtual void cancel(io_op& op) noexcept = 0;

    /// Waits up to `timeout_ns` (-1 = no limit, 0 = just poll) for I/O and completes the ops that
    /// are ready. Returns early when `wake()` is called.
    virtual void poll(int64_t timeout_ns) = 0;

    /// Called when the executor's loop returns (it may not poll again soon): hands the kernel
    /// what must not wait for the next `poll`, such as the io_uring engine's queued closes.
    virtual void flush() noexcept {}

    /// Any thread: makes a blocked or the next `poll` return promptly.
    virtual void wake() noexcept = 0;

    /// Gives back the buffer a `recv_lent` completion lent (its `buf` and `done`). Every lent
    /// buffer must be given back exactly once, on the engine's thread, before the engine is
    /// destroyed. Engines without `recv_lent` never lend, so never get here.
    virtual void release(std::byte* buf, std::size_t id) noexcept {
        (void)buf;
        (void)id;
    }
};

}  // namespace opensocket
