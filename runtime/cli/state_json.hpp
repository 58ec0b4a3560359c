// runtime/cli/state_json.hpp — the container state as runc prints it: the keys in runc's order
// and "created" in Go's RFC3339Nano (trailing zeros of the fraction dropped).
#pragma once
#include <chrono>
#include <string>
#include <nlohmann/json.hpp>
#include "runtime/runtime.hpp"

namespace berth::cli {

std::string rfc3339_nano(std::chrono::system_clock::time_point time);
// ociVersion, id, pid, status, bundle, rootfs, created, owner, annotations (if any).
nlohmann::ordered_json state_object(const runtime::State& state, const std::string& owner);
// The user name owning <root>/<id> (runc's list shows it), "#uid" if it has none.
std::string state_owner(const std::string& root, const std::string& id);

} // namespace berth::cli
