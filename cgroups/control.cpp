// cgroups/control.cpp — acting on the processes of a cgroup: list, freeze/thaw (cgroup.freeze
// or the v1 freezer), kill (cgroup.kill, else freeze + SIGKILL each + thaw) and destroy.
// Runs as root on the host; signals only processes inside this cgroup's directories.
#include <dirent.h>
#include <algorithm>
#include <signal.h>
#include <unistd.h>
#include <chrono>
#include <thread>
#include "base/files.hpp"
#include "cgroups/cgroup_impl.hpp"

namespace berth::cgroups {

using internal::Layout;

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto freeze_timeout = std::chrono::seconds(10);
constexpr auto empty_timeout = std::chrono::seconds(10);

std::vector<std::string> subdirectories(const std::string& dir)
{
    std::vector<std::string> out;
    DIR* stream = ::opendir(dir.c_str());
    if (!stream)
        return out;
    while (const dirent* entry = ::readdir(stream)) {
        const std::string name = entry->d_name;
        if (entry->d_type == DT_DIR && name != "." && name != "..")
            out.push_back(cat(dir, "/", name));
    }
    ::closedir(stream);
    return out;
}

bool spared(const std::string& dir, const std::vector<std::string>& spare_dirs)
{
    return std::find(spare_dirs.begin(), spare_dirs.end(), dir) != spare_dirs.end();
}

// Every pid in dir and below, except in the directories spare_dirs (and below them).
Result<void> collect_pids(const std::string& dir, std::vector<pid_t>& out,
                          const std::vector<std::string>& spare_dirs = {})
{
    auto pids = internal::read_procs(dir);
    if (!pids)
        return std::move(pids).error();
    out.insert(out.end(), pids->begin(), pids->end());
    for (const auto& child : subdirectories(dir))
        if (!spared(child, spare_dirs))
            if (auto r = collect_pids(child, out, spare_dirs); !r && r.error().code != ENOENT)
                return r;
    return {};
}

// The directories of `spare` (cgroup paths below layout.path) under `dir`, one of the cgroup's
// own directories: "/x/b" below "/x" is dir + "/b".
std::vector<std::string> spare_dirs_in(const Layout& layout, const std::string& dir,
                                       const std::vector<std::string>& spare)
{
    std::vector<std::string> out;
    for (const auto& path : spare)
        if (path.size() > layout.path.size() && path_within(path, layout.path))
            out.push_back(dir + path.substr(layout.path.size()));
    return out;
}

enum class Freezer { V2, V1, None };

Freezer freezer_of(const Layout& layout)
{
    if (layout.host.mode != Mode::Unified && layout.v1_dirs.count("freezer") != 0)
        return Freezer::V1;
    if (!layout.v2_dir.empty() && path_exists(layout.v2_dir + "/cgroup.freeze"))
        return Freezer::V2;
    return Freezer::None;
}

Result<bool> is_frozen(const Layout& layout, Freezer freezer)
{
    if (freezer == Freezer::V1) {
        auto state = read_file(layout.v1_dirs.at("freezer") + "/freezer.state", 64);
        if (!state)
            return std::move(state).error();
        return trim(*state) == "FROZEN";
    }
    auto events = read_file(layout.v2_dir + "/cgroup.events", 4096);
    if (!events)
        return std::move(events).error();
    auto values = parse_flat_keyed(*events);
    if (!values)
        return std::move(values).error().wrap("cgroup.events");
    return values->count("frozen") != 0 && values->at("frozen") == 1;
}

Result<void> set_frozen(const Layout& layout, Freezer freezer, bool frozen)
{
    if (freezer == Freezer::V1)
        return write_file(layout.v1_dirs.at("freezer") + "/freezer.state",
                          frozen ? "FROZEN" : "THAWED");
    return write_file(layout.v2_dir + "/cgroup.freeze", frozen ? "1" : "0");
}

// rmdir, waiting (bounded) while a killed process is still leaving the cgroup.
Result<void> remove_dir(const std::string& dir)
{
    const auto deadline = Clock::now() + std::chrono::seconds(2);
    while (::rmdir(dir.c_str()) < 0) {
        if (errno == ENOENT)
            return {};
        if (errno != EBUSY || Clock::now() > deadline)
            return Error::from_errno("rmdir ", quoted(dir));
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return {};
}

// Removes dir and its child cgroups; a spared subtree stays, and so does every directory above
// it (they are not empty).
Result<void> remove_tree(const std::string& dir, const std::vector<std::string>& spare_dirs)
{
    // Most often the cgroup is empty by now: one rmdir and no listing. The kernel refuses (EBUSY)
    // a cgroup with child cgroups or processes, spared or not; that case is walked below.
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT)
        return {};
    bool keep = false;
    for (const auto& child : subdirectories(dir)) {
        if (spared(child, spare_dirs)) {
            keep = true;
            continue;
        }
        if (auto r = remove_tree(child, spare_dirs); !r)
            return r;
        keep = keep || path_exists(child);
    }
    if (keep)
        return {};
    return remove_dir(dir);
}

} // namespace

Result<std::vector<pid_t>> Cgroup::pids() const
{
    std::vector<pid_t> out;
    if (auto r = collect_pids(impl_->layout.procs_dir(), out); !r)
        return std::move(r).error().wrap(cat("list processes of cgroup ", quoted(path())));
    return out;
}

Result<void> Cgroup::freeze()
{
    const auto context = cat("freeze cgroup ", quoted(path()));
    const Freezer freezer = freezer_of(impl_->layout);
    if (freezer == Freezer::None)
        return Error::with_code(ENOTSUP, context, ": no freezer on this host");
    const auto deadline = Clock::now() + freeze_timeout;
    for (int round = 0;; ++round) {
        // v1 can stay FREEZING when a task is busy in the kernel; writing again retries it.
        if (round % 50 == 0)
            if (auto r = set_frozen(impl_->layout, freezer, true); !r)
                return std::move(r).error().wrap(context);
        auto frozen = is_frozen(impl_->layout, freezer);
        if (!frozen)
            return std::move(frozen).error().wrap(context);
        if (*frozen)
            return {};
        if (Clock::now() > deadline) {
            (void)set_frozen(impl_->layout, freezer, false);
            return Error::with_code(ETIMEDOUT, context, ": not frozen after 10 s");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(round < 20 ? 1 : 10));
    }
}

Result<void> Cgroup::thaw()
{
    const Freezer freezer = freezer_of(impl_->layout);
    if (freezer == Freezer::None)
        return Error::with_code(ENOTSUP, "thaw cgroup ", quoted(path()),
                                ": no freezer on this host");
    if (auto r = set_frozen(impl_->layout, freezer, false); !r)
        return std::move(r).error().wrap(cat("thaw cgroup ", quoted(path())));
    return {};
}

Result<bool> Cgroup::frozen() const
{
    const Freezer freezer = freezer_of(impl_->layout);
    if (freezer == Freezer::None)
        return false;
    auto frozen = is_frozen(impl_->layout, freezer);
    if (!frozen)
        return std::move(frozen).error().wrap(cat("read freezer state of ", quoted(path())));
    return frozen;
}

Result<void> Cgroup::kill(const std::vector<std::string>& spare)
{
    const auto context = cat("kill cgroup ", quoted(path()));
    const auto& layout = impl_->layout;
    const auto& v2 = layout.v2_dir;
    // cgroup.kill and the freezer act on the whole subtree: with a spared subtree, a loop.
    if (spare.empty() && !v2.empty() && path_exists(v2 + "/cgroup.kill")) { // 5.14+: no races
        if (auto r = write_file(v2 + "/cgroup.kill", "1"); !r)
            return std::move(r).error().wrap(context);
        // Hybrid: a task frozen by the v1 freezer does not die until thawed.
        if (freezer_of(layout) == Freezer::V1) {
            auto frozen = is_frozen(layout, Freezer::V1);
            if (frozen && *frozen)
                if (auto r = set_frozen(layout, Freezer::V1, false); !r)
                    return std::move(r).error().wrap(context);
        }
        return {};
    }
    // Frozen processes cannot fork new ones behind our back while we signal them.
    const bool frozen =
        spare.empty() && freezer_of(layout) != Freezer::None && freeze().has_value();
    const auto dir = layout.procs_dir();
    const auto spare_dirs = spare_dirs_in(layout, dir, spare);
    for (int round = 0; round < (frozen ? 1 : 20); ++round) {
        std::vector<pid_t> pids;
        if (auto r = collect_pids(dir, pids, spare_dirs); !r) {
            if (frozen)
                (void)thaw();
            return std::move(r).error().wrap(context);
        }
        if (pids.empty())
            break;
        for (pid_t pid : pids)
            ::kill(pid, SIGKILL);
    }
    if (frozen)
        if (auto r = thaw(); !r)
            return std::move(r).error().wrap(context);
    return {};
}

Result<void> Cgroup::Impl::wait_empty(const std::vector<std::string>& spare) const
{
    const auto dir = layout.procs_dir();
    const auto spare_dirs = spare_dirs_in(layout, dir, spare);
    const auto deadline = Clock::now() + empty_timeout;
    for (;;) {
        std::vector<pid_t> pids;
        if (!collect_pids(dir, pids, spare_dirs) || pids.empty())
            return {};
        if (Clock::now() > deadline)
            return Error::with_code(EBUSY, pids.size(),
                                    " processes still present after SIGKILL and 10 s");
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

Result<void> Cgroup::destroy(const std::vector<std::string>& spare)
{
    const auto context = cat("destroy cgroup ", quoted(path()));
    auto& made = impl_->ownership.made;
    if (impl_->ownership.created) {
        if (auto r = kill(spare); !r && r.error().code != ENOENT)
            return std::move(r).error().wrap(context);
        if (auto r = impl_->wait_empty(spare); !r)
            return std::move(r).error().wrap(context);
        std::vector<std::string> leaves = impl_->layout.unique_v1_dirs();
        if (!impl_->layout.v2_dir.empty())
            leaves.push_back(impl_->layout.v2_dir);
        for (const auto& dir : leaves)
            if (auto r = remove_tree(dir, spare_dirs_in(impl_->layout, dir, spare)); !r)
                return std::move(r).error().wrap(context);
    }
    // What create() made, deepest first, when empty: an adopted leaf's own directories in the
    // hierarchies where it did not exist, and the parents. A directory that still holds a
    // cgroup (a sibling container, a spared one) stays: never wait for it.
    for (auto dir = made.rbegin(); dir != made.rend(); ++dir)
        if (subdirectories(*dir).empty())
            (void)remove_dir(*dir);
    made.clear();
    return {};
}

Result<Stats> Cgroup::stats() const
{
    auto stats = internal::read_stats(impl_->layout);
    if (!stats)
        return std::move(stats).error().wrap(cat("read statistics of cgroup ", quoted(path())));
    return stats;
}

Result<std::uint64_t> Cgroup::oom_kill_count() const
{
    auto count = internal::read_oom_kills(impl_->layout);
    if (!count)
        return std::move(count).error().wrap(cat("read OOM kills of cgroup ", quoted(path())));
    return count;
}

} // namespace berth::cgroups
