// runtime/cli/kill.cpp — `kill <id> [signal]`: SIGTERM by default, --all for every process.
#include "runtime/cli/log_output.hpp"
#include "runtime/cli/signals.hpp"
#include "runtime/cli/verbs.hpp"

namespace berth::cli {
namespace {

const Flag kill_flags[] = {
    {"all", 'a', false, "send the specified signal to all processes inside the container"},
};

} // namespace

int kill_main(const Options& options, Args args)
{
    static const VerbSpec verb{"kill",
                               "<container-id> [signal]",
                               "kill sends the specified signal (default: SIGTERM) to the "
                               "container's init process",
                               kill_flags,
                               1,
                               2};
    auto parsed_or_code = parse_verb(verb, args);
    if (auto* code = std::get_if<int>(&parsed_or_code))
        return *code;
    const auto& parsed = std::get<Parsed>(parsed_or_code);
    const auto& positionals = parsed.positionals();
    const std::string name = positionals.size() > 1 ? positionals[1] : "SIGTERM";
    const auto signal = parse_signal(name);
    if (!signal)
        return fail(cat("unknown signal ", quoted(name)));
    auto killed = runtime::kill(options, positionals[0], *signal, parsed.flag("all"));
    if (!killed)
        return fail(killed.error());
    return 0;
}

} // namespace berth::cli
