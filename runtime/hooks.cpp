// runtime/hooks.cpp — hooks run from the runtime process, in the host's namespaces.
#include "runtime/hooks.hpp"
#include <sys/wait.h>
#include <cstring>
#include "runtime/child_plan.hpp"

namespace berth::runtime {

Result<void> run_hooks(std::string_view kind, const std::vector<Hook>& hooks,
                       const std::string& state_json)
{
    PlanArena arena;
    const auto plans = build_hook_plans(hooks, arena);
    for (std::size_t i = 0; i < plans.size(); ++i) {
        const auto what = cat(kind, " hook ", i, " ", berth::quoted(hooks[i].path));
        const int r = run_hook_raw(plans[i], state_json.data(), state_json.size());
        if (r == -1)
            return Error::from_errno(what);
        if (r == -2)
            return Error::with_code(ETIMEDOUT, what, ": killed after its timeout of ",
                                    *hooks[i].timeout, "s");
        if (r > 0 && WIFEXITED(r))
            return Error::invalid(what, ": exited with status ", WEXITSTATUS(r));
        if (r > 0)
            return Error::invalid(what, ": killed by signal ", WTERMSIG(r));
    }
    return {};
}

} // namespace berth::runtime
