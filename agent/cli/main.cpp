// agent/cli/main.cpp — `berth [--root DIR] [--json] COMMAND ...`: parses the global options and
// calls one command.
#include <cstdio>
#include <cstring>
#include "agent/cli/cli.hpp"

int main(int argc, char** argv)
{
    using namespace berth::cli;
    Globals g;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; ++i) {
        if (std::strcmp(argv[i], "--root") == 0 && i + 1 < argc)
            g.root = argv[++i];
        else if (std::strcmp(argv[i], "--json") == 0)
            g.json = true;
        else
            break;
    }
    if (i >= argc) {
        std::fprintf(stderr, "usage: berth [--root DIR] [--json] "
                             "pull|images|rmi|inspect|load|save|image prune ...\n");
        return 2;
    }
    const std::string command = argv[i];
    std::vector<std::string> args(argv + i + 1, argv + argc);
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
    std::fprintf(stderr, "berth: unknown command '%s'\n", command.c_str());
    return 2;
}
