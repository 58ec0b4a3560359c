// agent/config/keys.hpp — internal: the table of keys and what each does to a Config.
#pragma once
#include <string_view>
#include <vector>
#include "agent/config/config.hpp"

namespace berth::config {

struct Key {
    std::string_view name;
    // Checks `value` and stores it; the error names what is wrong with the value only (the
    // caller adds where it came from and the key).
    Result<void> (*apply)(Config& config, std::string_view value);
};

// registry_keys.cpp: BERTH_REGISTRY_*, BERTH_DOCKER_CONFIG and ECS_ENGINE_AUTH_*.
Result<void> set_registry_plain_http(Config& c, std::string_view v);
Result<void> set_registry_ca_file(Config& c, std::string_view v);
Result<void> set_registry_mirrors(Config& c, std::string_view v);
Result<void> set_docker_config(Config& c, std::string_view v);
Result<void> set_engine_auth_type(Config& c, std::string_view v);
Result<void> set_engine_auth_data(Config& c, std::string_view v);
// ECS_ENGINE_AUTH_DATA checked against ECS_ENGINE_AUTH_TYPE: both or neither set, and each
// entry the shape its type names.
Result<void> check_engine_auth(const Config& c);

const std::vector<Key>& keys();
const Key* find_key(std::string_view name);
// Whole-config rules that no single key can check (credentials come in pairs).
Result<void> check(const Config& config);

} // namespace berth::config
