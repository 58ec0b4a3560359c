// runtime/cli/state.cpp — `state`: the OCI state JSON, indented, no trailing newline (as runc).
#include <cstdio>
#include "runtime/cli/log_output.hpp"
#include "runtime/cli/state_json.hpp"
#include "runtime/cli/verbs.hpp"

namespace berth::cli {

int state_main(const Options& options, Args args)
{
    static const VerbSpec verb{"state", "<container-id>", "output the state of a container", {}, 1,
                               1};
    auto parsed = parse_verb(verb, args);
    if (auto* code = std::get_if<int>(&parsed))
        return *code;
    auto state = runtime::state(options, std::get<Parsed>(parsed).positionals()[0]);
    if (!state)
        return fail(state.error());
    const auto text = state_object(*state, state->owner)
                          .dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
}

} // namespace berth::cli
