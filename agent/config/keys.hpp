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

const std::vector<Key>& keys();
const Key* find_key(std::string_view name);
// Whole-config rules that no single key can check (credentials come in pairs).
Result<void> check(const Config& config);

} // namespace berth::config
