// agent/taskdef/json_read.hpp — internal: typed reads of task definition JSON by path. Each
// object is read through a Fields, which remembers the keys read; finish() refuses the rest by
// name, so no field is ever silently ignored. JSON null counts as absent (CLI skeletons send it).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>
#include <nlohmann/json.hpp>
#include "base/result.hpp"

namespace berth::taskdef::json_read {

using nlohmann::json;

inline constexpr std::int64_t max_int32 = 2147483647; // ECS's bound on most integer fields

std::string join(std::string_view path, std::string_view key); // "a" + "b" -> "a.b"
std::string index(std::string_view path, std::size_t i);       // "a" + 2 -> "a[2]"

Result<std::string> as_string(const json& value, const std::string& path);
Result<std::int64_t> as_int(const json& value, const std::string& path, std::int64_t min,
                            std::int64_t max);
Result<bool> as_bool(const json& value, const std::string& path);
Result<std::vector<std::string>> as_strings(const json& value, const std::string& path,
                                            std::size_t max_items = 1024);
Result<std::map<std::string, std::string>> as_string_map(const json& value,
                                                         const std::string& path);
// The items of an array, each with its path; refuses a non-array.
Result<std::vector<std::pair<const json*, std::string>>>
as_array(const json& value, const std::string& path, std::size_t max_items = 1024);

class Fields {
public:
    // Refuses a non-object.
    static Result<Fields> of(const json& value, std::string path);
    const std::string& path() const { return path_; }
    std::string at(std::string_view key) const { return join(path_, key); }
    // The member, or nullptr when absent or null; marks the key as read.
    const json* get(std::string_view key);
    Result<std::optional<std::string>> string(std::string_view key);
    Result<std::optional<std::int64_t>> integer(std::string_view key, std::int64_t min,
                                                std::int64_t max);
    Result<std::optional<bool>> boolean(std::string_view key);
    Result<std::vector<std::string>> strings(std::string_view key, std::size_t max_items = 1024);
    Result<std::map<std::string, std::string>> string_map(std::string_view key);
    Result<std::string> required_string(std::string_view key);
    // A required string that is an absolute path.
    Result<std::string> required_path(std::string_view key);
    // The first key not read: "<path>.<key>: not supported by berth".
    Result<void> finish() const;

private:
    Fields(const json& value, std::string path) : value_(&value), path_(std::move(path)) {}
    const json* value_;
    std::string path_;
    std::set<std::string, std::less<>> read_;
};

// The array at `value` (nullptr, absent: none), each item through parse(item, item_path).
template <class T, class Parse>
Result<std::vector<T>> parse_items(const json* value, const std::string& path, Parse parse)
{
    std::vector<T> out;
    if (value == nullptr)
        return out;
    auto items = as_array(*value, path);
    if (!items)
        return std::move(items).error();
    for (const auto& [item, item_path] : *items) {
        auto one = parse(*item, item_path);
        if (!one)
            return std::move(one).error();
        out.push_back(std::move(*one));
    }
    return out;
}

} // namespace berth::taskdef::json_read
