// runtime/cli/ps.cpp — `ps <id> [ps options]`: `-f json` prints the pid array; otherwise runs
// the host's `ps` (default -ef) and keeps the header and the container's lines, as runc does.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include "base/fd.hpp"
#include "base/files.hpp"
#include "runtime/cli/log_output.hpp"
#include "runtime/cli/verbs.hpp"

namespace berth::cli {
namespace {

const Flag ps_flags[] = {
    {"format", 'f', true, "select one of: table or json (default: \"table\")"},
};

// Runs ps with arguments, returning its combined stdout and stderr.
Result<std::string> run_ps(const std::vector<std::string>& ps_args, int& status)
{
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) < 0)
        return Error::from_errno("pipe");
    Fd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
    std::vector<char*> argv{const_cast<char*>("ps")};
    for (const auto& arg : ps_args)
        argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_adddup2(&actions, write_end.get(), 1);
    ::posix_spawn_file_actions_adddup2(&actions, write_end.get(), 2);
    pid_t pid = -1;
    const int rc = ::posix_spawnp(&pid, "ps", &actions, nullptr, argv.data(), environ);
    ::posix_spawn_file_actions_destroy(&actions);
    if (rc != 0)
        return Error::with_code(rc, "exec: \"ps\"");
    write_end.reset();
    auto output = read_fd(read_end.get());
    int wait_status = 0;
    while (::waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
    }
    status = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 1;
    return output;
}

// Which whitespace-separated column of the header is "PID".
std::optional<std::size_t> pid_column(std::string_view header)
{
    std::size_t column = 0;
    for (auto field : split(trim(header), ' ')) {
        if (field.empty())
            continue;
        if (field == "PID")
            return column;
        ++column;
    }
    return std::nullopt;
}

std::vector<std::string_view> fields_of(std::string_view line)
{
    std::vector<std::string_view> fields;
    for (auto field : split(line, ' '))
        if (!field.empty())
            fields.push_back(field);
    return fields;
}

int print_table(const std::vector<pid_t>& pids, const std::vector<std::string>& ps_args)
{
    int status = 0;
    auto output = run_ps(ps_args.empty() ? std::vector<std::string>{"-ef"} : ps_args, status);
    if (!output)
        return fail(output.error());
    if (status != 0)
        return fail(cat("exit status ", status, ": ", *output));
    const auto lines = split(*output, '\n');
    const auto column = pid_column(lines.front());
    if (!column)
        return fail("couldn't find PID field in ps output");
    std::printf("%.*s\n", static_cast<int>(lines.front().size()), lines.front().data());
    for (std::size_t i = 1; i < lines.size(); ++i) {
        const auto fields = fields_of(lines[i]);
        if (fields.size() <= *column)
            continue;
        const auto pid = parse_int<pid_t>(fields[*column]);
        if (pid && std::find(pids.begin(), pids.end(), *pid) != pids.end())
            std::printf("%.*s\n", static_cast<int>(lines[i].size()), lines[i].data());
    }
    return 0;
}

} // namespace

int ps_main(const Options& options, Args args)
{
    static const VerbSpec verb{"ps",
                               "<container-id> [ps options]",
                               "ps displays the processes running inside a container",
                               ps_flags,
                               1,
                               -1};
    auto parsed_or_code = parse_verb(verb, args);
    if (auto* code = std::get_if<int>(&parsed_or_code))
        return *code;
    const auto& parsed = std::get<Parsed>(parsed_or_code);
    const auto format = parsed.value("format", "table");
    if (format != "table" && format != "json")
        return fail("invalid format option");
    const auto& positionals = parsed.positionals();
    auto pids = runtime::processes(options, positionals[0]);
    if (!pids)
        return fail(pids.error());
    if (format == "json") {
        std::printf("%s\n", nlohmann::json(*pids).dump().c_str());
        return 0;
    }
    return print_table(*pids, {positionals.begin() + 1, positionals.end()});
}

} // namespace berth::cli
