// runtime/hooks.cpp — hooks run from the runtime process, in the host's namespaces, and the
// words for a hook's failure wherever it ran.
#include "runtime/hooks.hpp"
#include <sys/wait.h>
#include <cstring>
#include "runtime/child_plan.hpp"

namespace berth::runtime {
namespace {

// result as run_hook_raw returns it; error: the errno when result is -1.
Error hook_error(std::string_view kind, std::size_t index, const Hook& hook, int result, int error)
{
    const auto what = hook.path.empty() ? cat(kind, " hook ", index)
                                        : cat(kind, " hook ", index, " ", berth::quoted(hook.path));
    if (result == -2)
        return Error::with_code(ETIMEDOUT, what, ": killed after its timeout of ",
                                hook.timeout.value_or(0), "s");
    if (result > 0 && WIFEXITED(result))
        return Error::invalid(what, ": exited with status ", WEXITSTATUS(result));
    if (result > 0)
        return Error::invalid(what, ": killed by signal ", WTERMSIG(result));
    return Error::with_code(error, what);
}

} // namespace

Result<void> run_hooks(std::string_view kind, const std::vector<Hook>& hooks,
                       const std::string& state_json)
{
    PlanArena arena;
    const auto plans = build_hook_plans(hooks, arena);
    for (std::size_t i = 0; i < plans.size(); ++i) {
        const int r = run_hook_raw(plans[i], state_json.data(), state_json.size());
        const int error = errno;
        if (r != 0)
            return hook_error(kind, i, hooks[i], r, error);
    }
    return {};
}

void run_hooks_warning(std::string_view kind, const std::vector<Hook>& hooks,
                       const std::string& state_json, const std::function<void(const Error&)>& warn)
{
    PlanArena arena;
    const auto plans = build_hook_plans(hooks, arena);
    for (std::size_t i = 0; i < plans.size(); ++i) {
        const int r = run_hook_raw(plans[i], state_json.data(), state_json.size());
        const int error = errno;
        if (r != 0 && warn)
            warn(hook_error(kind, i, hooks[i], r, error));
    }
}

Error child_hook_error(std::string_view kind, std::size_t index, const Hook& hook, int code)
{
    if (code < 0)
        return hook_error(kind, index, hook, -code, 0);
    if (code == ETIMEDOUT)
        return hook_error(kind, index, hook, -2, 0);
    return hook_error(kind, index, hook, -1, code);
}

} // namespace berth::runtime
