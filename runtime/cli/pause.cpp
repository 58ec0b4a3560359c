// runtime/cli/pause.cpp — `pause <id>`: freeze every process of the container.
#include "runtime/cli/log_output.hpp"
#include "runtime/cli/verbs.hpp"

namespace berth::cli {

int pause_main(const Options& options, Args args)
{
    static const VerbSpec verb{
        "pause", "<container-id>", "pause suspends all processes inside the container", {}, 1, 1};
    auto parsed = parse_verb(verb, args);
    if (auto* code = std::get_if<int>(&parsed))
        return *code;
    auto paused = runtime::pause(options, std::get<Parsed>(parsed).positionals()[0]);
    if (!paused)
        return fail(paused.error());
    return 0;
}

} // namespace berth::cli
