#include <opensocket/http/errors.hpp>

#include <string>

namespace opensocket::http {
namespace {

const char* describe(parse_error e) noexcept {
    switch (e) {
        case parse_error::invalid_request_line: return "invalid request line";
        case parse_error::invalid_method: return "invalid character in the method";
        case parse_error::invalid_target: return "invalid request target";
        case parse_error::invalid_version: return "invalid HTTP version";
        case parse_error::invalid_line_ending: return "bare CR or LF (lines must end in CRLF)";
        case parse_error::obs_fold: return "obsolete line folding in a field";
        case parse_error::invalid_header_name: return "invalid field name";
        case parse_error::missing_colon: return "field line without a colon";
        case parse_error::invalid_header_value: return "control character in a field value";
        case parse_error::invalid_host: return "missing or duplicate Host field";
        case parse_error::invalid_content_length: return "invalid Content-Length";
        case parse_error::content_length_mismatch: return "differing Content-Length values";
        case parse_error::content_length_with_transfer_encoding:
            return "both Content-Length and Transfer-Encoding";
        case parse_error::invalid_transfer_encoding: return "invalid Transfer-Encoding";
        case parse_error::invalid_chunk_size: return "invalid chunk size";
        case parse_error::chunk_size_overflow: return "chunk size overflows 64 bits";
        case parse_error::invalid_chunk_extension: return "invalid chunk extension";
        case parse_error::chunk_extension_too_long: return "chunk extensions too long";
        case parse_error::invalid_chunk_data: return "chunk data not followed by CRLF";
        case parse_error::body_too_large: return "body larger than the limit";
        case parse_error::request_line_too_long: return "request line longer than the limit";
        case parse_error::header_too_large: return "request head larger than the limit";
        case parse_error::too_many_headers: return "more header fields than the limit";
        case parse_error::trailer_too_large: return "trailer section larger than the limit";
        case parse_error::method_not_implemented: return "method not implemented";
        case parse_error::transfer_coding_not_implemented: return "transfer coding not implemented";
        case parse_error::unsupported_version: return "HTTP version not supported";
    }
    return "unknown HTTP parse error";
}

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "opensocket.http"; }
    std::string message(int ev) const override { return describe(static_cast<parse_error>(ev)); }
};

}  // namespace

const std::error_category& parse_error_category() noexcept {
    static const category instance;
    return instance;
}

int status_code(parse_error e) noexcept {
    switch (e) {
        case parse_error::body_too_large: return 413;
        case parse_error::request_line_too_long: return 414;
        case parse_error::header_too_large:
        case parse_error::too_many_headers:
        case parse_error::trailer_too_large: return 431;
        case parse_error::method_not_implemented:
        case parse_error::transfer_coding_not_implemented: return 501;
        case parse_error::unsupported_version: return 505;
        default: return 400;
    }
}

int status_code(std::error_code ec) noexcept {
    if (!ec) return 200;
    if (ec.category() != parse_error_category()) return 500;
    return status_code(static_cast<parse_error>(ec.value()));
}

}  // namespace opensocket::http
