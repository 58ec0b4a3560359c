// runtime/cli/resume.cpp — `resume <id>`: thaw a paused container.
#include "runtime/cli/log_output.hpp"
#include "runtime/cli/verbs.hpp"

namespace berth::cli {

int resume_main(const Options& options, Args args)
{
    static const VerbSpec verb{
        "resume", "<container-id>", "resumes all processes that have been previously paused", {}, 1,
        1};
    auto parsed = parse_verb(verb, args);
    if (auto* code = std::get_if<int>(&parsed))
        return *code;
    auto resumed = runtime::resume(options, std::get<Parsed>(parsed).positionals()[0]);
    if (!resumed)
        return fail(resumed.error());
    return 0;
}

} // namespace berth::cli
