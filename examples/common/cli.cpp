#include "cli.hpp"

#include <opensocket/socket_handle.hpp>

#include <fmt/format.h>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#ifdef _WIN32
#include <atomic>
#include <semaphore>
#else
#include <pthread.h>
#endif

namespace examples {

flags::flags(int argc, char** argv, std::vector<std::string_view> known, std::string_view usage) {
    prog_ = argc > 0 ? argv[0] : "example";
    if (auto slash = prog_.rfind('/'); slash != std::string::npos) prog_ = prog_.substr(slash + 1);
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            fmt::print("usage: {} {}\n", prog_, usage);
            std::exit(0);
        }
        if (arg.substr(0, 2) != "--") die(fmt::format("unexpected argument '{}'", arg));
        arg.remove_prefix(2);
        std::string name, value;
        if (auto eq = arg.find('='); eq != std::string_view::npos) {
            name = arg.substr(0, eq);
            value = arg.substr(eq + 1);
        } else {
            name = arg;
            if (i + 1 >= argc) die(fmt::format("flag --{} needs a value", name));
            value = argv[++i];
        }
        bool ok = false;
        for (auto k : known) ok = ok || k == name;
        if (!ok) die(fmt::format("unknown flag --{} (usage: {} {})", name, prog_, usage));
        values_[name] = value;
    }
}

void flags::die(const std::string& reason) const {
    fmt::print(stderr, "{}: {}\n", prog_, reason);
    std::exit(2);
}

std::string flags::str(std::string_view name, std::string fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
}

int64_t flags::integer(std::string_view name, int64_t fallback, int64_t min, int64_t max) const {
    auto it = values_.find(name);
    if (it == values_.end()) return fallback;
    const std::string& s = it->second;
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || ptr != s.data() + s.size() || v < min || v > max)
        die(fmt::format("--{} must be an integer in [{}, {}], got '{}'", name, min, max, s));
    return v;
}

opensocket::engine_kind flags::engine() const {
    std::string name = str("engine", "auto");
    auto k = opensocket::parse_engine_kind(name);
    if (!k)
        die(fmt::format("--engine must be auto, epoll, uring, select or kqueue, got '{}'", name));
    return *k;
}

#ifdef _WIN32
// Windows has no signal masks: the console control handler runs on a thread of its own, which
// hands the event to wait_for_termination_signal (Ctrl+C -> SIGINT; Ctrl+Break, closing the
// console, logoff or shutdown -> SIGTERM). There is no SIGPIPE to ignore.
namespace {
std::binary_semaphore termination{0};
std::atomic<int> termination_signal{0};

BOOL WINAPI on_console_event(DWORD event) {
    termination_signal = event == CTRL_C_EVENT ? SIGINT : SIGTERM;
    termination.release();
    return TRUE;  // handled: the process is not killed; main drains and returns
}
}  // namespace

void block_termination_signals() { ::SetConsoleCtrlHandler(on_console_event, TRUE); }

int wait_for_termination_signal() {
    termination.acquire();
    return termination_signal.load();
}

int wait_for_termination_signal(std::chrono::milliseconds timeout) {
    return termination.try_acquire_for(timeout) ? termination_signal.load() : 0;
}
#else
void block_termination_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::signal(SIGPIPE, SIG_IGN);  // belt and braces: the library already sends MSG_NOSIGNAL
}

int wait_for_termination_signal() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    return sig;
}

int wait_for_termination_signal(std::chrono::milliseconds timeout) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
    timespec slice{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    int sig = sigtimedwait(&set, nullptr, &slice);
    return sig > 0 ? sig : 0;
}
#endif

listen_choice listen_address(const flags& f, const char* default_bind) {
    auto port = static_cast<int>(f.integer("port", 8888, 0, 65535));
    std::string bind = f.str("bind", default_bind);
    auto addr = opensocket::socket_address::parse(bind, port);
    if (!addr)
        f.die(fmt::format("--bind: '{}' is not an IP address ({})", bind, addr.error().message()));
    listen_choice out{*addr, false};
    if (!f.has("bind") && addr->is_v6()) {
        // Dual-stack "::" unless the host has no IPv6 at all.
        auto probe = opensocket::socket_handle::open(AF_INET6, SOCK_STREAM);
        if (probe)
            out.dual_stack = true;
        else
            out.addr = opensocket::socket_address::any_v4(static_cast<uint16_t>(port));
    }
    return out;
}

}  // namespace examples
