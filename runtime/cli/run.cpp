// runtime/cli/run.cpp — `run`: create + start; in the foreground it waits, forwards signals
// (inside runtime::run) and exits with the container's status, as runc does.
#include "runtime/cli/log_output.hpp"
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
    auto status = runtime::run(options, *create, parsed.flag("detach"));
    if (!status)
        return fail(cat("berth-runtime run failed: ", status.error().message()));
    return *status;
}

} // namespace berth::cli
