// base/strings.hpp — small string helpers. GCC 12 has no <format>: cat() joins printable parts.
#pragma once
#include <charconv>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace berth {

template <class... Parts>
std::string cat(const Parts&... parts)
{
    std::ostringstream out;
    (out << ... << parts);
    return out.str();
}

// Splits on one character; keeps empty fields ("a,,b" -> {"a", "", "b"}).
std::vector<std::string_view> split(std::string_view text, char separator);
std::string_view trim(std::string_view text);

// Whole-string decimal parse: no sign for unsigned, no spaces, no trailing bytes, no overflow.
template <class Int>
std::optional<Int> parse_int(std::string_view text, int base = 10)
{
    static_assert(std::is_integral_v<Int>);
    Int value{};
    if (text.empty())
        return std::nullopt;
    if (text.front() == '+')
        return std::nullopt;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (ec != std::errc{} || end != text.data() + text.size())
        return std::nullopt;
    return value;
}

// Quotes a value for an error message, escaping control bytes so hostile input cannot forge
// log lines: 'a\nb' is shown as "'a\x0ab'".
std::string quoted(std::string_view value);

// Standard base64 (RFC 4648 alphabet; padding optional, nothing after it read); nullopt when a
// character is outside the alphabet. Docker config.json's "auth" fields are written this way.
std::optional<std::string> base64_decode(std::string_view in);

} // namespace berth
