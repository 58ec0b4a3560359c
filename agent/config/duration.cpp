// agent/config/duration.cpp — Go's time.ParseDuration grammar, which ECS agent configuration
// values use: [-+]? then one or more <decimal number><unit>, units ns us µs μs ms s m h; "0"
// alone needs no unit. Computed in nanoseconds with overflow checks, as Go does.
#include <cerrno>
#include <cstdint>
#include <limits>
#include "agent/config/config.hpp"

namespace berth::config {
namespace {

constexpr std::int64_t max_ns = std::numeric_limits<std::int64_t>::max();

struct Unit {
    std::string_view name;
    std::int64_t ns;
};
constexpr Unit units[] = {
    {"ns", 1},
    {"us", 1'000},
    {"\xC2\xB5s", 1'000}, // U+00B5 micro sign
    {"\xCE\xBCs", 1'000}, // U+03BC Greek mu
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
    {"m", 60'000'000'000},
    {"h", 3'600'000'000'000},
};

Error bad(std::string_view text, std::string_view why)
{
    return Error::invalid("duration ", quoted(text), ": ", why,
                          " (Go's form: \"90s\", \"3h\", \"1h30m\", \"500ms\")");
}

// Reads digits into `value` (saturating flag on overflow); returns how many were read.
std::size_t digits(std::string_view s, std::uint64_t& value, bool& overflow)
{
    std::size_t n = 0;
    for (; n < s.size() && s[n] >= '0' && s[n] <= '9'; ++n) {
        const auto d = static_cast<std::uint64_t>(s[n] - '0');
        if (value > (std::numeric_limits<std::uint64_t>::max() - d) / 10)
            overflow = true;
        else
            value = value * 10 + d;
    }
    return n;
}

} // namespace

Result<Duration> parse_duration(std::string_view text)
{
    std::string_view s = text;
    bool negative = false;
    if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
        negative = s.front() == '-';
        s.remove_prefix(1);
    }
    if (s == "0")
        return Duration{0};
    if (s.empty())
        return bad(text, "empty");
    std::uint64_t total = 0; // nanoseconds
    while (!s.empty()) {
        std::uint64_t whole = 0;
        bool overflow = false;
        const auto n_whole = digits(s, whole, overflow);
        s.remove_prefix(n_whole);
        std::uint64_t frac = 0;
        std::uint64_t scale = 1;
        std::size_t n_frac = 0;
        if (!s.empty() && s.front() == '.') {
            s.remove_prefix(1);
            for (; n_frac < s.size() && s[n_frac] >= '0' && s[n_frac] <= '9'; ++n_frac)
                if (scale <= std::numeric_limits<std::uint64_t>::max() / 100) { // keep precision
                    frac = frac * 10 + static_cast<std::uint64_t>(s[n_frac] - '0');
                    scale *= 10;
                }
            s.remove_prefix(n_frac);
        }
        if (n_whole == 0 && n_frac == 0)
            return bad(text, "expected a number");
        if (overflow)
            return bad(text, "out of range");
        std::size_t u_len = 0;
        while (u_len < s.size() && s[u_len] != '.' && (s[u_len] < '0' || s[u_len] > '9'))
            ++u_len;
        const auto unit_text = s.substr(0, u_len);
        if (unit_text.empty())
            return bad(text, "missing unit");
        const Unit* unit = nullptr;
        for (const auto& u : units)
            if (u.name == unit_text)
                unit = &u;
        if (unit == nullptr)
            return bad(text, cat("unknown unit ", quoted(unit_text)));
        s.remove_prefix(u_len);
        const auto per = static_cast<std::uint64_t>(unit->ns);
        if (whole > static_cast<std::uint64_t>(max_ns) / per)
            return bad(text, "out of range");
        std::uint64_t part = whole * per;
        // frac/scale of a unit: frac < scale <= 10^17 and per <= 3.6e12, so divide first.
        part += static_cast<std::uint64_t>(static_cast<long double>(frac) * per / scale);
        if (part > static_cast<std::uint64_t>(max_ns) ||
            total > static_cast<std::uint64_t>(max_ns) - part)
            return bad(text, "out of range");
        total += part;
    }
    const auto ms = static_cast<std::int64_t>(total / 1'000'000);
    return Duration{negative ? -ms : ms};
}

} // namespace berth::config
