#pragma once
/// \file result.hpp
/// `result<T>`: a value or a `std::error_code`. Its API is a strict subset of
/// `std::expected<T, std::error_code>` so that moving to C++23 is an alias swap.

#include <cassert>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

namespace opensocket {

/// Carries an error into a `result<T>`; mirrors `std::unexpected`.
template <class E>
class unexpected {
public:
    explicit unexpected(E e) noexcept(std::is_nothrow_move_constructible_v<E>)
        : error_(std::move(e)) {}
    const E& error() const& noexcept { return error_; }
    E& error() & noexcept { return error_; }

private:
    E error_;
};

template <class E>
unexpected(E) -> unexpected<E>;

/// Thrown by `result<T>::value()` on an error; mirrors `std::bad_expected_access`.
class bad_result_access : public std::system_error {
public:
    explicit bad_result_access(std::error_code ec) : std::system_error(ec) {}
};

/// A value of type `T` or an error code. Never empty. Not thread-safe (a plain value type).
template <class T>
class [[nodiscard]] result {
public:
    using value_type = T;
    using error_type = std::error_code;

    result() requires std::is_default_constructible_v<T> : v_(std::in_place_index<0>) {}
    template <class U = T>
    requires std::is_constructible_v<T, U&&> &&(!std::is_same_v<std::remove_cvref_t<U>, result>)&&(
        !std::is_same_v<std::remove_cvref_t<U>, unexpected<std::error_code>>)result(U&& v)
        : v_(std::in_place_index<0>, std::forward<U>(v)) {}
    result(unexpected<std::error_code> e) : v_(std::in_place_index<1>, e.error()) {}

    bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    T& operator*() & noexcept { return *std::get_if<0>(&v_); }
    const T& operator*() const& noexcept { return *std::get_if<0>(&v_); }
    T&& operator*() && noexcept { return std::move(*std::get_if<0>(&v_)); }
    T* operator->() noexcept { return std::get_if<0>(&v_); }
    const T* operator->() const noexcept { return std::get_if<0>(&v_); }

    T& value() & {
        check();
        return **this;
    }
    const T& value() const& {
        check();
        return **this;
    }
    T&& value() && {
        check();
        return std::move(**this);
    }

    const std::error_code& error() const noexcept { return *std::get_if<1>(&v_); }

    template <class U>
    T value_or(U&& fallback) const& {
        return has_value() ? **this : static_cast<T>(std::forward<U>(fallback));
    }

private:
    void check() const {
        if (!has_value()) throw bad_result_access(error());
    }
    std::variant<T, std::error_code> v_;
};

/// `result<void>`: success or an error code.
template <>
class [[nodiscard]] result<void> {
public:
    using value_type = void;
    using error_type = std::error_code;

    result() noexcept = default;
    result(unexpected<std::error_code> e) noexcept : ec_(e.error()), failed_(true) {}

    bool has_value() const noexcept { return !failed_; }
    explicit operator bool() const noexcept { return has_value(); }
    void operator*() const noexcept {}
    void value() const {
        if (failed_) throw bad_result_access(ec_);
    }
    const std::error_code& error() const noexcept { return ec_; }

private:
    std::error_code ec_{};
    bool failed_ = false;
};

/// Shorthand for an error result: `return fail(std::errc::timed_out);`.
inline unexpected<std::error_code> fail(std::error_code ec) noexcept { return unexpected(ec); }
inline unexpected<std::error_code> fail(std::errc e) noexcept {
    return unexpected(std::make_error_code(e));
}

}  // namespace opensocket
