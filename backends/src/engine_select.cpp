#include <opensocket/backends/engine_select.hpp>
#include <opensocket/backends/readiness_engine.hpp>
#include <opensocket/backends/select_poller.hpp>
#include <opensocket/error.hpp>
#include <opensocket/log.hpp>

#ifdef OPENSOCKET_HAVE_EPOLL
#include <opensocket/backends/epoll_poller.hpp>
#endif
#ifdef OPENSOCKET_HAVE_URING
#include <opensocket/backends/uring_engine.hpp>
#endif
#ifdef OPENSOCKET_HAVE_KQUEUE
#include <opensocket/backends/kqueue_poller.hpp>
#endif

#include <atomic>
#include <cstdlib>
#include <string>

namespace opensocket {
namespace {

// What `automatic` tries first: io_uring, probed with a real submit, then the best readiness
// engine. See docs/backends.md ("Which engine `auto` picks") for the measurements behind this.
constexpr bool automatic_prefers_uring = true;

template <class Poller>
result<std::unique_ptr<engine>> make_readiness() {
    try {
        return std::unique_ptr<engine>(
            std::make_unique<readiness_engine>(std::make_unique<Poller>()));
    } catch (const std::system_error& e) {
        return fail(e.code());
    } catch (const std::bad_alloc&) {
        return fail(std::errc::not_enough_memory);
    }
}

result<std::unique_ptr<engine>> make_epoll() {
#ifdef OPENSOCKET_HAVE_EPOLL
    return make_readiness<epoll_poller>();
#else
    return fail(error::engine_unavailable);
#endif
}

result<std::unique_ptr<engine>> make_select() { return make_readiness<select_poller>(); }

/// kqueue on macOS, iOS and the BSDs; elsewhere (asked for by name) a clear error.
result<std::unique_ptr<engine>> make_kqueue(bool forced) {
#ifdef OPENSOCKET_HAVE_KQUEUE
    (void)forced;
    return make_readiness<kqueue_poller>();
#else
    if (forced)
        log_error(
            "kqueue engine unavailable: this platform has no kqueue (macOS, iOS "
            "and the BSDs have it)");
    return fail(error::engine_unavailable);
#endif
}

/// The best readiness engine: epoll on Linux, kqueue on macOS and the BSDs, else select
/// (Windows, other systems, or a mechanism that the kernel refuses).
result<std::unique_ptr<engine>> make_best_readiness() {
    if (auto e = make_epoll()) return e;
    if (auto e = make_kqueue(false)) return e;
    return make_select();
}

/// The io_uring engine, or engine_unavailable with the reason logged: as an error when it was
/// asked for by name, once per process as information when `automatic` falls back.
result<std::unique_ptr<engine>> make_uring(bool forced) {
#ifdef OPENSOCKET_HAVE_URING
    std::string why;
    auto e = uring_engine::create({}, &why);
    if (e) return std::unique_ptr<engine>(std::move(*e));
#else
    std::string why = "this build has no io_uring engine (liburing was not found)";
#endif
    static std::atomic<bool> fallback_logged{false};
    if (forced)
        log_error("io_uring engine unavailable: {}", why);
    else if (!fallback_logged.exchange(true))
        log_info("io_uring engine unavailable ({}); using a readiness engine (epoll on Linux)",
                 why);
    return fail(error::engine_unavailable);
}

}  // namespace

result<engine_kind> parse_engine_kind(std::string_view name) noexcept {
    if (name == "auto" || name == "automatic") return engine_kind::automatic;
    if (name == "epoll") return engine_kind::epoll;
    if (name == "uring" || name == "io_uring") return engine_kind::uring;
    if (name == "select") return engine_kind::select;
    if (name == "kqueue") return engine_kind::kqueue;
    return fail(error::engine_unavailable);
}

std::string_view to_string(engine_kind kind) noexcept {
    switch (kind) {
        case engine_kind::automatic: return "auto";
        case engine_kind::epoll: return "epoll";
        case engine_kind::uring: return "uring";
        case engine_kind::select: return "select";
        case engine_kind::kqueue: return "kqueue";
    }
    return "?";
}

result<engine_kind> resolve_engine_kind(engine_kind kind) noexcept {
    if (kind != engine_kind::automatic) return kind;
    const char* env = std::getenv("OPENSOCKET_ENGINE");
    if (env == nullptr || *env == '\0') return kind;
    return parse_engine_kind(env);
}

result<std::unique_ptr<engine>> make_engine(engine_kind kind) {
    auto resolved = resolve_engine_kind(kind);
    if (!resolved) return fail(resolved.error());
    switch (*resolved) {
        case engine_kind::automatic:
            if (automatic_prefers_uring)
                if (auto e = make_uring(false)) return e;
            return make_best_readiness();
        case engine_kind::epoll: return make_epoll();
        case engine_kind::uring: return make_uring(true);
        case engine_kind::select: return make_select();
        case engine_kind::kqueue: return make_kqueue(true);
    }
    return fail(error::engine_unavailable);
}

}  // namespace opensocket
