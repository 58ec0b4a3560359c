// base/result.hpp — berth's one error model. A Result<T> holds a T or an Error{errno, context};
// members follow C++23 std::expected (GCC 12 ships <expected> only under -std=c++2b), so moving
// to std::expected later is a search-and-replace. No exceptions cross a library boundary.
#pragma once
#include <cerrno>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include "base/strings.hpp"

namespace berth {

// Why something failed: an errno (0 if none) and what we were doing, outermost step first.
struct Error {
    int code = 0;
    std::string context;    // "create container web: pivot_root 'rootfs'"
    bool bad_input = false; // the caller's data was wrong, not a system call: no strerror text

    // Reads errno before building the text: allocation may clobber it.
    template <class... Parts>
    static Error from_errno(const Parts&... what)
    {
        const int saved = errno;
        return Error{saved, cat(what...), false};
    }
    template <class... Parts>
    static Error with_code(int code, const Parts&... what)
    {
        return Error{code, cat(what...), false};
    }
    // A failure that is not a system call's: bad input, an unsupported field. Code is EINVAL.
    template <class... Parts>
    static Error invalid(const Parts&... what)
    {
        return Error{EINVAL, cat(what...), true};
    }

    Error wrap(std::string_view step) &&
    {
        context = cat(step, ": ", context);
        return std::move(*this);
    }
    Error wrap(std::string_view step) const&
    {
        return Error{code, cat(step, ": ", context), bad_input};
    }
    // context + ": " + strerror(code); bad input and errno 0 print the context alone.
    std::string message() const;
};

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

    explicit operator bool() const noexcept { return v_.index() == 0; }
    bool has_value() const noexcept { return v_.index() == 0; }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const& { return std::get<1>(v_); }
    Error&& error() && { return std::get<1>(std::move(v_)); }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), failed_(true) {}

    explicit operator bool() const noexcept { return !failed_; }
    bool has_value() const noexcept { return !failed_; }
    const Error& error() const& { return error_; }
    Error&& error() && { return std::move(error_); }

private:
    Error error_;
    bool failed_ = false;
};

} // namespace berth
