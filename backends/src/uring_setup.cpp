// io_uring availability, ring setup with flag fallbacks, and the wake-up eventfd.

#include "lent_pool.hpp"

#include "uring_detail.hpp"

#include <opensocket/backends/uring_engine.hpp>

#include <fmt/format.h>
#include <liburing.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>

namespace opensocket {
namespace {

std::string read_sysctl(const char* path) {
    std::ifstream in(path);
    std::string value;
    in >> value;
    return value;
}

/// The likely cause of `err` from io_uring's syscalls, for a log line.
std::string cause_of(int err) {
    switch (err) {
        case EPERM: {
            std::string disabled = read_sysctl("/proc/sys/kernel/io_uring_disabled");
            if (disabled == "2") return "disabled by sysctl kernel.io_uring_disabled=2";
            if (disabled == "1")
                return "kernel.io_uring_disabled=1 and this process is not in "
                       "kernel.io_uring_group";
            return "refused by a seccomp filter (e.g. Docker's default profile) or an LSM";
        }
        case ENOSYS:
            return "not implemented: kernel older than 5.1, built without CONFIG_IO_URING, or a "
                   "seccomp filter answering ENOSYS";
        case ENOMEM:
            return "out of locked memory: kernels before 5.12 charge rings to RLIMIT_MEMLOCK";
        case EMFILE:
        case ENFILE: return "out of file descriptors";
        default: return std::strerror(err);
    }
}

uring_support refused(const char* call, int err) {
    return {false, std::error_code(err, std::system_category()),
            fmt::format("{} failed ({}): {}", call, std::strerror(err), cause_of(err))};
}

// The opcodes every io_kind needs (all in kernel 5.6, the first with IORING_REGISTER_PROBE).
constexpr struct {
    int op;
    const char* name;
} needed_ops[] = {
    {IORING_OP_NOP, "NOP"},         {IORING_OP_ACCEPT, "ACCEPT"},
    {IORING_OP_CONNECT, "CONNECT"}, {IORING_OP_RECV, "RECV"},
    {IORING_OP_SEND, "SEND"},       {IORING_OP_POLL_ADD, "POLL_ADD"},
    {IORING_OP_READ, "READ"},       {IORING_OP_ASYNC_CANCEL, "ASYNC_CANCEL"},
};

uring_support check_opcodes(io_uring& ring) {
    constexpr unsigned max_ops = 256;
    void* raw = std::calloc(1, sizeof(io_uring_probe) + max_ops * sizeof(io_uring_probe_op));
    if (raw == nullptr) return refused("calloc", ENOMEM);
    auto* probe = static_cast<io_uring_probe*>(raw);
    int r = io_uring_register_probe(&ring, probe, max_ops);
    uring_support out{true, {}, {}};
    if (r == -EINVAL) {
        out = {false, std::make_error_code(std::errc::function_not_supported),
               "kernel older than 5.6: no IORING_REGISTER_PROBE"};
    } else if (r < 0) {
        out = refused("io_uring_register(PROBE)", -r);
    } else {
        for (const auto& o : needed_ops) {
            if (io_uring_opcode_supported(probe, o.op)) continue;
            out = {false, std::make_error_code(std::errc::function_not_supported),
                   fmt::format("the kernel lacks IORING_OP_{}", o.name)};
            break;
        }
    }
    std::free(raw);
    return out;
}

/// One NOP through io_uring_enter: a filter may allow io_uring_setup and refuse the rest.
uring_support submit_nop(io_uring& ring) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_nop(sqe);
    io_uring_sqe_set_data64(sqe, 42);
    int r;
    do {
        r = io_uring_submit_and_wait(&ring, 1);
    } while (r == -EINTR);
    if (r < 0) return refused("io_uring_enter", -r);
    io_uring_cqe* cqe = nullptr;
    if (io_uring_peek_cqe(&ring, &cqe) != 0 || cqe->user_data != 42 || cqe->res != 0)
        return {false, std::make_error_code(std::errc::io_error),
                "a NOP submitted to io_uring did not complete"};
    io_uring_cqe_seen(&ring, cqe);
    return {true, {}, {}};
}

// Setup flags, best first. DEFER_TASKRUN (6.1) runs completion work only when the owner enters
// the kernel to reap: no IPIs and no task-work interruptions. It needs SINGLE_ISSUER (6.0), which
// binds the ring to the creating task unless it starts disabled (R_DISABLED, 5.10): the engine
// may be created on another thread than the executor's, so it enables the ring on first use.
// COOP_TASKRUN (5.19) gives most of the benefit without the single-thread rule.
constexpr unsigned setup_candidates[] = {
    IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL |
        IORING_SETUP_R_DISABLED,
    IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL,
    0,
};

/// The optional features this ring's kernel has, as far as `opts` allows them. Opcodes are enum
/// values (liburing 2.3 cannot tell at compile time what the running kernel knows): probe.
uring_features detect_features(io_uring& ring, const uring_options& opts, unsigned ring_features) {
    uring_features f;
    f.skip_success = (ring_features & IORING_FEAT_CQE_SKIP) != 0;
    // IORING_FEAT_MIN_TIMEOUT (6.12): io_uring_getevents_arg's pad is min_wait_usec. liburing 2.3
    // names neither; an older kernel would reject the non-zero pad with EINVAL.
    constexpr unsigned feat_min_timeout = 1u << 15;
    f.batch_wait =
        opts.batch_wait_us > 0 && opts.batch_max > 1 && (ring_features & feat_min_timeout) != 0;
    io_uring_probe* probe = io_uring_get_probe_ring(&ring);
    if (probe == nullptr) return f;
    // Multishot accept came with 5.19, as did IORING_OP_SOCKET; an older kernel would fail the
    // first multishot accept with EINVAL.
    f.multishot_accept =
        opts.multishot_accept && io_uring_opcode_supported(probe, IORING_OP_SOCKET);
    // Multishot recv (IORING_RECV_MULTISHOT) came with 6.0, as did IORING_OP_SEND_ZC. It also
    // needs a provided-buffer ring (5.19), which create() registers and may still fail to.
    f.multishot_recv = opts.multishot_recv && io_uring_opcode_supported(probe, IORING_OP_SEND_ZC);
    f.ring_close = opts.ring_close && io_uring_opcode_supported(probe, IORING_OP_CLOSE);
    io_uring_free_probe(probe);
    return f;
}

}  // namespace

uring_support probe_uring() noexcept {
    try {
        io_uring ring;
        int r = io_uring_queue_init(2, &ring, 0);
        if (r < 0) return refused("io_uring_setup", -r);
        uring_support out = check_opcodes(ring);
        if (out.available) out = submit_nop(ring);
        io_uring_queue_exit(&ring);
        return out;
    } catch (const std::bad_alloc&) {
        return refused("probe", ENOMEM);
    }
}

void uring_engine::ring_deleter::operator()(io_uring* r) const noexcept {
    io_uring_queue_exit(r);
    delete r;
}

result<std::unique_ptr<uring_engine>> uring_engine::create(const uring_options& opts,
                                                           std::string* why) noexcept {
    auto fail_with = [why](uring_support s) -> result<std::unique_ptr<uring_engine>> {
        if (why != nullptr) *why = std::move(s.reason);
        return fail(s.error);
    };
    try {
        if (uring_support s = probe_uring(); !s.available) return fail_with(std::move(s));
        std::unique_ptr<io_uring, ring_deleter> ring(new io_uring{});
        const unsigned entries = opts.entries == 0 ? 1 : opts.entries;
        unsigned used = 0;
        unsigned ring_features = 0;
        int r = -EINVAL;
        for (unsigned flags : setup_candidates) {
            io_uring_params params{};
            params.flags = flags | IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
            params.cq_entries = opts.cq_entries != 0 ? opts.cq_entries : 16 * entries;
            r = io_uring_queue_init_params(entries, ring.get(), &params);
            if (r == 0) {
                used = params.flags;
                ring_features = params.features;
                if ((params.features & IORING_FEAT_NODROP) == 0) {
                    io_uring_queue_exit(ring.release());
                    return fail_with({false, std::make_error_code(std::errc::not_supported),
                                      "kernel older than 5.5: CQ overflow drops completions"});
                }
                break;
            }
            if (r != -EINVAL) break;  // EINVAL: flags this kernel does not know; try fewer
        }
        if (r < 0) {
            delete ring.release();  // never initialised: nothing to tear down
            return fail_with(refused("io_uring_setup", -r));
        }
        uring_features features = detect_features(*ring, opts, ring_features);
        buffer_ring_ptr buffers;
        if (features.multishot_recv) buffers = make_buffer_ring(*ring, opts);
        features.multishot_recv = buffers != nullptr;
        int wake_fd = ::eventfd(0, EFD_CLOEXEC);
        if (wake_fd < 0) return fail_with(refused("eventfd", errno));
        return std::unique_ptr<uring_engine>(
            new uring_engine(std::move(ring), wake_fd, opts, used, features, std::move(buffers)));
    } catch (const std::bad_alloc&) {
        return fail_with(refused("uring_engine", ENOMEM));
    }
}

uring_engine::uring_engine(std::unique_ptr<io_uring, ring_deleter> ring, int wake_fd,
                           const uring_options& opts, unsigned flags, uring_features features,
                           buffer_ring_ptr buffers) noexcept
    : ring_(std::move(ring)),
      wake_fd_(wake_fd),
      dontwait_(opts.force_readiness_fallback),
      accept_queue_(opts.accept_queue == 0 ? 1 : opts.accept_queue),
      lent_readahead_(opts.lent_readahead == 0 ? 1 : opts.lent_readahead),
      batch_wait_us_(opts.batch_wait_us),
      batch_(features.batch_wait ? opts.batch_max : 1,
             int64_t{std::max(opts.batch_window_us, 1u)} * 1000),
      features_(features),
      buffers_(std::move(buffers)) {
    stats_.setup_flags = flags;
}

uring_engine::~uring_engine() {
    // Connections a multishot accept took in the last io_uring_enter (flush() at the end of the
    // executor's loop gets events but reaps nothing) sit in CQEs nobody else will read.
    {
        namespace tags = detail::uring;
        io_uring_cqe* cqe = nullptr;
        unsigned head = 0;
        unsigned seen = 0;
        io_uring_for_each_cqe(ring_.get(), head, cqe) {
            ++seen;
            const uint64_t u = cqe->user_data;
            if (tags::is_slot_tag(u) && tags::slot_sqe_of(u) == tags::slot_sqe::accept &&
                cqe->res >= 0)
                ::close(cqe->res);
        }
        io_uring_cq_advance(ring_.get(), seen);
    }
    // Tearing the ring down cancels what is still in flight (including the eventfd read into
    // wake_buf_) and unregisters the provided-buffer ring, so the eventfd and the buffers are
    // freed after it.
    ring_.reset();
    buffers_.reset();
    ::close(wake_fd_);
    // Closes queued after the last submit: the ring never ran them.
    for (int fd : queued_closes_) ::close(fd);
    // Connections a multishot accept took for a listener that was never detached.
    for (slot& s : slots_)
        if (s.ms != nullptr)
            for (int fd : s.ms->accepted) ::close(fd);
}

void uring_engine::enable() noexcept {
    enabled_ = true;
    // On the executor thread: this makes it the ring's single issuer.
    // (liburing 2.3 declares io_uring_enable_rings but does not export it: register directly.)
    if ((stats_.setup_flags & IORING_SETUP_R_DISABLED) != 0)
        (void)io_uring_register(static_cast<unsigned>(ring_->ring_fd), IORING_REGISTER_ENABLE_RINGS,
                                nullptr, 0);
    // 5.18+: io_uring_enter skips the fd-table lookup (an atomic when threads share the table).
    // Registered per thread; an older kernel says EINVAL and nothing changes.
    ring_fd_registered_ = io_uring_register_ring_fd(ring_.get()) == 1;
}

void uring_engine::wake() noexcept {
    const uint64_t one = 1;
    // Cannot block: the counter would have to reach 2^64 - 1 first.
    while (::write(wake_fd_, &one, sizeof one) < 0 && errno == EINTR) {
    }
}

}  // namespace opensocket
