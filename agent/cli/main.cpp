// agent/cli/main.cpp — `berth [GLOBAL OPTIONS] COMMAND ...`: reads the paths from the environment
// and the global options, then calls one command.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include "agent/cli/cli.hpp"
#include "runtime/runtime.hpp"

namespace {

constexpr const char* usage_text =
    "usage: berth [--json] [--socket PATH] [--state-dir DIR] [--runtime-dir DIR] [--root DIR]\n"
    "             COMMAND ...\n"
    "tasks (through berthd's socket):\n"
    "  run-task FILE.json [--count N] [--started-by S]\n"
    "  ps|tasks [--all]\n"
    "  describe TASK\n"
    "  stop TASK [--reason TEXT]\n"
    "  logs [-f] [--since DURATION|RFC3339] [--tail N] TASK [CONTAINER]\n"
    "  exec [-t] [-i] TASK CONTAINER CMD...\n"
    "images:\n"
    "  pull|images|rmi|inspect|load|save|image prune ...\n"
    "TASK: a task ARN, its id, or a unique prefix of the id.\n"
    "Environment: BERTH_STATE_DIR, BERTH_RUNTIME_DIR, BERTH_SOCKET (flags win).\n";

void from_environment(berth::cli::Globals& g)
{
    if (const char* v = std::getenv("BERTH_STATE_DIR"); v != nullptr && *v != '\0')
        g.state_dir = v;
    if (const char* v = std::getenv("BERTH_RUNTIME_DIR"); v != nullptr && *v != '\0')
        g.runtime_dir = v;
    if (const char* v = std::getenv("BERTH_SOCKET"); v != nullptr && *v != '\0')
        g.socket = v;
}

} // namespace

int main(int argc, char** argv)
{
    using namespace berth::cli;
    Globals g;
    from_environment(g);
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; ++i) {
        const bool has_value = i + 1 < argc;
        if (std::strcmp(argv[i], "--root") == 0 && has_value)
            g.root = argv[++i];
        else if (std::strcmp(argv[i], "--socket") == 0 && has_value)
            g.socket = argv[++i];
        else if (std::strcmp(argv[i], "--state-dir") == 0 && has_value)
            g.state_dir = argv[++i];
        else if (std::strcmp(argv[i], "--runtime-dir") == 0 && has_value)
            g.runtime_dir = argv[++i];
        else if (std::strcmp(argv[i], "--json") == 0)
            g.json = true;
        else if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
            std::fputs(usage_text, stdout);
            return 0;
        } else {
            std::fprintf(stderr, "berth: unknown option '%s'\n%s", argv[i], usage_text);
            return 2;
        }
    }
    if (i >= argc) {
        std::fputs(usage_text, stderr);
        return 2;
    }
    const std::string command = argv[i];
    std::vector<std::string> args(argv + i + 1, argv + argc);
    if (command == "exec") {
        // exec enters a container: run from a sealed copy, so nothing in it can reach this
        // binary through /proc/<pid>/exe (runtime.hpp, reexec_protected).
        if (auto r = berth::runtime::reexec_protected(argv); !r) {
            std::fprintf(stderr, "berth: %s\n", r.error().message().c_str());
            return 1;
        }
        return cmd_exec(g, args);
    }
    if (command == "run-task")
        return cmd_run_task(g, args);
    if (command == "ps" || command == "tasks")
        return cmd_ps(g, args);
    if (command == "describe")
        return cmd_describe(g, args);
    if (command == "stop")
        return cmd_stop(g, args);
    if (command == "logs")
        return cmd_logs(g, args);
    if (command == "pull")
        return cmd_pull(g, args);
    if (command == "images")
        return cmd_images(g, args);
    if (command == "rmi")
        return cmd_rmi(g, args);
    if (command == "inspect")
        return cmd_inspect(g, args);
    if (command == "load")
        return cmd_load(g, args);
    if (command == "save")
        return cmd_save(g, args);
    if (command == "prune")
        return cmd_prune(g, args);
    if (command == "image" && !args.empty() && args[0] == "prune")
        return cmd_prune(g, {args.begin() + 1, args.end()});
    std::fprintf(stderr, "berth: unknown command '%s'\n%s", command.c_str(), usage_text);
    return 2;
}
