// runtime/cli/main.cpp — berth-runtime, a runc-compatible command line over runtime/runtime.hpp.
// Parses the global flags, picks the verb and returns its exit code: 0 ok, 1 error, and for
// run/exec in the foreground the container process's own status.
#include <seccomp.h>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>
#include "base/log.hpp"
#include "base/trace.hpp"
#include "runtime/cli/log_output.hpp"
#include "runtime/cli/verbs.hpp"

#ifndef BERTH_VERSION
#define BERTH_VERSION "unknown"
#endif

namespace berth::cli {
namespace {

struct Verb {
    std::string_view name;
    std::string_view summary;
    int (*main)(const Options&, Args);
};

int not_supported(std::string_view verb)
{
    return fail(cat("berth-runtime does not support ", quoted(verb)));
}

const Verb verbs[] = {
    {"checkpoint", "checkpoint a running container (not supported)", nullptr},
    {"create", "create a container", create_main},
    {"delete", "delete any resources held by the container", delete_main},
    {"events", "display container events (not supported)", nullptr},
    {"exec", "execute new process inside the container", exec_main},
    {"kill", "kill sends the specified signal (default: SIGTERM) to the container's init process",
     kill_main},
    {"list", "lists containers started with the given root", list_main},
    {"pause", "pause suspends all processes inside the container", pause_main},
    {"ps", "ps displays the processes running inside a container", ps_main},
    {"restore", "restore a container from a previous checkpoint (not supported)", nullptr},
    {"resume", "resumes all processes that have been previously paused", resume_main},
    {"run", "create and run a container", run_main},
    {"spec", "create a new specification file", spec_main},
    {"start", "executes the user defined process in a created container", start_main},
    {"state", "output the state of a container", state_main},
    {"update", "update container resource constraints (not supported)", nullptr},
    {"features", "show the enabled features", features_main},
};

const Flag global_flags[] = {
    {"debug", 0, false, "enable debug logging"},
    {"log", 0, true, "set the log file to write logs to (default is '/dev/stderr')"},
    {"log-format", 0, true, "set the log format ('text' (default), or 'json')"},
    {"root", 0, true, "root directory for storage of container state (default: \"/run/berth\")"},
    {"criu", 0, true, "path to the criu binary (accepted, not used)"},
    {"systemd-cgroup", 0, false,
     "enable systemd cgroup support, expects cgroupsPath to be of form \"slice:prefix:name\""},
    {"cgroup-root", 0, true,
     "cgroup under which containers' cgroups are made; an absolute cgroupsPath must lie inside "
     "it (default: $BERTH_CGROUP_ROOT, else the cgroup systemd delegated to the caller, else "
     "\"/berth\")"},
    {"cgroups-outside-root", 0, false,
     "allow a cgroupsPath outside the cgroup root, such as an existing cgroup of the host "
     "(also $BERTH_CGROUPS_OUTSIDE_ROOT=1); needed for engines that pick their own cgroup paths"},
    {"rootless", 0, true, "ignore cgroup permission errors ('true', 'false', or 'auto')"},
    {"help", 'h', false, "show help"},
    {"version", 'v', false, "print the version"},
};

void print_version()
{
    const auto* seccomp = ::seccomp_version();
    std::printf("berth-runtime version %s\nspec: 1.0.2-dev\nlibseccomp: %u.%u.%u\n", BERTH_VERSION,
                seccomp->major, seccomp->minor, seccomp->micro);
}

void print_usage()
{
    std::printf("NAME:\n   berth-runtime - a runc-compatible Open Container Initiative runtime\n\n"
                "USAGE:\n   berth-runtime [global options] command [command options] "
                "[arguments...]\n\nVERSION:\n   %s\n\nCOMMANDS:\n",
                BERTH_VERSION);
    for (const auto& verb : verbs)
        std::printf("   %-11s %.*s\n", std::string(verb.name).c_str(),
                    static_cast<int>(verb.summary.size()), verb.summary.data());
    std::printf("   version     print the version\n\nGLOBAL OPTIONS:\n");
    for (const auto& flag : global_flags)
        std::printf("   --%-18s %.*s\n", cat(flag.name, flag.takes_value ? " value" : "").c_str(),
                    static_cast<int>(flag.help.size()), flag.help.data());
}

// --cgroup-root, else $BERTH_CGROUP_ROOT, else the subtree systemd delegated to us (Delegate=yes
// on the unit that runs us), else nullopt: the library's default.
std::optional<std::string> cgroup_root(const Parsed& parsed)
{
    if (parsed.has("cgroup-root"))
        return parsed.value("cgroup-root");
    if (const char* env = std::getenv("BERTH_CGROUP_ROOT"); env && *env)
        return std::string(env);
    auto delegated = berth::cgroups::own_delegated_root();
    if (!delegated) {
        log::debug(cat("no delegated cgroup: ", delegated.error().message()));
        return std::nullopt;
    }
    return *delegated;
}

// Global flags -> options and logging; the exit code if the program should stop here.
std::optional<int> apply_globals(const Parsed& parsed, Options& options)
{
    LogSettings log{parsed.value("log"), false, parsed.flag("debug")};
    const auto format = parsed.value("log-format", "text");
    if (format != "text" && format != "json")
        return fail(cat("invalid log-format: ", format));
    log.json = format == "json";
    auto logging = setup_logging(log);
    if (!logging)
        return fail(logging.error());
    const auto rootless = parsed.value("rootless", "auto");
    if (rootless != "auto" && rootless != "true" && rootless != "false")
        return fail(cat("invalid --rootless argument ", quoted(rootless)));
    options.root = parsed.value("root", options.root);
    options.systemd_cgroup = parsed.flag("systemd-cgroup");
    options.warn = [](const Error& error) { log::warn(error.message()); };
    if (auto root = cgroup_root(parsed))
        options.cgroup_root = std::move(*root);
    const char* outside = std::getenv("BERTH_CGROUPS_OUTSIDE_ROOT");
    options.cgroups_outside_root =
        parsed.flag("cgroups-outside-root") ||
        (outside && (std::string_view(outside) == "1" || std::string_view(outside) == "true"));
    return std::nullopt;
}

int dispatch(const Options& options, const std::vector<std::string>& args)
{
    const auto& name = args.front();
    const Args rest(args.data() + 1, args.size() - 1);
    if (name == "version") {
        print_version();
        return 0;
    }
    if (name == "help" || name == "h") {
        if (!rest.empty())
            for (const auto& verb : verbs)
                if (verb.name == rest.front() && verb.main)
                    return verb.main(options, std::vector<std::string>{"--help"});
        print_usage();
        return 0;
    }
    for (const auto& verb : verbs) {
        if (verb.name != name)
            continue;
        log::debug(cat("verb ", name));
        return verb.main ? verb.main(options, rest) : not_supported(name);
    }
    (void)fail(cat("No help topic for '", name, "'"));
    return 3; // as runc (urfave/cli) for an unknown command
}

} // namespace
} // namespace berth::cli

int main(int argc, char** argv)
{
    using namespace berth::cli;
    berth::trace::phase("cli: main");
    const std::vector<std::string> args(argv + 1, argv + argc);
    auto parsed = berth::cli::parse_args(args, global_flags);
    if (!parsed) {
        std::printf("Incorrect Usage. %s\n\n", parsed.error().message().c_str());
        print_usage();
        return fail(parsed.error());
    }
    if (parsed->flag("version")) {
        print_version();
        return 0;
    }
    if (parsed->flag("help") || parsed->positionals().empty()) {
        print_usage();
        return 0;
    }
    // Verbs that start processes inside a container run from a binary nothing can write (a
    // read-only mount of it, else a sealed copy), so a container cannot reach the host's
    // berth-runtime through /proc/self/exe (CVE-2019-5736). Re-executed before the global flags
    // are applied (cgroup root detection, logging): the copy that stays does that once.
    const std::string& verb = parsed->positionals().front();
    std::optional<berth::Error> unsealed;
    if (verb == "create" || verb == "run" || verb == "exec")
        if (auto sealed = berth::runtime::protect_running_binary(argv); !sealed)
            unsealed = std::move(sealed).error();
    Options options;
    if (auto code = apply_globals(*parsed, options))
        return *code;
    berth::trace::phase("cli: global flags");
    if (unsealed)
        return fail(*unsealed);
    const int code = dispatch(options, parsed->positionals());
    berth::trace::phase("cli: verb done");
    return code;
}
