// runtime/spec/spec_json.hpp — internal to the spec parser: typed, path-aware reads of a JSON tree.
//
// Every read checks the JSON type before touching the value, so nlohmann::json never throws
// from here (parse_spec still catches, as a backstop). Errors start with the JSON path of the
// value ("process.rlimits[2].type: ..."). A member that is absent or null counts as not set,
// as Go's encoding/json (runc) treats it.
#pragma once
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>
#include <nlohmann/json.hpp>
#include "base/result.hpp"

namespace berth::runtime::spec_json {

using Json = nlohmann::json;

// A value and where it sits in the document.
struct At {
    const Json& json;
    std::string path;

    At member(std::string_view key, const Json& value) const
    {
        return {value, path.empty() ? std::string(key) : cat(path, '.', key)};
    }
    At element(std::size_t index, const Json& value) const
    {
        return {value, cat(path, '[', index, ']')};
    }
    template <class... Parts>
    Error invalid(const Parts&... why) const
    {
        return Error::invalid(path, ": ", why...);
    }
};

std::string_view type_name(const Json& json);

template <class T>
struct Decoder; // Decoder<T>::decode(const At&) -> Result<T>

template <>
struct Decoder<bool> {
    static Result<bool> decode(const At& at)
    {
        if (!at.json.is_boolean())
            return at.invalid("expected a boolean, got ", type_name(at.json));
        return at.json.get<bool>();
    }
};

template <>
struct Decoder<std::string> {
    static Result<std::string> decode(const At& at)
    {
        if (!at.json.is_string())
            return at.invalid("expected a string, got ", type_name(at.json));
        const auto& text = at.json.get_ref<const std::string&>();
        // Strings end up as C strings (paths, argv, env): a NUL would silently cut them.
        if (text.find('\0') != std::string::npos)
            return at.invalid("contains a NUL byte");
        return text;
    }
};

// Integers: JSON numbers that are integral and fit the target type. Floats are refused, as Go
// refuses 1.5 for an int64 field.
template <class Int>
requires std::is_integral_v<Int> &&(!std::is_same_v<Int, bool>)struct Decoder<Int> {
    static Result<Int> decode(const At& at)
    {
        if (at.json.is_number_unsigned()) {
            const auto v = at.json.get<std::uint64_t>();
            if (v > static_cast<std::uint64_t>(std::numeric_limits<Int>::max()))
                return out_of_range(at);
            return static_cast<Int>(v);
        }
        if (at.json.is_number_integer()) {
            const auto v = at.json.get<std::int64_t>();
            if constexpr (std::is_unsigned_v<Int>) {
                if (v < 0)
                    return out_of_range(at);
                if (static_cast<std::uint64_t>(v) > std::numeric_limits<Int>::max())
                    return out_of_range(at);
            } else {
                if (v < std::numeric_limits<Int>::min() || v > std::numeric_limits<Int>::max())
                    return out_of_range(at);
            }
            return static_cast<Int>(v);
        }
        if (at.json.is_number_float())
            return at.invalid("expected an integer, got ", at.json.dump());
        return at.invalid("expected an integer, got ", type_name(at.json));
    }
    static Error out_of_range(const At& at)
    {
        return at.invalid("value ", at.json.dump(), " out of range ",
                          +std::numeric_limits<Int>::min(), "..", +std::numeric_limits<Int>::max());
    }
};

template <class T>
struct Decoder<std::vector<T>> {
    static Result<std::vector<T>> decode(const At& at)
    {
        if (!at.json.is_array())
            return at.invalid("expected an array, got ", type_name(at.json));
        std::vector<T> out;
        out.reserve(at.json.size());
        for (std::size_t i = 0; i < at.json.size(); ++i) {
            auto item = Decoder<T>::decode(at.element(i, at.json[i]));
            if (!item)
                return std::move(item).error();
            out.push_back(std::move(*item));
        }
        return out;
    }
};

template <>
struct Decoder<std::map<std::string, std::string>> {
    static Result<std::map<std::string, std::string>> decode(const At& at)
    {
        if (!at.json.is_object())
            return at.invalid("expected an object, got ", type_name(at.json));
        std::map<std::string, std::string> out;
        for (const auto& [key, value] : at.json.items()) {
            auto text = Decoder<std::string>::decode(at.member(key, value));
            if (!text)
                return std::move(text).error();
            if (key.find('\0') != std::string::npos)
                return at.invalid("key ", berth::quoted(key), " contains a NUL byte");
            out.emplace(key, std::move(*text));
        }
        return out;
    }
};

// Reads members of one JSON object; the first error sticks and later reads do nothing, so a
// parser reads its fields in a row and checks once:
//     Object obj(at); obj.read("terminal", p.terminal); ...; if (!obj.ok()) return obj.error();
class Object {
public:
    explicit Object(const At& at) : at_(at)
    {
        if (!at.json.is_object())
            fail(at.invalid("expected an object, got ", type_name(at.json)));
    }

    // The member, or nullopt if absent or null (or after an error).
    std::optional<At> find(std::string_view key) const
    {
        if (error_)
            return std::nullopt;
        const auto it = at_.json.find(key);
        if (it == at_.json.end() || it->is_null())
            return std::nullopt;
        return at_.member(key, *it);
    }
    bool has(std::string_view key) const { return find(key).has_value(); }

    // Optional member decoded with Decoder<T>; out keeps its value when absent.
    template <class T>
    void read(std::string_view key, T& out)
    {
        read(key, out, [](const At& at) { return Decoder<T>::decode(at); });
    }
    template <class T>
    void read(std::string_view key, std::optional<T>& out)
    {
        read(key, out, [](const At& at) { return Decoder<T>::decode(at); });
    }
    // Optional member decoded by parse(const At&) -> Result<T>.
    template <class T, class Parse>
    void read(std::string_view key, T& out, Parse parse)
    {
        const auto member = find(key);
        if (!member)
            return;
        auto value = parse(*member);
        if (!value)
            fail(std::move(value).error());
        else
            out = std::move(*value);
    }
    // Like read(), but an absent member is an error.
    template <class T>
    void require(std::string_view key, T& out)
    {
        require(key, out, [](const At& at) { return Decoder<T>::decode(at); });
    }
    template <class T, class Parse>
    void require(std::string_view key, T& out, Parse parse)
    {
        if (!error_ && !find(key))
            fail(at_.member(key, at_.json).invalid("required"));
        read(key, out, parse);
    }
    // A field berth knows but does not implement: refusing beats silently ignoring it.
    void refuse(std::string_view key, std::string_view why = "not supported by berth")
    {
        if (const auto member = find(key))
            fail(member->invalid(why));
    }

    void fail(Error error)
    {
        if (!error_)
            error_ = std::move(error);
    }
    bool ok() const { return !error_; }
    Error error() && { return std::move(*error_); }
    const At& at() const { return at_; }

private:
    At at_;
    std::optional<Error> error_;
};

// Applies parse to each element of a JSON array: Result<T>(const At&).
template <class T, class Parse>
Result<std::vector<T>> decode_array(const At& at, Parse parse)
{
    if (!at.json.is_array())
        return at.invalid("expected an array, got ", type_name(at.json));
    std::vector<T> out;
    out.reserve(at.json.size());
    for (std::size_t i = 0; i < at.json.size(); ++i) {
        auto item = parse(at.element(i, at.json[i]));
        if (!item)
            return std::move(item).error();
        out.push_back(std::move(*item));
    }
    return out;
}

// Shared value checks.
bool is_absolute(std::string_view path);
// "KEY=value" with a non-empty key.
Result<void> check_env(const At& at, const std::vector<std::string>& env);

} // namespace berth::runtime::spec_json
