// runtime/cli/create.cpp — `create`: set the container up, its process waiting before exec.
#include <signal.h>
#include <string.h>
#include <cstdio>
#include <filesystem>
#include "runtime/cli/log_output.hpp"
#include "runtime/cli/verbs.hpp"

namespace berth::cli {

const Flag create_flags[6] = {
    {"bundle", 'b', true,
     "path to the root of the bundle directory, defaults to the current directory"},
    {"console-socket", 0, true,
     "path to an AF_UNIX socket which will receive a file descriptor referencing the master "
     "end of the console's pseudoterminal"},
    {"pid-file", 0, true, "specify the file to write the process id to"},
    {"no-pivot", 0, false, "do not use pivot root to jail process inside rootfs"},
    {"no-new-keyring", 0, false, "do not create a new session keyring for the container"},
    {"preserve-fds", 0, true, "pass N additional file descriptors to the container"},
};

std::string absolute_path(const std::string& path)
{
    if (path.empty())
        return path;
    std::error_code ignored;
    auto absolute = std::filesystem::absolute(path, ignored).lexically_normal().string();
    if (absolute.size() > 1 && absolute.back() == '/')
        absolute.pop_back();
    return absolute;
}

bool parse_count(const std::string& text, unsigned& count)
{
    const auto value = parse_int<unsigned>(text);
    if (!value)
        return false;
    count = *value;
    return true;
}

Result<runtime::CreateOptions> create_options_from(const Parsed& parsed)
{
    runtime::CreateOptions create;
    create.id = parsed.positionals().at(0);
    create.bundle = absolute_path(parsed.value("bundle", "."));
    create.console_socket = absolute_path(parsed.value("console-socket"));
    create.pid_file = absolute_path(parsed.value("pid-file"));
    create.no_pivot = parsed.flag("no-pivot");
    create.no_new_keyring = parsed.flag("no-new-keyring");
    if (!parse_count(parsed.value("preserve-fds", "0"), create.preserve_fds))
        return Error::invalid("invalid value ", quoted(parsed.value("preserve-fds")),
                              " for flag -preserve-fds");
    return create;
}

int create_main(const Options& options, Args args)
{
    static const VerbSpec verb{"create", "<container-id>", "create a container", create_flags, 1,
                               1};
    auto parsed = parse_verb(verb, args);
    if (auto* code = std::get_if<int>(&parsed))
        return *code;
    auto create = create_options_from(std::get<Parsed>(parsed));
    if (!create)
        return fail(create.error());
    // SIGINT, SIGTERM, SIGHUP and SIGQUIT wait until create has finished or unwound, so that
    // Ctrl-C or a stop cannot leave half a container behind; one that came meanwhile then
    // removes the container again. (The library leaves signal masks to its caller; the child
    // processes start with an empty mask.)
    sigset_t interrupting, saved;
    sigemptyset(&interrupting);
    for (const int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT})
        sigaddset(&interrupting, sig);
    ::sigprocmask(SIG_BLOCK, &interrupting, &saved);
    auto state = runtime::create(options, *create);
    const timespec now{0, 0};
    const int interrupted = ::sigtimedwait(&interrupting, nullptr, &now);
    ::sigprocmask(SIG_SETMASK, &saved, nullptr);
    if (!state)
        return fail(cat("berth-runtime create failed: ", state.error().message()));
    if (interrupted > 0) {
        auto removed = runtime::remove(options, create->id, true);
        fail(cat("berth-runtime create interrupted by ", "SIG", ::sigabbrev_np(interrupted),
                 removed ? ": container removed" : cat(": ", removed.error().message())));
        return 128 + interrupted;
    }
    return 0;
}

} // namespace berth::cli
