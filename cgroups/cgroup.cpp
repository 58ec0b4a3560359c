// cgroups/cgroup.cpp — the life of one cgroup: create (in every hierarchy berth uses, parents
// first), open (recover), apply, add, destroy. Runs as root on the host and only ever writes
// below the path it was given.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include "base/files.hpp"
#include "cgroups/cgroup_impl.hpp"

namespace berth::cgroups {

using internal::Write;

namespace {

// v2: a child only gets the files of the controllers its parent enabled for its children.
// Failures are left for apply() to report on the file it needs ("controller not enabled").
void enable_controllers(const std::string& parent)
{
    auto available = read_file(parent + "/cgroup.controllers", 4096);
    auto enabled = read_file(parent + "/cgroup.subtree_control", 4096);
    if (!available || !enabled)
        return;
    const auto on = split(trim(*enabled), ' ');
    for (auto controller : split(trim(*available), ' '))
        if (!controller.empty() && std::find(on.begin(), on.end(), controller) == on.end())
            (void)write_file(parent + "/cgroup.subtree_control", cat('+', controller));
}

// v1 cpuset: a new directory starts with empty cpus/mems and cannot take tasks until set. One
// we did not just make may have its own (kept).
Result<void> copy_cpuset(const std::string& parent, const std::string& dir, bool made)
{
    for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
        if (!made) {
            auto mine = read_file(dir + "/" + file, 4096);
            if (mine && !trim(*mine).empty())
                continue;
        }
        auto theirs = read_file(parent + "/" + file, 4096);
        if (!theirs)
            return std::move(theirs).error();
        if (auto r = write_file(dir + "/" + file, trim(*theirs)); !r)
            return r;
    }
    return {};
}

struct Hierarchy {
    std::string mount;
    bool v2 = false;
    bool cpuset = false;
};

std::vector<Hierarchy> hierarchies(const Host& host)
{
    std::vector<Hierarchy> list;
    if (host.mode != Mode::Unified)
        for (const auto& [controller, mount] : host.v1_mounts) {
            // clang 14 cannot capture a structured binding (P1091 came in clang 16): bind it.
            auto it = std::find_if(list.begin(), list.end(),
                                   [&m = mount](const Hierarchy& h) { return h.mount == m; });
            if (it == list.end())
                it = list.insert(list.end(), Hierarchy{mount, false, false});
            it->cpuset = it->cpuset || controller == "cpuset";
        }
    if (!host.unified_mount.empty())
        list.push_back({host.unified_mount, true, false});
    return list;
}

// mkdir -p of path in one hierarchy; what it made is appended to `made`. Returns whether the
// leaf itself was made (false: it existed, the cgroup is adopted there).
Result<bool> make_path(const Hierarchy& h, const std::string& path, std::vector<std::string>& made)
{
    bool leaf_made = false;
    std::string parent = h.mount;
    const std::string relative = path.substr(1); // split() returns views into it
    for (auto part : split(relative, '/')) {
        const std::string dir = cat(parent, '/', part);
        if (h.v2)
            enable_controllers(parent);
        leaf_made = ::mkdir(dir.c_str(), 0755) == 0;
        if (leaf_made)
            made.push_back(dir);
        else if (errno != EEXIST)
            return Error::from_errno("mkdir ", quoted(dir));
        if (h.cpuset)
            if (auto r = copy_cpuset(parent, dir, leaf_made); !r)
                return std::move(r).error().wrap(cat("copy cpuset.cpus/mems to ", quoted(dir)));
        parent = dir;
    }
    return leaf_made;
}

void remove_made(const std::vector<std::string>& made)
{
    for (auto dir = made.rbegin(); dir != made.rend(); ++dir)
        ::rmdir(dir->c_str());
}

} // namespace

Cgroup::Cgroup(std::unique_ptr<Impl> impl) : impl_(std::move(impl))
{
}
Cgroup::~Cgroup() = default; // containers outlive this object: removal is destroy()'s job
Cgroup::Cgroup(Cgroup&&) noexcept = default;
Cgroup& Cgroup::operator=(Cgroup&&) noexcept = default;

const std::string& Cgroup::path() const
{
    return impl_->layout.path;
}

Mode Cgroup::mode() const
{
    return impl_->layout.host.mode;
}

const Ownership& Cgroup::ownership() const
{
    return impl_->ownership;
}

Result<Cgroup> Cgroup::create(const std::string& path)
{
    auto host = detect();
    if (!host)
        return std::move(host).error().wrap(cat("create cgroup ", quoted(path)));
    auto normalized = normalize_path(path);
    if (!normalized)
        return std::move(normalized).error().wrap("create cgroup");
    auto impl = std::make_unique<Impl>();
    impl->layout = internal::layout_for(*host, *normalized);
    auto& ownership = impl->ownership;
    ownership.created = true;
    for (const auto& hierarchy : hierarchies(*host)) {
        auto leaf_made = make_path(hierarchy, *normalized, ownership.made);
        if (!leaf_made) {
            remove_made(ownership.made); // a failed create leaves nothing behind
            return std::move(leaf_made).error().wrap(cat("create cgroup ", quoted(*normalized)));
        }
        ownership.created = ownership.created && *leaf_made;
    }
    return Cgroup(std::move(impl));
}

Result<Cgroup> Cgroup::create(const std::string& path, const Resources& resources)
{
    auto cgroup = create(path);
    if (!cgroup)
        return cgroup;
    if (auto r = cgroup->apply(resources); !r) {
        (void)cgroup->destroy();
        return std::move(r).error();
    }
    return cgroup;
}

Result<Cgroup> Cgroup::open(const std::string& path, Ownership ownership)
{
    auto host = detect();
    if (!host)
        return std::move(host).error().wrap(cat("open cgroup ", quoted(path)));
    auto normalized = normalize_path(path);
    if (!normalized)
        return std::move(normalized).error().wrap("open cgroup");
    auto impl = std::make_unique<Impl>();
    impl->layout = internal::layout_for(*host, *normalized);
    impl->ownership = std::move(ownership);
    auto& layout = impl->layout;
    // Keep only the directories that exist: another runtime may not have made all of them.
    for (auto it = layout.v1_dirs.begin(); it != layout.v1_dirs.end();)
        it = path_exists(it->second) ? std::next(it) : layout.v1_dirs.erase(it);
    if (!layout.v2_dir.empty() && !path_exists(layout.v2_dir))
        layout.v2_dir.clear();
    if (layout.v2_dir.empty() && layout.v1_dirs.empty())
        return Error::with_code(ENOENT, "open cgroup ", quoted(*normalized), ": no such cgroup");
    return Cgroup(std::move(impl));
}

namespace {

// One write() to a cgroup file through the cache's fd, opened when the path changes: v1 device
// rules are a dozen writes to devices.allow, each parsed on its own by the kernel. ENOENT (no
// such file) is returned as is, for the caller's fallback.
Result<void> write_cached(Fd& cached, std::string& cached_path, const std::string& path,
                          std::string_view value)
{
    if (!cached.valid() || cached_path != path) {
        cached.reset();
        auto fd = open_at(AT_FDCWD, path, O_WRONLY);
        if (!fd)
            return std::move(fd).error();
        cached = std::move(*fd);
        cached_path = path;
    }
    const ssize_t n = ::write(cached.get(), value.data(), value.size());
    if (n < 0)
        return Error::from_errno("write ", quoted(std::string(value)), " to ", quoted(path));
    if (static_cast<std::size_t>(n) != value.size())
        return Error::with_code(EIO, "short write to ", quoted(path));
    return {};
}

} // namespace

Result<void> Cgroup::Impl::write(const Write& w, WriteCache& cache) const
{
    std::string dir = layout.v2_dir;
    if (!w.v2) {
        auto it = layout.v1_dirs.find(w.controller);
        dir = it == layout.v1_dirs.end() ? "" : it->second;
    }
    if (dir.empty())
        return Error::with_code(ENOTSUP, w.file, ": cgroup ", quoted(layout.path), " has no ",
                                w.v2 ? "v2" : w.controller, " directory");
    // Opened straight away (no stat first): a missing file is ENOENT from the open.
    auto r = write_cached(cache.fd, cache.path, dir + "/" + w.file, w.value);
    const std::string* file = &w.file;
    if (!r && r.error().code == ENOENT && !w.fallback_file.empty()) {
        r = write_cached(cache.fd, cache.path, dir + "/" + w.fallback_file, w.fallback_value);
        file = &w.fallback_file;
    }
    if (r)
        return {};
    if (r.error().code != ENOENT)
        return std::move(r).error().wrap(*file);
    const bool swap =
        w.file.find("swap") != std::string::npos || w.file.find("memsw") != std::string::npos;
    return Error::with_code(ENOTSUP, w.file, ": no such file in ", quoted(dir), " (",
                            swap ? "swap accounting is not enabled on this host"
                                 : cat("controller ", w.controller,
                                       " not enabled here or setting not supported by this kernel"),
                            ")");
}

Result<void> Cgroup::apply(const Resources& resources)
{
    const auto context = cat("apply resources to cgroup ", quoted(impl_->layout.path));
    const auto& host = impl_->layout.host;
    auto writes = internal::plan(resources, host);
    if (!writes)
        return std::move(writes).error().wrap(context);
    const bool v1_devices = host.mode != Mode::Unified && host.v1_mounts.count("devices") != 0;
    if (!resources.devices.empty() && !v1_devices)
        if (auto r = impl_->apply_device_program(resources.devices); !r)
            return std::move(r).error().wrap(context);
    const auto& list = *writes;
    Impl::WriteCache cache;
    for (std::size_t i = 0; i < list.size(); ++i) {
        auto r = impl_->write(list[i], cache);
        // v1 refuses a memory limit above the current memory+swap limit: raise memsw first.
        if (!r && r.error().code == EINVAL && list[i].file == "memory.limit_in_bytes" &&
            i + 1 < list.size() && list[i + 1].file == "memory.memsw.limit_in_bytes") {
            r = impl_->write(list[i + 1], cache);
            if (r)
                r = impl_->write(list[i++], cache);
        }
        if (!r)
            return std::move(r).error().wrap(context);
    }
    return {};
}

Result<void> Cgroup::Impl::apply_device_program(const std::vector<DeviceRule>& rules) const
{
    if (layout.v2_dir.empty())
        return Error::with_code(ENOTSUP, "linux.resources.devices: no devices controller on this",
                                " host (no v1 devices hierarchy, no cgroup v2)");
    auto program = internal::device_program(rules);
    if (!program)
        return std::move(program).error();
    auto dir = open_at(AT_FDCWD, layout.v2_dir, O_RDONLY | O_DIRECTORY);
    if (!dir)
        return std::move(dir).error().wrap("linux.resources.devices");
    if (auto r = internal::install_device_program(dir->get(), *program); !r)
        return std::move(r).error().wrap("linux.resources.devices");
    return {};
}

Result<void> Cgroup::add(pid_t pid)
{
    std::vector<std::string> dirs = impl_->layout.unique_v1_dirs();
    if (!impl_->layout.v2_dir.empty())
        dirs.push_back(impl_->layout.v2_dir);
    for (const auto& dir : dirs)
        if (auto r = write_file(dir + "/cgroup.procs", std::to_string(pid)); !r)
            return std::move(r).error().wrap(
                cat("add pid ", pid, " to cgroup ", quoted(impl_->layout.path)));
    return {};
}

Result<Cgroup::JoinFiles> Cgroup::open_join_files() const
{
    JoinFiles files;
    const auto& layout = impl_->layout;
    if (!layout.v2_dir.empty()) {
        auto dir = open_at(AT_FDCWD, layout.v2_dir, O_RDONLY | O_DIRECTORY);
        if (!dir)
            return std::move(dir).error().wrap(cat("cgroup ", quoted(layout.path)));
        files.v2_dir = std::move(*dir);
    }
    for (const auto& dir : layout.unique_v1_dirs()) {
        auto tasks = open_at(AT_FDCWD, dir + "/tasks", O_WRONLY);
        if (!tasks)
            return std::move(tasks).error().wrap(cat("cgroup ", quoted(layout.path)));
        files.v1_tasks.push_back(std::move(*tasks));
    }
    return files;
}

Result<void> Cgroup::add_v2(pid_t pid)
{
    if (impl_->layout.v2_dir.empty())
        return {};
    if (auto r = write_file(impl_->layout.v2_dir + "/cgroup.procs", std::to_string(pid)); !r)
        return std::move(r).error().wrap(
            cat("add pid ", pid, " to cgroup ", quoted(impl_->layout.path)));
    return {};
}

} // namespace berth::cgroups
