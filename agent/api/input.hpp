// agent/api/input.hpp — reading an operation's JSON input field by field. The first bad field
// is remembered as an InvalidParameterException naming it; later reads are no-ops, so an
// operation reads everything, then checks error() once.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>
#include <nlohmann/json.hpp>
#include "agent/api/errors.hpp"
#include "agent/store/store.hpp"

namespace berth::api {

class Input {
public:
    explicit Input(const nlohmann::json& in) : in_(in) {}

    std::optional<std::string> string(const char* name);
    std::string required_string(const char* name);
    std::optional<std::int64_t> integer(const char* name, std::int64_t min, std::int64_t max);
    std::vector<std::string> strings(const char* name, bool required = false);
    // [{"key": ..., "value": ...}] with ECS's limits (key 1-128, value <= 256, <= 50 tags,
    // the "aws:" prefix reserved).
    std::vector<store::Tag> tags(const char* name);
    // An object field; null when absent.
    const nlohmann::json* object(const char* name);
    // Checks value is one of allowed (error names the field and the allowed values).
    void one_of(const char* name, const std::optional<std::string>& value,
                std::initializer_list<const char*> allowed);

    void fail(ApiError error)
    {
        if (!error_)
            error_ = std::move(error);
    }
    const std::optional<ApiError>& error() const { return error_; }

private:
    const nlohmann::json* field(const char* name) const;
    const nlohmann::json& in_;
    std::optional<ApiError> error_;
};

// maxResults/nextToken over an already complete list: ECS pages of at most 100.
struct Page {
    std::size_t begin = 0;
    std::size_t end = 0;
    std::string next_token; // empty: last page
};
Page paginate(Input& input, std::size_t total);

} // namespace berth::api
