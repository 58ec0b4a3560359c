// agent/api/options.cpp — the API's settings from the environment (flags are the daemon's; it
// overlays them after this).
#include "agent/api/api.hpp"
#include "agent/api/arns.hpp"

namespace berth::api {

Result<Options> apply_environment(Options options, const Lookup& lookup)
{
    if (auto v = lookup("BERTH_API_ADDRESS"))
        options.address = *v;
    if (auto v = lookup("BERTH_API_PORT")) {
        const auto port = parse_int<std::uint16_t>(*v);
        if (!port)
            return Error::invalid("BERTH_API_PORT: ", quoted(*v), " is not a port (0-65535)");
        options.port = *port;
    }
    if (auto v = lookup("BERTH_API_REGION")) {
        if (v->empty() || !valid_name(*v))
            return Error::invalid("BERTH_API_REGION: ", quoted(*v), " is not a region name");
        options.region = *v;
    }
    if (auto v = lookup("BERTH_API_ACCOUNT_ID")) {
        if (v->size() != 12 || !parse_int<std::uint64_t>(*v))
            return Error::invalid("BERTH_API_ACCOUNT_ID: ", quoted(*v), " is not 12 digits");
        options.account_id = *v;
    }
    if (auto v = lookup("ECS_CLUSTER")) {
        if (!valid_name(*v))
            return Error::invalid("ECS_CLUSTER: ", quoted(*v),
                                  " is not a cluster name (letters, digits, - and _)");
        options.cluster = *v;
    }
    if (auto v = lookup("BERTH_API_ACCESS_KEY_ID"))
        options.credentials.access_key_id = *v;
    if (auto v = lookup("BERTH_API_SECRET_ACCESS_KEY"))
        options.credentials.secret_access_key = *v;
    return options;
}

} // namespace berth::api
