// agent/cli/logs_command.cpp — berth logs: reads <state_dir>/logs/<task-id>/<container>.log
// directly (berthd need not run), stdout entries to stdout and stderr entries to stderr, or the
// stored JSON lines with --json. A container with logDriver journald has <container>.log.journald
// there instead (its journal match): its entries come from the journal (journal_reader.hpp). -f
// follows until the container has stopped (its runtime state under <runtime_dir>/containers says
// so) or the user interrupts. Without runtime state (not created yet, cleaned up, or another
// --runtime-dir) berthd is asked: the task STOPPED or unknown to it ends the follow; berthd
// unreachable, the log idle for 5 s does.
#include <dirent.h>
#include <sys/stat.h>
#include <chrono>
#include <cstdio>
#include "agent/cli/cli.hpp"
#include "agent/cli/client.hpp"
#include "agent/cli/journal_reader.hpp"
#include "agent/cli/logs.hpp"
#include "agent/cli/resolve.hpp"
#include "base/files.hpp"
#include "runtime/runtime.hpp"

namespace berth::cli {
namespace {

int fail(const Error& e)
{
    std::fprintf(stderr, "berth: %s\n", e.message().c_str());
    return 1;
}

int usage()
{
    std::fprintf(stderr,
                 "usage: berth logs [-f] [--since DURATION|RFC3339] [--tail N] TASK [CONTAINER]\n");
    return 2;
}

std::vector<std::string> entries_of(const std::string& dir, bool directories)
{
    std::vector<std::string> out;
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr)
        return out;
    while (const dirent* e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (name == "." || name == "..")
            continue;
        if (directories ? e->d_type == DT_DIR : name.ends_with(".log"))
            out.push_back(directories ? name : name.substr(0, name.size() - 4));
        else if (!directories && name.ends_with(".log.journald"))
            out.push_back(name.substr(0, name.size() - 13));
    }
    ::closedir(d);
    return out;
}

// The container whose log to read: the one named, or the task's only one.
Result<std::string> container_of(const std::string& task_dir, const std::string& named)
{
    if (!named.empty())
        return named;
    const auto names = entries_of(task_dir, false);
    if (names.size() == 1)
        return names.front();
    if (names.empty())
        return Error::with_code(ENOENT, "no container logs in ", berth::quoted(task_dir));
    std::string list;
    for (const auto& n : names)
        list += (list.empty() ? "" : ", ") + n;
    return Error::invalid("the task has several containers (", list, "): name one");
}

void print(const LogEntry& e, bool json)
{
    if (json) {
        std::printf("%s\n", e.raw.c_str());
        return;
    }
    std::FILE* out = e.stream == "stderr" ? stderr : stdout;
    std::fwrite(e.log.data(), 1, e.log.size(), out);
}

// Whether the container is over: stopped, or gone after it was seen.
bool container_ended(const runtime::Options& options, const std::string& id, bool& seen)
{
    auto state = runtime::state(options, id);
    if (!state)
        return seen && state.error().code == ENOENT;
    seen = true;
    return state->status == runtime::Status::Stopped;
}

// What berthd says of the task: its lastStatus, "MISSING" when it does not know it; an Error
// when it cannot be asked (not running, another runtime dir, not root).
Result<std::string> task_status(const Globals& g, const std::string& task)
{
    const AgentClient client(g.socket_path(), std::chrono::seconds(2));
    auto reply = client.call("DescribeTasks", {{"tasks", {task}}});
    if (!reply)
        return std::move(reply).error();
    const auto tasks = reply->find("tasks");
    if (tasks == reply->end() || !tasks->is_array() || tasks->empty())
        return std::string("MISSING");
    return tasks->front().value("lastStatus", std::string());
}

// -f's end while the container has no runtime state: asks berthd every 2 s; when it cannot be
// asked, the log not growing for 5 s ends it (a hang forever helps nobody).
class StatelessEnd {
public:
    StatelessEnd(const Globals& g, std::string task, std::string root)
        : globals_(g), task_(std::move(task)), root_(std::move(root))
    {
    }
    void grew() { grew_at_ = Clock::now(); }
    bool ended()
    {
        const auto now = Clock::now();
        if (now - asked_at_ >= std::chrono::seconds(2)) {
            asked_at_ = now;
            auto status = task_status(globals_, task_);
            if (status && (*status == "STOPPED" || *status == "MISSING"))
                return true;
            if (status) { // berthd knows it and it is not over: keep following
                unreachable_.clear();
                return false;
            }
            unreachable_ = status.error().message();
        }
        if (unreachable_.empty() || now - grew_at_ < std::chrono::seconds(5))
            return false;
        std::fprintf(stderr,
                     "berth: no runtime state for the container under %s, berthd cannot say "
                     "(%s), and the log has been idle for 5 s: stopped following\n",
                     berth::quoted(root_).c_str(), unreachable_.c_str());
        return true;
    }

private:
    using Clock = std::chrono::steady_clock;
    const Globals& globals_;
    std::string task_, root_, unreachable_;
    Clock::time_point asked_at_{}, grew_at_ = Clock::now();
};

std::string_view trim_newline(std::string_view text)
{
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.remove_suffix(1);
    return text;
}

// Prints what reader (a LogReader or a JournalReader) has, then follows it when asked until the
// container has ended.
template <class Reader>
int show(const Globals& g, Reader& reader, const runtime::Options& options, const std::string& task,
         const std::string& id, bool follow)
{
    for (const auto& e : reader.existing())
        print(e, g.json);
    std::fflush(stdout);
    if (!follow)
        return 0;
    bool seen = false;
    StatelessEnd stateless(g, task, options.root);
    for (;;) {
        bool ended = container_ended(options, id, seen);
        if (!ended && !seen)
            ended = stateless.ended();
        // Once it ended, one last look a little later: the supervisor may still be draining the
        // container's pipes into the log.
        auto more = reader.poll(ended ? 300 : 500);
        if (!more)
            return fail(more.error());
        for (const auto& e : *more)
            print(e, g.json);
        if (!more->empty())
            stateless.grew();
        std::fflush(stdout);
        if (ended)
            return 0;
    }
}

} // namespace

int cmd_logs(const Globals& g, const std::vector<std::string>& args)
{
    bool follow = false;
    LogQuery query;
    std::vector<std::string> positional;
    const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    for (std::size_t i = 0; i < args.size(); ++i) {
        const bool has_value = i + 1 < args.size();
        if (args[i] == "-f" || args[i] == "--follow") {
            follow = true;
        } else if (args[i] == "--since" && has_value) {
            auto since = parse_since(args[++i], now);
            if (!since)
                return fail(since.error());
            query.since_ns = *since;
        } else if ((args[i] == "--tail" || args[i] == "-n") && has_value) {
            const auto n = parse_int<std::size_t>(args[++i]);
            if (!n)
                return fail(Error::invalid("--tail ", berth::quoted(args[i]), ": want a count"));
            query.tail = *n;
        } else if (!args[i].empty() && args[i].front() != '-') {
            positional.push_back(args[i]);
        } else {
            return usage();
        }
    }
    if (positional.empty() || positional.size() > 2)
        return usage();
    const auto logs_dir = g.state_dir + "/logs";
    auto task = resolve_task(entries_of(logs_dir, true), task_id(positional[0]));
    if (!task)
        return fail(std::move(task).error().wrap(cat("logs under ", berth::quoted(logs_dir))));
    const auto task_dir = logs_dir + "/" + *task;
    auto container = container_of(task_dir, positional.size() == 2 ? positional[1] : "");
    if (!container)
        return fail(container.error());
    runtime::Options options;
    options.root = g.runtime_dir + "/containers";
    const auto id = *task + "-" + *container;
    const auto log_path = task_dir + "/" + *container + ".log";
    if (auto match = read_file(log_path + ".journald", 4096)) {
        auto reader = JournalReader::open(std::string(trim_newline(*match)), query);
        if (!reader)
            return fail(std::move(reader).error().wrap(cat("container ", *container,
                                                           " logs to journald; try journalctl ",
                                                           trim_newline(*match))));
        return show(g, *reader, options, *task, id, follow);
    }
    // A container that has written nothing has no log file yet: one that exists is followed.
    query.may_not_exist_yet = follow && runtime::state(options, id).has_value();
    auto reader = LogReader::open(log_path, query, follow);
    if (!reader)
        return fail(reader.error());
    return show(g, *reader, options, *task, id, follow);
}

} // namespace berth::cli
