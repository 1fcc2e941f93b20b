#pragma once
// Internal: the meaning of a syntactically valid request line (method, target form).

#include <opensocket/http/request_head.hpp>

#include <optional>
#include <string_view>

namespace opensocket::http::detail {

/// The implemented method spelled exactly `text` (methods are case-sensitive), or nullopt.
std::optional<method> method_from(std::string_view text) noexcept;

/// `target` (visible ASCII, non-empty) has a form `m` may use (RFC 9112 section 3.2):
/// origin-form `/...`, absolute-form `scheme:...`, or `*` for OPTIONS.
bool valid_target_form(method m, std::string_view target) noexcept;

}  // namespace opensocket::http::detail
