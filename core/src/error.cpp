#include <opensocket/error.hpp>

#include <string>

namespace opensocket {
namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "opensocket"; }
    std::string message(int ev) const override {
        switch (static_cast<error>(ev)) {
            case error::invalid_address:
                return "invalid address (expected 1.2.3.4:port or [v6]:port)";
            case error::invalid_port: return "invalid port (expected 0-65535)";
            case error::unexpected_eof:
                return "peer closed the connection before all bytes arrived";
            case error::engine_unavailable: return "the requested I/O engine is not available";
            case error::not_on_executor:
                return "operation started outside the executor thread that owns the socket";
            case error::descriptor_too_large:
                return "descriptor does not fit in select()'s fd_set (fd >= FD_SETSIZE, or "
                       "FD_SETSIZE sockets already watched); use another engine or fewer "
                       "descriptors";
        }
        return "unknown opensocket error";
    }
};

}  // namespace

const std::error_category& error_category() noexcept {
    static const category instance;
    return instance;
}

}  // namespace opensocket
