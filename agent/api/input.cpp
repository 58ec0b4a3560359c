// agent/api/input.cpp — field readers for operation inputs (see input.hpp).
#include "agent/api/input.hpp"
#include "base/strings.hpp"

namespace berth::api {

const nlohmann::json* Input::field(const char* name) const
{
    const auto it = in_.find(name);
    if (it == in_.end() || it->is_null())
        return nullptr;
    return &*it;
}

std::optional<std::string> Input::string(const char* name)
{
    const auto* value = field(name);
    if (value == nullptr || error_)
        return std::nullopt;
    if (!value->is_string()) {
        fail(invalid_parameter(cat(name, ": must be a string")));
        return std::nullopt;
    }
    return value->get<std::string>();
}

std::string Input::required_string(const char* name)
{
    auto value = string(name);
    if (!error_ && (!value || value->empty()))
        fail(invalid_parameter(cat(name, ": is required")));
    return value.value_or("");
}

std::optional<std::int64_t> Input::integer(const char* name, std::int64_t min, std::int64_t max)
{
    const auto* value = field(name);
    if (value == nullptr || error_)
        return std::nullopt;
    if (!value->is_number_integer() || value->get<std::int64_t>() < min ||
        value->get<std::int64_t>() > max) {
        fail(invalid_parameter(cat(name, ": must be an integer from ", min, " to ", max)));
        return std::nullopt;
    }
    return value->get<std::int64_t>();
}

std::vector<std::string> Input::strings(const char* name, bool required)
{
    std::vector<std::string> out;
    const auto* value = field(name);
    if (error_)
        return out;
    if (value == nullptr) {
        if (required)
            fail(invalid_parameter(cat(name, ": is required")));
        return out;
    }
    if (!value->is_array()) {
        fail(invalid_parameter(cat(name, ": must be a list of strings")));
        return out;
    }
    for (std::size_t i = 0; i < value->size(); ++i) {
        if (!(*value)[i].is_string()) {
            fail(invalid_parameter(cat(name, "[", i, "]: must be a string")));
            return {};
        }
        out.push_back((*value)[i].get<std::string>());
    }
    if (required && out.empty())
        fail(invalid_parameter(cat(name, ": must not be empty")));
    return out;
}

std::vector<store::Tag> Input::tags(const char* name)
{
    std::vector<store::Tag> out;
    const auto* value = field(name);
    if (value == nullptr || error_)
        return out;
    if (!value->is_array() || value->size() > 50) {
        fail(invalid_parameter(cat(name, ": must be a list of at most 50 {key, value} tags")));
        return out;
    }
    for (std::size_t i = 0; i < value->size(); ++i) {
        const auto& tag = (*value)[i];
        const auto key = tag.is_object() ? tag.find("key") : tag.end();
        const auto val = tag.is_object() ? tag.find("value") : tag.end();
        const std::string where = cat(name, "[", i, "]");
        if (key == tag.end() || !key->is_string() || key->get<std::string>().empty() ||
            key->get<std::string>().size() > 128) {
            fail(invalid_parameter(cat(where, ".key: must be a string of 1 to 128 characters")));
            return {};
        }
        if (val != tag.end() && (!val->is_string() || val->get<std::string>().size() > 256)) {
            fail(invalid_parameter(
                cat(where, ".value: must be a string of at most 256 characters")));
            return {};
        }
        auto k = key->get<std::string>();
        if (k.rfind("aws:", 0) == 0) {
            fail(invalid_parameter(cat(where, ".key: the aws: prefix is reserved")));
            return {};
        }
        out.emplace_back(std::move(k), val == tag.end() ? "" : val->get<std::string>());
    }
    return out;
}

const nlohmann::json* Input::object(const char* name)
{
    const auto* value = field(name);
    if (value == nullptr || error_)
        return nullptr;
    if (!value->is_object()) {
        fail(invalid_parameter(cat(name, ": must be an object")));
        return nullptr;
    }
    return value;
}

void Input::one_of(const char* name, const std::optional<std::string>& value,
                   std::initializer_list<const char*> allowed)
{
    if (!value || error_)
        return;
    std::string list;
    for (const char* a : allowed) {
        if (*value == a)
            return;
        list += cat(list.empty() ? "" : ", ", a);
    }
    fail(invalid_parameter(cat(name, ": ", quoted(*value), " is not one of ", list)));
}

Page paginate(Input& input, std::size_t total)
{
    const auto max = input.integer("maxResults", 1, 100).value_or(100);
    const auto token = input.string("nextToken");
    std::size_t begin = 0;
    if (token) {
        const auto offset = token->rfind("berth-", 0) == 0
                                ? parse_int<std::size_t>(std::string_view(*token).substr(6))
                                : std::nullopt;
        if (!offset || *offset > total) {
            input.fail(invalid_parameter("nextToken: not a token this API returned"));
            return {};
        }
        begin = *offset;
    }
    const std::size_t end = std::min(total, begin + static_cast<std::size_t>(max));
    return Page{begin, end, end < total ? cat("berth-", end) : std::string()};
}

} // namespace berth::api
