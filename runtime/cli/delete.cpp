// runtime/cli/delete.cpp — `delete [--force] <id>`: refuses a running container unless forced.
#include <cerrno>
#include "runtime/cli/log_output.hpp"
#include "runtime/cli/verbs.hpp"

namespace berth::cli {
namespace {

const Flag delete_flags[] = {
    {"force", 'f', false, "forcibly deletes the container if it is still running (uses SIGKILL)"},
};

} // namespace

int delete_main(const Options& options, Args args)
{
    static const VerbSpec verb{
        "delete", "<container-id>", "delete any resources held by the container", delete_flags, 1,
        1};
    auto parsed_or_code = parse_verb(verb, args);
    if (auto* code = std::get_if<int>(&parsed_or_code))
        return *code;
    const auto& parsed = std::get<Parsed>(parsed_or_code);
    const bool force = parsed.flag("force");
    auto removed = runtime::remove(options, parsed.positionals()[0], force);
    if (!removed) {
        // As runc: deleting what does not exist is fine when forced (idempotent cleanup).
        if (force && removed.error().code == ENOENT)
            return 0;
        return fail(removed.error());
    }
    return 0;
}

} // namespace berth::cli
