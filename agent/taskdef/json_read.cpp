// agent/taskdef/json_read.cpp — typed, path-aware reads of task definition JSON.
#include "agent/taskdef/json_read.hpp"
#include "base/strings.hpp"

namespace berth::taskdef::json_read {

namespace {

std::string type_name(const json& value)
{
    return value.type_name(); // "string", "number", "object", ...
}

// null, "", [] and {} set nothing: CLI skeletons carry them for every field, so they are not
// refused even for fields berth does not support.
bool is_empty(const json& value)
{
    if (value.is_string())
        return value.get_ref<const std::string&>().empty();
    return value.is_null() || ((value.is_array() || value.is_object()) && value.empty());
}

} // namespace

std::string join(std::string_view path, std::string_view key)
{
    if (path.empty())
        return std::string(key);
    return cat(path, ".", key);
}

std::string index(std::string_view path, std::size_t i)
{
    return cat(path, "[", i, "]");
}

Result<std::string> as_string(const json& value, const std::string& path)
{
    if (!value.is_string())
        return Error::invalid(path, ": expected a string, got ", type_name(value));
    const auto& text = value.get_ref<const std::string&>();
    if (text.find('\0') != std::string::npos)
        return Error::invalid(path, ": contains a NUL byte");
    return text;
}

Result<std::int64_t> as_int(const json& value, const std::string& path, std::int64_t min,
                            std::int64_t max)
{
    std::int64_t n = 0;
    if (value.is_number_unsigned()) {
        const auto u = value.get<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(max))
            return Error::invalid(path, ": ", u, " is out of range (", min, "..", max, ")");
        n = static_cast<std::int64_t>(u);
    } else if (value.is_number_integer()) {
        n = value.get<std::int64_t>();
    } else {
        return Error::invalid(path, ": expected an integer, got ", type_name(value));
    }
    if (n < min || n > max)
        return Error::invalid(path, ": ", n, " is out of range (", min, "..", max, ")");
    return n;
}

Result<bool> as_bool(const json& value, const std::string& path)
{
    if (!value.is_boolean())
        return Error::invalid(path, ": expected true or false, got ", type_name(value));
    return value.get<bool>();
}

Result<std::vector<std::pair<const json*, std::string>>>
as_array(const json& value, const std::string& path, std::size_t max_items)
{
    if (!value.is_array())
        return Error::invalid(path, ": expected a list, got ", type_name(value));
    if (value.size() > max_items)
        return Error::invalid(path, ": more than ", max_items, " items");
    std::vector<std::pair<const json*, std::string>> items;
    items.reserve(value.size());
    for (std::size_t i = 0; i < value.size(); ++i)
        items.emplace_back(&value[i], index(path, i));
    return items;
}

Result<std::vector<std::string>> as_strings(const json& value, const std::string& path,
                                            std::size_t max_items)
{
    auto items = as_array(value, path, max_items);
    if (!items)
        return std::move(items).error();
    std::vector<std::string> out;
    for (const auto& [item, item_path] : *items) {
        auto s = as_string(*item, item_path);
        if (!s)
            return std::move(s).error();
        out.push_back(std::move(*s));
    }
    return out;
}

Result<std::map<std::string, std::string>> as_string_map(const json& value, const std::string& path)
{
    if (!value.is_object())
        return Error::invalid(path, ": expected an object of strings, got ", type_name(value));
    std::map<std::string, std::string> out;
    for (const auto& [key, item] : value.items()) {
        if (key.empty())
            return Error::invalid(path, ": empty key");
        auto s = as_string(item, join(path, key));
        if (!s)
            return std::move(s).error();
        out.emplace(key, std::move(*s));
    }
    return out;
}

Result<Fields> Fields::of(const json& value, std::string path)
{
    if (!value.is_object())
        return Error::invalid(path.empty() ? std::string("request") : path,
                              ": expected an object, got ", type_name(value));
    return Fields(value, std::move(path));
}

const json* Fields::get(std::string_view key)
{
    read_.emplace(key);
    auto it = value_->find(std::string(key));
    if (it == value_->end() || it->is_null())
        return nullptr;
    return &*it;
}

Result<std::optional<std::string>> Fields::string(std::string_view key)
{
    const json* v = get(key);
    if (v == nullptr)
        return std::optional<std::string>{};
    auto s = as_string(*v, at(key));
    if (!s)
        return std::move(s).error();
    return std::optional<std::string>(std::move(*s));
}

Result<std::string> Fields::required_string(std::string_view key)
{
    auto s = string(key);
    if (!s)
        return std::move(s).error();
    if (!*s || (*s)->empty())
        return Error::invalid(at(key), ": required");
    return std::move(**s);
}

Result<std::string> Fields::required_path(std::string_view key)
{
    auto s = required_string(key);
    if (!s)
        return std::move(s).error();
    if (s->front() != '/')
        return Error::invalid(at(key), ": ", berth::quoted(*s), " is not an absolute path");
    return s;
}

Result<std::optional<std::int64_t>> Fields::integer(std::string_view key, std::int64_t min,
                                                    std::int64_t max)
{
    const json* v = get(key);
    if (v == nullptr)
        return std::optional<std::int64_t>{};
    auto n = as_int(*v, at(key), min, max);
    if (!n)
        return std::move(n).error();
    return std::optional<std::int64_t>(*n);
}

Result<std::optional<bool>> Fields::boolean(std::string_view key)
{
    const json* v = get(key);
    if (v == nullptr)
        return std::optional<bool>{};
    auto b = as_bool(*v, at(key));
    if (!b)
        return std::move(b).error();
    return std::optional<bool>(*b);
}

Result<std::vector<std::string>> Fields::strings(std::string_view key, std::size_t max_items)
{
    const json* v = get(key);
    if (v == nullptr)
        return std::vector<std::string>{};
    return as_strings(*v, at(key), max_items);
}

Result<std::map<std::string, std::string>> Fields::string_map(std::string_view key)
{
    const json* v = get(key);
    if (v == nullptr)
        return std::map<std::string, std::string>{};
    return as_string_map(*v, at(key));
}

Result<void> Fields::finish() const
{
    for (const auto& [key, value] : value_->items())
        if (!is_empty(value) && read_.find(key) == read_.end())
            return Error::invalid(at(key), ": not supported by berth");
    return {};
}

} // namespace berth::taskdef::json_read
