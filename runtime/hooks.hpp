// runtime/hooks.hpp — internal: OCI hooks run by the runtime process (prestart, createRuntime,
// poststart, poststop). createContainer and startContainer hooks run inside the container from
// child.cpp with the same run_hook_raw(). Each hook gets the OCI state JSON on stdin and is
// killed when its timeout expires.
#pragma once
#include <functional>
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

// Runs every hook even when some fail, handing each failure to warn (which may be empty): for
// poststart and poststop, where the OCI spec says a failure is only logged as a warning and the
// remaining hooks and the lifecycle go on.
void run_hooks_warning(std::string_view kind, const std::vector<Hook>& hooks,
                       const std::string& state_json,
                       const std::function<void(const Error&)>& warn);

// A hook that failed inside the container, as the child reports it in SyncMessage::b: the
// errno of running it (ETIMEDOUT: killed after its timeout), or -(wait status) when it ran and
// failed. "createContainer hook 0 '/bin/x': exited with status 3".
Error child_hook_error(std::string_view kind, std::size_t index, const Hook& hook, int code);

} // namespace berth::runtime
