// recover(): after an agent restart or crash, make the kernel match the state file and the
// state file match the live tasks. Three sweeps: records of dead tasks (and of tasks whose
// netns is gone), veths on berth's bridge that no record owns, netns files no record owns.
// Then the nftables table is rebuilt from the state in one transaction.
#include <dirent.h>
#include <algorithm>
#include <set>
#include "base/files.hpp"
#include "net/network_state.hpp"

namespace berth::net {

namespace {

Result<std::vector<std::string>> list_dir(const std::string& path)
{
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr)
        return Error::from_errno("list ", quoted(path));
    std::vector<std::string> names;
    while (const dirent* entry = ::readdir(dir)) {
        const std::string name = entry->d_name;
        if (name != "." && name != "..")
            names.push_back(name);
    }
    ::closedir(dir);
    return names;
}

bool netns_alive(const std::string& path)
{
    return static_cast<bool>(Netns::open(path));
}

Result<void> sweep_links(Network::State& s, RecoverReport& report)
{
    std::set<std::string> owned;
    for (const auto& [id, task] : s.file.tasks)
        if (task.address != 0)
            owned.insert(veth_name(task.address));
    auto links = s.netlink.links();
    if (!links)
        return std::move(links).error();
    for (const auto& link : *links) {
        if (link.master != s.bridge_index || !link.name.starts_with("bv") ||
            owned.count(link.name) != 0)
            continue;
        auto r = s.netlink.delete_link(link.name);
        if (!r)
            return r;
        report.removed_links.push_back(link.name);
    }
    return {};
}

Result<void> sweep_netns(Network::State& s, RecoverReport& report)
{
    auto names = list_dir(s.netns_dir);
    if (!names)
        return std::move(names).error();
    for (const auto& name : *names) {
        auto found = s.file.tasks.find(name);
        if (found != s.file.tasks.end() && found->second.mode != Mode::Host)
            continue;
        auto r = remove_netns_file(s.netns_path(name));
        if (!r)
            return r;
        report.removed_netns.push_back(name);
    }
    auto files = list_dir(s.files_dir);
    if (!files)
        return std::move(files).error();
    for (const auto& name : *files) {
        if (s.file.tasks.count(name) != 0)
            continue;
        for (const char* file : {"resolv.conf", "hosts", "hostname"})
            ::unlink(cat(s.task_files(name), "/", file).c_str());
        ::rmdir(s.task_files(name).c_str());
    }
    return {};
}

} // namespace

Result<RecoverReport> Network::recover(const std::vector<std::string>& live_task_ids)
{
    RecoverReport report;
    State& s = *s_;
    const std::set<std::string> live(live_task_ids.begin(), live_task_ids.end());
    for (auto it = s.file.tasks.begin(); it != s.file.tasks.end();) {
        const TaskRecord& task = it->second;
        const bool broken = task.mode != Mode::Host && !netns_alive(s.netns_path(task.id));
        if (live.count(task.id) != 0 && !broken) {
            ++it;
            continue;
        }
        auto r = s.teardown(task);
        if (!r)
            return std::move(r).error().wrap(cat("recover: remove task ", task.id));
        report.removed_tasks.push_back(task.id);
        it = s.file.tasks.erase(it);
    }
    auto saved = save_state(s.state_path, s.file);
    if (!saved)
        return std::move(saved).error().wrap("recover");
    auto links = sweep_links(s, report);
    if (!links)
        return std::move(links).error().wrap("recover");
    auto netns = sweep_netns(s, report);
    if (!netns)
        return std::move(netns).error().wrap("recover");
    auto table = s.nft.rebuild(s.table(), s.file);
    s.nft.release(); // loaded again by the next task's transaction (RSS of an idle node)
    if (!table)
        return std::move(table).error().wrap("recover");
    return report;
}

Result<void> Network::destroy_all()
{
    State& s = *s_;
    for (auto it = s.file.tasks.begin(); it != s.file.tasks.end();) {
        auto r = s.teardown(it->second);
        if (!r)
            return std::move(r).error().wrap(cat("destroy networks: task ", it->first));
        it = s.file.tasks.erase(it);
    }
    auto saved = save_state(s.state_path, s.file);
    if (!saved)
        return saved;
    auto table = s.nft.delete_table();
    if (!table)
        return std::move(table).error().wrap("destroy networks");
    return s.netlink.delete_link(s.config.bridge);
}

} // namespace berth::net
