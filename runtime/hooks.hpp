// runtime/hooks.hpp — internal: OCI hooks run by the runtime process (prestart, createRuntime,
// poststart, poststop). createContainer and startContainer hooks run inside the container from
// child.cpp with the same run_hook_raw(). Each hook gets the OCI state JSON on stdin and is
// killed when its timeout expires.
#pragma once
#include <string>
#include <string_view>
#include <vector>
#include "base/result.hpp"
#include "runtime/spec.hpp"

namespace berth::runtime {

// Runs hooks in order; the first failure stops and names the hook:
// "prestart hook 0 '/usr/bin/x': exited with status 1".
Result<void> run_hooks(std::string_view kind, const std::vector<Hook>& hooks,
                       const std::string& state_json);

} // namespace berth::runtime
