// runtime/cli/start.cpp — `start`: let a created container exec its process.
#include "runtime/cli/log_output.hpp"
#include "runtime/cli/verbs.hpp"

namespace berth::cli {

int start_main(const Options& options, Args args)
{
    static const VerbSpec verb{"start",
                               "<container-id>",
                               "executes the user defined process in a created container",
                               {},
                               1,
                               1};
    auto parsed = parse_verb(verb, args);
    if (auto* code = std::get_if<int>(&parsed))
        return *code;
    auto started = runtime::start(options, std::get<Parsed>(parsed).positionals()[0]);
    if (!started)
        return fail(started.error());
    return 0;
}

} // namespace berth::cli
