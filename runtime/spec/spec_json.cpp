#include "runtime/spec/spec_json.hpp"

namespace berth::runtime::spec_json {

std::string_view type_name(const Json& json)
{
    switch (json.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::object: return "an object";
    case Json::value_t::array: return "an array";
    case Json::value_t::string: return "a string";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "an integer";
    case Json::value_t::number_float: return "a number";
    default: return "an invalid value";
    }
}

bool is_absolute(std::string_view path)
{
    return !path.empty() && path.front() == '/';
}

Result<void> check_env(const At& at, const std::vector<std::string>& env)
{
    for (std::size_t i = 0; i < env.size(); ++i) {
        const auto equals = env[i].find('=');
        if (equals == std::string::npos || equals == 0)
            return at.element(i, at.json)
                .invalid("expected KEY=VALUE, got ", berth::quoted(env[i]));
    }
    return {};
}

} // namespace berth::runtime::spec_json
