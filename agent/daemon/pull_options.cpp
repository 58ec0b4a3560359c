// agent/daemon/pull_options.cpp — see pure.hpp: the configuration's registry keys as the image
// library's PullOptions, built on the loop when a pull starts and handed to the pull thread by
// value, so a reload (which rewrites options.config on the loop) never races a pull; and
// (internal.hpp) the check of the files those keys name.
#include <unistd.h>
#include "agent/daemon/internal.hpp"
#include "agent/daemon/pure.hpp"

namespace berth::daemon {

image::PullOptions pull_options(const config::Config& config)
{
    image::PullOptions o;
    o.plain_http = config.registry_plain_http;
    o.ca_file = config.registry_ca_file;
    o.mirrors = config.registry_mirrors;
    o.docker_config = config.docker_config;
    o.auths_json = config.engine_auth_data; // both ECS_ENGINE_AUTH_TYPEs read as auths entries
    return o;
}

Result<void> check_registry_files(const config::Config& config)
{
    if (!config.registry_ca_file.empty() && ::access(config.registry_ca_file.c_str(), R_OK) != 0)
        return Error::from_errno("BERTH_REGISTRY_CA_FILE ", quoted(config.registry_ca_file));
    return {};
}

} // namespace berth::daemon
