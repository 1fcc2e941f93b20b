#include <opensocket/log.hpp>

#include <unistd.h>
#include <atomic>
#include <cstdlib>
#include <string>

namespace opensocket {
namespace {

log_level level_from_env() noexcept {
    const char* v = std::getenv("OPENSOCKET_LOG");
    if (v == nullptr) return log_level::info;
    std::string_view s = v;
    if (s == "debug") return log_level::debug;
    if (s == "warn") return log_level::warn;
    if (s == "error") return log_level::error;
    if (s == "off") return log_level::off;
    return log_level::info;
}

std::atomic<log_level>& level_ref() noexcept {
    static std::atomic<log_level> level{level_from_env()};
    return level;
}

}  // namespace

log_level current_log_level() noexcept { return level_ref().load(std::memory_order_relaxed); }
void set_log_level(log_level level) noexcept { level_ref().store(level); }

void write_log_line(log_level level, std::string_view text) noexcept {
    static constexpr std::string_view names[] = {"debug", "info", "warn", "error", "off"};
    try {
        std::string line =
            fmt::format("opensocket [{}] {}\n", names[static_cast<int>(level)], text);
        [[maybe_unused]] auto r = ::write(2, line.data(), line.size());
    } catch (...) {
    }
}

}  // namespace opensocket
