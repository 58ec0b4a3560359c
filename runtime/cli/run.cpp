// runtime/cli/run.cpp — `run`: create + start; in the foreground it waits, forwards signals
// (collected here, sent by runtime::run) and exits with the container's status, as runc does.
#include <sys/prctl.h>
#include <optional>
#include "runtime/cli/log_output.hpp"
#include "runtime/cli/signals.hpp"
#include "runtime/cli/verbs.hpp"

namespace berth::cli {
namespace {

const Flag run_flags[] = {
    create_flags[0],
    create_flags[1],
    create_flags[2],
    create_flags[3],
    create_flags[4],
    create_flags[5],
    {"detach", 'd', false, "detach from the container's process"},
    {"keep", 0, false, "do not delete the container after it exits (not supported)"},
    {"no-subreaper", 0, false, "disable the use of the subreaper (accepted, no effect)"},
};

} // namespace

int run_main(const Options& options, Args args)
{
    static const VerbSpec verb{"run", "<container-id>", "create and run a container", run_flags, 1,
                               1};
    auto parsed_or_code = parse_verb(verb, args);
    if (auto* code = std::get_if<int>(&parsed_or_code))
        return *code;
    const auto& parsed = std::get<Parsed>(parsed_or_code);
    if (parsed.flag("keep"))
        return fail("run --keep is not supported: use create and start");
    auto create = create_options_from(parsed);
    if (!create)
        return fail(create.error());
    const bool detach = parsed.flag("detach");
    std::optional<ForwardedSignals> signals;
    if (!detach) {
        signals.emplace();
        create->signal_fd = signals->fd();
        // Processes orphaned inside the container (no pid namespace) are re-parented to us.
        ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
    auto status = runtime::run(options, *create, detach);
    if (!status)
        return fail(cat("berth-runtime run failed: ", status.error().message()));
    return *status;
}

} // namespace berth::cli
