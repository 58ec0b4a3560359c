// runtime/exit_record.cpp — the reaper's side of ExitRecord: siginfo and the cgroup's OOM count
// -> record -> atomic file, and reading it back. JSON: exit_record_json.cpp.
#include "runtime/exit_record.hpp"
#include <sys/wait.h>
#include <cerrno>
#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include "base/files.hpp"
#include "runtime/state_store.hpp"

namespace berth::runtime {

std::string exit_record_path(const Options& options, std::string_view id, pid_t exec_pid)
{
    if (exec_pid > 0)
        return cat(store::container_dir(options, id), "/exit-", exec_pid, ".json");
    return cat(store::container_dir(options, id), "/exit-init.json");
}

std::uint64_t oom_kills_now(const std::string& cgroup_path)
{
    if (cgroup_path.empty())
        return 0;
    auto cgroup = cgroups::Cgroup::open(cgroup_path);
    if (!cgroup)
        return 0;
    auto kills = cgroup->oom_kill_count();
    return kills ? *kills : 0;
}

namespace {

// OOM kills already attributed to a process, per cgroup: one kill labels one process. Shared by
// every reaper in this process (the supervisor's loop, handles on several threads).
std::mutex claims_mutex;
std::map<std::string, std::uint64_t> claimed_kills;

// Attributes one OOM kill counted since `before` and not yet attributed to another process.
bool claim_oom_kill(const std::string& cgroup_path, std::uint64_t before)
{
    if (cgroup_path.empty())
        return false;
    const std::uint64_t now = oom_kills_now(cgroup_path);
    const std::lock_guard lock(claims_mutex);
    auto& claimed = claimed_kills[cgroup_path];
    const std::uint64_t floor = std::max(before, claimed);
    if (now <= floor)
        return false;
    claimed = floor + 1;
    return true;
}

std::int64_t now_ns()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

} // namespace

ExitRecord make_exit_record(const siginfo_t& info, const std::string& cgroup_path,
                            std::uint64_t oom_kills_before)
{
    ExitRecord r;
    r.pid = info.si_pid;
    if (info.si_code == CLD_EXITED) {
        r.exit_code = info.si_status;
    } else {
        r.signal = info.si_status;
        r.core_dumped = info.si_code == CLD_DUMPED;
    }
    // The kernel counts OOM kills per cgroup: read before the caller may remove it. Only a
    // SIGKILL can be the OOM killer's, and only a kill counted since this process started that
    // no other process reaped here took (a `kill -9` after an OOM kill of another process is not
    // an OOM kill). A kill of a process nobody reaps here (a child of the init) stays unclaimed.
    if (r.signal == SIGKILL)
        r.oom_killed = claim_oom_kill(cgroup_path, oom_kills_before);
    r.finished_ns = now_ns();
    r.boot_id = store::current_boot_id();
    return r;
}

ExitRecord make_unknown_exit_record(pid_t pid, const std::string& cgroup_path,
                                    std::uint64_t oom_kills_before, bool finished)
{
    ExitRecord r;
    r.pid = pid;
    r.exit_unknown = true;
    r.oom_killed = finished && claim_oom_kill(cgroup_path, oom_kills_before);
    r.finished_ns = finished ? now_ns() : 0;
    r.boot_id = store::current_boot_id();
    return r;
}

ExitRecord make_unreaped_init_record(pid_t pid, const std::string& cgroup_path)
{
    auto r = make_unknown_exit_record(pid, cgroup_path, 0, false);
    // The cgroup was made for this container: every kill it counted was of one of its processes.
    r.oom_killed = oom_kills_now(cgroup_path) > 0;
    return r;
}

void forget_oom_claims(const std::string& cgroup_path)
{
    const std::lock_guard lock(claims_mutex);
    claimed_kills.erase(cgroup_path);
}

Result<void> write_exit_record(const std::string& path, const ExitRecord& record, bool durable)
{
    const auto text = exit_record_to_json(record);
    auto r = durable ? write_file_durable(path, text, 0600) : write_file_atomic(path, text, 0600);
    if (!r)
        return std::move(r).error().wrap("write exit record");
    return {};
}

Result<std::optional<ExitRecord>> read_exit_record(const std::string& path)
{
    auto text = read_file(path, max_exit_record_bytes);
    if (!text) {
        if (text.error().code == ENOENT)
            return std::optional<ExitRecord>();
        return std::move(text).error();
    }
    auto record = parse_exit_record(*text);
    if (!record)
        return std::move(record).error().wrap(berth::quoted(path));
    return std::optional<ExitRecord>(std::move(*record));
}

} // namespace berth::runtime
