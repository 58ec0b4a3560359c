// cgroups/control.cpp — acting on the processes of a cgroup: list, freeze/thaw (cgroup.freeze
// or the v1 freezer), kill (cgroup.kill, else freeze + SIGKILL each + thaw) and destroy.
// Runs as root on the host; signals only processes inside this cgroup's directories.
#include <dirent.h>
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

Result<void> collect_pids(const std::string& dir, std::vector<pid_t>& out)
{
    auto pids = internal::read_procs(dir);
    if (!pids)
        return std::move(pids).error();
    out.insert(out.end(), pids->begin(), pids->end());
    for (const auto& child : subdirectories(dir))
        if (auto r = collect_pids(child, out); !r && r.error().code != ENOENT)
            return r;
    return {};
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

Result<void> remove_tree(const std::string& dir)
{
    for (const auto& child : subdirectories(dir))
        if (auto r = remove_tree(child); !r)
            return r;
    // A killed process may still be leaving the cgroup: EBUSY for a moment is normal.
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

Result<void> Cgroup::kill()
{
    const auto context = cat("kill cgroup ", quoted(path()));
    const auto& v2 = impl_->layout.v2_dir;
    if (!v2.empty() && path_exists(v2 + "/cgroup.kill")) { // 5.14+: one write, no races
        if (auto r = write_file(v2 + "/cgroup.kill", "1"); !r)
            return std::move(r).error().wrap(context);
        // Hybrid: a task frozen by the v1 freezer does not die until thawed.
        const auto& layout = impl_->layout;
        if (freezer_of(layout) == Freezer::V1) {
            auto frozen = is_frozen(layout, Freezer::V1);
            if (frozen && *frozen)
                if (auto r = set_frozen(layout, Freezer::V1, false); !r)
                    return std::move(r).error().wrap(context);
        }
        return {};
    }
    // Frozen processes cannot fork new ones behind our back while we signal them.
    const bool frozen = freezer_of(impl_->layout) != Freezer::None && freeze().has_value();
    for (int round = 0; round < (frozen ? 1 : 20); ++round) {
        auto pids = this->pids();
        if (!pids) {
            if (frozen)
                (void)thaw();
            return std::move(pids).error().wrap(context);
        }
        if (pids->empty())
            break;
        for (pid_t pid : *pids)
            ::kill(pid, SIGKILL);
    }
    if (frozen)
        if (auto r = thaw(); !r)
            return std::move(r).error().wrap(context);
    return {};
}

Result<void> Cgroup::destroy()
{
    const auto context = cat("destroy cgroup ", quoted(path()));
    if (auto r = kill(); !r && r.error().code != ENOENT)
        return std::move(r).error().wrap(context);
    const auto deadline = Clock::now() + empty_timeout;
    for (;;) {
        auto pids = this->pids();
        if (!pids || pids->empty())
            break;
        if (Clock::now() > deadline)
            return Error::with_code(EBUSY, context, ": ", pids->size(),
                                    " processes still present after SIGKILL and 10 s");
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::vector<std::string> leaves = impl_->layout.unique_v1_dirs();
    if (!impl_->layout.v2_dir.empty())
        leaves.push_back(impl_->layout.v2_dir);
    for (const auto& dir : leaves)
        if (auto r = remove_tree(dir); !r)
            return std::move(r).error().wrap(context);
    // Parents create() made go too when nothing else lives there (siblings keep them: EBUSY).
    for (auto dir = impl_->made.rbegin(); dir != impl_->made.rend(); ++dir)
        ::rmdir(dir->c_str());
    impl_->made.clear();
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
