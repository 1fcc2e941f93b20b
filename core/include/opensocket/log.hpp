#pragma once
/// \file log.hpp
/// Minimal leveled logging to stderr through fmt. The level comes from OPENSOCKET_LOG
/// (debug|info|warn|error|off; default info). Thread-safe: one write(2) per line.

#include <fmt/format.h>

#include <string_view>

namespace opensocket {

enum class log_level { debug, info, warn, error, off };

log_level current_log_level() noexcept;
void set_log_level(log_level level) noexcept;
void write_log_line(log_level level, std::string_view text) noexcept;

template <class... Args>
void log(log_level level, fmt::format_string<Args...> f, Args&&... args) {
    if (level < current_log_level()) return;
    write_log_line(level, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void log_info(fmt::format_string<Args...> f, Args&&... args) {
    log(log_level::info, f, std::forward<Args>(args)...);
}
template <class... Args>
void log_warn(fmt::format_string<Args...> f, Args&&... args) {
    log(log_level::warn, f, std::forward<Args>(args)...);
}
template <class... Args>
void log_error(fmt::format_string<Args...> f, Args&&... args) {
    log(log_level::error, f, std::forward<Args>(args)...);
}

}  // namespace opensocket
