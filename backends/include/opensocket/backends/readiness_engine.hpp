#pragma once
/// \file readiness_engine.hpp
/// The engine over any readiness poller. An operation first tries its syscall; only on EAGAIN
/// does it park on the descriptor's slot, and the next readiness event for that slot retries it.
/// Each slot carries a generation, so events for a detached (and reused) slot are dropped.

#include <opensocket/detail/op_list.hpp>
#include <opensocket/detail/slot_table.hpp>
#include <opensocket/engine.hpp>
#include <opensocket/poller.hpp>

#include <memory>
#include <vector>

namespace opensocket {

namespace detail {
class lent_pool;
}

class readiness_engine final : public engine {
public:
    explicit readiness_engine(std::unique_ptr<poller> p);
    ~readiness_engine() override;

    std::string_view name() const noexcept override { return poller_->name(); }
    result<io_token> attach(native_handle fd) noexcept override;
    void detach(io_token token) noexcept override { release(token, false); }
    void detach_closing(io_token token) noexcept override { release(token, true); }
    bool start(io_op& op) noexcept override;
    void cancel(io_op& op) noexcept override;
    void poll(int64_t timeout_ns) override;
    void wake() noexcept override { poller_->wake(); }
    /// recv_lent buffers come from a small heap pool (taken only once a read finds data).
    void release(std::byte* buf, std::size_t id) noexcept override;

private:
    using op_list = detail::op_list;
    struct slot {
        uint32_t generation = 1;
        bool in_use = false;
        // Readiness hints: false once a syscall said EAGAIN (or a read came up short), true again
        // on the next event. Edge-triggered pollers report every new arrival, so skipping the
        // syscall while the hint is false loses nothing.
        bool readable = true;
        bool writable = true;
        // The peer's FIN was reported: the edge will not come again, so reads always try.
        bool read_closed = false;
        native_handle fd = invalid_native_handle;
        uint32_t next_free = 0;
        op_list readers;
        op_list writers;
    };

    bool perform(io_op& op, bool& short_io) noexcept;
    void release(io_token token, bool closing) noexcept;
    void drive(slot& s, bool read_side) noexcept;
    void update_interest(slot& s, io_token t) noexcept;

    std::unique_ptr<poller> poller_;
    detail::slot_table<slot> slots_;
    std::vector<poll_event> events_;
    std::unique_ptr<detail::lent_pool> lent_;  // made by the first recv_lent
};

}  // namespace opensocket
