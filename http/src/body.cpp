#include <opensocket/http/body.hpp>

#include <algorithm>

namespace opensocket::http {

void body_decoder::start(const body_framing& framing) noexcept {
    kind_ = framing.kind;
    remaining_ = kind_ == body_kind::content_length ? framing.length : 0;
    if (kind_ == body_kind::chunked) chunked_.reset();
}

result<body_step> body_decoder::next(std::string_view input) noexcept {
    switch (kind_) {
        case body_kind::chunked: return chunked_.next(input);
        case body_kind::content_length: {
            const auto take =
                static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, input.size()));
            remaining_ -= take;
            return body_step{take, input.substr(0, take), remaining_ == 0};
        }
        case body_kind::none: break;
    }
    return body_step{0, {}, true};
}

bool body_decoder::done() const noexcept {
    return kind_ == body_kind::chunked ? chunked_.done() : remaining_ == 0;
}

}  // namespace opensocket::http
