// agent/daemon/pull_options.cpp — see pure.hpp: the configuration's registry keys as the image
// library's PullOptions. Built on the loop when a pull starts and handed to the pull thread by
// value, so a reload (which rewrites options.config on the loop) never races a pull.
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

} // namespace berth::daemon
