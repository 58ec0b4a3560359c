// runtime/container_cgroup.cpp — which processes and directories of a cgroup are a container's
// own. Runs as root on the host: every kill here is limited to the container's processes, so a
// cgroupsPath naming an existing cgroup (a host service's, another container's parent) never
// takes its other processes down.
#include "runtime/container_cgroup.hpp"
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <algorithm>
#include "base/files.hpp"

namespace berth::runtime {
namespace {

std::vector<std::string> container_ids(const Options& options)
{
    std::vector<std::string> ids;
    DIR* dir = ::opendir(options.root.c_str());
    if (!dir)
        return ids;
    while (const dirent* entry = ::readdir(dir))
        if (store::check_id(entry->d_name))
            ids.emplace_back(entry->d_name);
    ::closedir(dir);
    return ids;
}

bool same_path(const store::Record& a, const store::Record& b)
{
    return a.cgroup_path == b.cgroup_path;
}

std::vector<std::string> nested_paths(const store::Record& record,
                                      const std::vector<store::Record>& sharers)
{
    std::vector<std::string> paths;
    for (const auto& other : sharers)
        if (!same_path(record, other))
            paths.push_back(other.cgroup_path);
    return paths;
}

// /proc/<pid>/stat field 4; 0 when the process is gone.
pid_t parent_of(pid_t pid)
{
    auto stat = read_file(cat("/proc/", pid, "/stat"), std::size_t{64} * 1024);
    if (!stat)
        return 0;
    const auto close = stat->rfind(')');
    if (close == std::string::npos)
        return 0;
    const auto fields = split(trim(std::string_view(*stat).substr(close + 1)), ' ');
    if (fields.size() < 2)
        return 0;
    return parse_int<pid_t>(fields[1]).value_or(0);
}

bool descends_from(pid_t pid, pid_t ancestor)
{
    for (int depth = 0; pid > 1 && depth < 4096; ++depth) {
        if (pid == ancestor)
            return true;
        pid = parent_of(pid);
    }
    return false;
}

// The inode of proc_dir's pid namespace; 0 when the process is gone.
ino_t pid_namespace(const std::string& proc_dir)
{
    struct stat st {};
    if (::stat((proc_dir + "/ns/pid").c_str(), &st) < 0)
        return 0;
    return st.st_ino;
}

void remove_pids(std::vector<pid_t>& pids, const std::vector<pid_t>& others)
{
    pids.erase(std::remove_if(pids.begin(), pids.end(),
                              [&](pid_t p) {
                                  return std::find(others.begin(), others.end(), p) != others.end();
                              }),
               pids.end());
}

bool wait_exit(const Fd& pidfd, int timeout_ms)
{
    pollfd p{pidfd.get(), POLLIN, 0};
    int r;
    do
        r = ::poll(&p, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    return r > 0;
}

} // namespace

Result<std::string> cgroup_path_for(const Options& options, std::string_view cgroups_path,
                                    std::string_view id)
{
    auto root = cgroups::normalize_path(options.cgroup_root, true);
    if (!root)
        return std::move(root).error().wrap("cgroup root");
    std::string path;
    if (options.systemd_cgroup) {
        const std::string fallback = cat(":berth:", id); // runc's default is ":runc:<id>"
        auto mapped = cgroups::systemd_cgroup_path(cgroups_path.empty() ? fallback : cgroups_path);
        if (!mapped)
            return std::move(mapped).error().wrap("linux.cgroupsPath");
        path = std::move(*mapped);
    } else if (cgroups_path.empty() || cgroups_path.front() != '/') {
        path = cat(*root == "/" ? "" : *root, '/', cgroups_path.empty() ? id : cgroups_path);
    } else {
        path = std::string(cgroups_path);
    }
    auto normalized = cgroups::normalize_path(path);
    if (!normalized)
        return std::move(normalized).error().wrap("linux.cgroupsPath");
    if (!options.cgroups_outside_root && !cgroups::path_within(*normalized, *root))
        return Error::with_code(EPERM, "linux.cgroupsPath ", berth::quoted(*normalized),
                                " is outside berth's cgroup root ", berth::quoted(*root),
                                " (cgroups outside the root must be allowed explicitly)");
    return normalized;
}

Result<Spec> stored_config(const Options& options, const std::string& id)
{
    if (auto r = store::check_id(id); !r)
        return std::move(r).error();
    auto spec = store::load_config(options, id);
    if (!spec)
        return std::move(spec).error().wrap(cat("container ", id));
    return spec;
}

std::vector<store::Record> cgroup_sharers(const Options& options, const store::Record& record)
{
    std::vector<store::Record> sharers;
    for (const auto& id : container_ids(options)) {
        if (id == record.id)
            continue;
        auto other = store::load(options, id);
        if (other && cgroups::path_within(other->cgroup_path, record.cgroup_path))
            sharers.push_back(std::move(*other));
    }
    return sharers;
}

Result<cgroups::Cgroup> open_container_cgroup(const store::Record& record,
                                              const std::vector<store::Record>& sharers)
{
    auto ownership = record.cgroup;
    for (const auto& other : sharers)
        ownership.created = ownership.created && !same_path(record, other);
    auto cgroup = cgroups::Cgroup::open(record.cgroup_path, std::move(ownership));
    if (!cgroup)
        return std::move(cgroup).error().wrap(cat("cgroup ", berth::quoted(record.cgroup_path)));
    return cgroup;
}

Result<std::vector<pid_t>> container_processes(const store::Record& record,
                                               const cgroups::Cgroup& cgroup,
                                               const std::vector<store::Record>& sharers)
{
    auto pids = cgroup.pids();
    if (!pids)
        return pids;
    if (cgroup.ownership().created) {
        for (const auto& path : nested_paths(record, sharers))
            if (auto nested = cgroups::Cgroup::open(path))
                if (auto theirs = nested->pids())
                    remove_pids(*pids, *theirs);
        return pids;
    }
    // Adopted: the init's pid namespace, when it has its own, holds exactly the container.
    const auto init = store::open_init(record);
    const ino_t init_ns = init ? pid_namespace(cat("/proc/", record.pid)) : 0;
    const bool own_namespace = init_ns != 0 && init_ns != pid_namespace("/proc/self");
    std::vector<pid_t> own;
    for (const pid_t pid : *pids) {
        const bool ours = own_namespace ? pid_namespace(cat("/proc/", pid)) == init_ns
                                        : init && descends_from(pid, record.pid);
        if (ours)
            own.push_back(pid);
    }
    return own;
}

void stop_container_processes(const store::Record& record, cgroups::Cgroup* cgroup,
                              const std::vector<store::Record>& sharers)
{
    auto pidfd = store::open_init(record);
    // Listed before the init dies: descendants of a dead init cannot be told apart any more.
    std::vector<pid_t> own;
    if (cgroup && !cgroup->ownership().created)
        if (auto pids = container_processes(record, *cgroup, sharers))
            own = std::move(*pids);
    if (pidfd)
        (void)::syscall(SYS_pidfd_send_signal, pidfd->get(), SIGKILL, nullptr, 0);
    if (cgroup) {
        if (cgroup->ownership().created)
            (void)cgroup->kill(nested_paths(record, sharers));
        for (const pid_t pid : own)
            ::kill(pid, SIGKILL);
        if (auto frozen = cgroup->frozen(); frozen && *frozen)
            (void)cgroup->thaw(); // a frozen v1 task only dies once thawed
    }
    if (pidfd)
        (void)wait_exit(*pidfd, 10000);
}

namespace {

// The cgroup path a directory create made stands for: the ancestor of (or) the container's path
// that the directory name ends with ("/sys/fs/cgroup/memory/t/a" for "/t/a/b" -> "/t/a").
std::string cgroup_path_of(const std::string& dir, const std::string& container_path)
{
    for (std::string path = container_path; path.size() > 1;
         path.resize(std::max<std::size_t>(path.rfind('/'), 1))) {
        if (dir.size() > path.size() &&
            dir.compare(dir.size() - path.size(), path.size(), path) == 0)
            return path;
    }
    return "";
}

// Appends `dirs` ahead of other's own directories (parents first), under other's lock; a
// container busy in another verb is skipped.
void inherit(const Options& options, const std::string& id, const std::vector<std::string>& dirs)
{
    auto lock = open_at(AT_FDCWD, store::container_dir(options, id), O_RDONLY | O_DIRECTORY);
    if (!lock || ::flock(lock->get(), LOCK_EX | LOCK_NB) < 0)
        return;
    auto record = store::load(options, id);
    if (!record)
        return;
    auto& made = record->cgroup.made;
    std::vector<std::string> merged;
    for (const auto& d : dirs)
        if (std::find(made.begin(), made.end(), d) == made.end())
            merged.push_back(d);
    if (merged.empty())
        return;
    merged.insert(merged.end(), made.begin(), made.end());
    made = std::move(merged);
    (void)store::save(options, *record);
}

} // namespace

Result<void> release_container_cgroup(const Options& options, const store::Record& record,
                                      cgroups::Cgroup& cgroup,
                                      const std::vector<store::Record>& sharers)
{
    if (auto r = cgroup.destroy(nested_paths(record, sharers)); !r)
        return r;
    std::vector<std::string> left;
    for (const auto& dir : record.cgroup.made)
        if (path_exists(dir))
            left.push_back(dir);
    if (left.empty())
        return {};
    // A directory still there holds another container (nested, or a sibling below a common
    // parent): that one inherits it, so the last container to go removes it.
    for (const auto& id : container_ids(options)) {
        if (id == record.id)
            continue;
        auto other = store::load(options, id);
        if (!other)
            continue;
        std::vector<std::string> dirs;
        for (const auto& dir : left) {
            const auto path = cgroup_path_of(dir, record.cgroup_path);
            if (!path.empty() && cgroups::path_within(other->cgroup_path, path))
                dirs.push_back(dir);
        }
        if (!dirs.empty())
            inherit(options, id, dirs);
    }
    return {};
}

} // namespace berth::runtime
