#pragma once
/// \file engine_select.hpp
/// Choosing an engine at run time. `automatic` takes the best engine that works on this system
/// (io_uring on Linux where the build has it and the kernel allows it, else epoll: see
/// docs/backends.md for the measurements; kqueue on the BSDs and macOS; select on Windows,
/// elsewhere, and where the kernel refuses the rest); the environment variable
/// OPENSOCKET_ENGINE (epoll|uring|select|kqueue|auto) overrides it, so the test suite can run
/// once per engine.

#include <opensocket/engine.hpp>
#include <opensocket/result.hpp>

#include <memory>
#include <string_view>

namespace opensocket {

enum class engine_kind { automatic, epoll, uring, select, kqueue };

/// "auto", "epoll", "uring" (or "io_uring"), "select", "kqueue". Errors: engine_unavailable
/// with an unknown name.
result<engine_kind> parse_engine_kind(std::string_view name) noexcept;
std::string_view to_string(engine_kind kind) noexcept;

/// `kind`, unless it is `automatic` and OPENSOCKET_ENGINE names an engine. A malformed
/// OPENSOCKET_ENGINE value is an error, not silently ignored.
result<engine_kind> resolve_engine_kind(engine_kind kind) noexcept;

/// Creates an engine. A forced kind that this build or this kernel cannot run fails with
/// `error::engine_unavailable`, and for `uring` the reason (the probe's: seccomp, sysctl
/// kernel.io_uring_disabled, ENOSYS, no liburing in the build) is logged as an error
/// ("io_uring engine unavailable: ..."). `automatic` falls back until one works; if it tries
/// io_uring and the probe fails, that is logged once at info level.
result<std::unique_ptr<engine>> make_engine(engine_kind kind);

}  // namespace opensocket
