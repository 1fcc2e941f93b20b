#pragma once
// Shared command-line handling for the examples: strict flag parsing (a bad flag is a one-line
// error and exit code 2), the listen-address choice, and waiting for SIGINT/SIGTERM.

#include <opensocket/address.hpp>
#include <opensocket/backends/engine_select.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace examples {

/// Parsed `--name value` / `--name=value` flags. Unknown flags, missing values and bad numbers
/// end the program with `<prog>: <reason>` on stderr and exit code 2.
class flags {
public:
    flags(int argc, char** argv, std::vector<std::string_view> known, std::string_view usage);

    std::string str(std::string_view name, std::string fallback) const;
    int64_t integer(std::string_view name, int64_t fallback, int64_t min, int64_t max) const;
    bool has(std::string_view name) const { return values_.count(std::string(name)) != 0; }
    opensocket::engine_kind engine() const;

    [[noreturn]] void die(const std::string& reason) const;

private:
    std::string prog_;
    std::map<std::string, std::string, std::less<>> values_;
};

/// Blocks SIGINT and SIGTERM in the calling thread (and so in threads it starts later): call at
/// the top of main, before creating the runtime.
void block_termination_signals();
/// Waits for SIGINT or SIGTERM; returns the signal number. On Windows: Ctrl+C is SIGINT;
/// Ctrl+Break, closing the console, logoff and shutdown are SIGTERM.
int wait_for_termination_signal();
/// The same, giving up after `timeout`: returns 0 then.
int wait_for_termination_signal(std::chrono::milliseconds timeout);

/// The listen address for `--bind` (default "::" dual-stack, falling back to 0.0.0.0 when the
/// host has no IPv6) and `--port`.
struct listen_choice {
    opensocket::socket_address addr;
    bool dual_stack = false;
};
listen_choice listen_address(const flags& f, const char* default_bind = "::");

}  // namespace examples
