// agent/taskdef/build_mounts.cpp — a container's mounts as Docker makes them: proc, a tmpfs
// /dev with devpts, /dev/shm (private, or the task's or host's for ipcMode task/host), mqueue,
// sysfs and the cgroup tree read-only (read-write sysfs when privileged); then ECS tmpfs
// mounts, mountPoints and volumesFrom as bind mounts of the host paths the caller resolved.
#include "agent/taskdef/build_internal.hpp"

namespace berth::taskdef::build {

namespace {

using runtime::Mount;

Result<void> add_shm(const Build& b, std::vector<Mount>& out)
{
    switch (b.task.ipc_mode) {
    case NamespaceMode::None: return {}; // Docker's ipc "none": no /dev/shm at all
    case NamespaceMode::Private: {
        const auto& l = b.container.linux_parameters;
        const std::uint32_t mib = l && l->shared_memory_size ? *l->shared_memory_size : 64;
        out.push_back(
            make_mount("/dev/shm", "tmpfs", "shm",
                       {"nosuid", "noexec", "nodev", "mode=1777", cat("size=", mib, "m")}));
        return {};
    }
    case NamespaceMode::Host:
    case NamespaceMode::Task: {
        std::string dir = b.inputs.shared_shm_dir;
        if (dir.empty() && b.task.ipc_mode == NamespaceMode::Host)
            dir = "/dev/shm";
        if (dir.empty())
            return Error::with_code(EINVAL, "ipcMode task: the task's /dev/shm directory was not "
                                            "given (SpecInputs::shared_shm_dir)");
        out.push_back(
            make_mount("/dev/shm", "bind", dir, {"rbind", "rprivate", "nosuid", "nodev"}));
        return {};
    }
    }
    return {};
}

void add_defaults(const Build& b, std::vector<Mount>& out)
{
    out.push_back(make_mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}));
    out.push_back(
        make_mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}));
    out.push_back(
        make_mount("/dev/pts", "devpts", "devpts",
                   {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}));
    out.push_back(make_mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}));
    out.push_back(make_mount("/sys", "sysfs", "sysfs",
                             {"nosuid", "noexec", "nodev", b.privileged() ? "rw" : "ro"}));
    out.push_back(make_mount("/sys/fs/cgroup", "cgroup", "cgroup",
                             {"nosuid", "noexec", "nodev", "relatime", "ro"}));
}

Result<void> add_tmpfs(const Build& b, std::vector<Mount>& out)
{
    if (!b.container.linux_parameters)
        return {};
    const auto& list = b.container.linux_parameters->tmpfs;
    for (std::size_t i = 0; i < list.size(); ++i) {
        const auto& t = list[i];
        // Docker's --tmpfs defaults when no option is given.
        std::vector<std::string> options = t.mount_options;
        if (options.empty())
            options = {"nosuid", "nodev", "noexec"};
        options.push_back(cat("size=", t.size_mib, "m"));
        out.push_back(make_mount(t.container_path, "tmpfs", "tmpfs", std::move(options)));
        if (auto ok = add_options(out.back(), cat("linuxParameters.tmpfs[", i, "].mountOptions"));
            !ok)
            return ok;
    }
    return {};
}

Result<std::string> volume_path(const Build& b, const std::string& name, const std::string& field)
{
    if (auto it = b.inputs.volume_paths.find(name); it != b.inputs.volume_paths.end())
        return it->second;
    for (const auto& v : b.task.volumes)
        if (v.name == name && v.host_source_path)
            return *v.host_source_path;
    return Error::with_code(ENOENT, field, ": volume ", berth::quoted(name),
                            " has no host directory (SpecInputs::volume_paths)");
}

Result<void> add_volumes(const Build& b, const ContainerDefinition& c,
                         std::optional<bool> force_read_only, std::vector<Mount>& out,
                         unsigned depth)
{
    if (depth > b.task.containers.size()) // checks.cpp refused cycles; this is a backstop
        return Error::invalid("volumesFrom: a cycle");
    for (std::size_t i = 0; i < c.mount_points.size(); ++i) {
        const auto& m = c.mount_points[i];
        auto host = volume_path(b, m.source_volume, cat("mountPoints[", i, "].sourceVolume"));
        if (!host)
            return std::move(host).error();
        const bool ro = force_read_only.value_or(m.read_only);
        out.push_back(
            make_mount(m.container_path, "bind", *host, {"rbind", "rprivate", ro ? "ro" : "rw"}));
    }
    for (const auto& from : c.volumes_from) {
        const ContainerDefinition* source = b.task.find(from.source_container);
        if (source == nullptr)
            return Error::invalid("volumesFrom: ", berth::quoted(from.source_container),
                                  " is not a container of the task");
        std::optional<bool> ro = force_read_only;
        if (from.read_only)
            ro = true;
        if (auto ok = add_volumes(b, *source, ro, out, depth + 1); !ok)
            return ok;
    }
    return {};
}

} // namespace

Mount make_mount(std::string destination, std::string type, std::string source,
                 std::vector<std::string> options)
{
    Mount m;
    m.destination = std::move(destination);
    m.type = std::move(type);
    m.source = std::move(source);
    m.raw_options = std::move(options);
    return m;
}

Result<void> add_options(Mount& mount, const std::string& field)
{
    auto options = runtime::parse_mount_options(mount.raw_options);
    if (!options)
        return std::move(options).error().wrap(field);
    mount.options = std::move(*options);
    if (mount.type == "bind")
        mount.options.bind = true;
    return {};
}

Result<std::vector<Mount>> mounts(const Build& b)
{
    std::vector<Mount> out;
    add_defaults(b, out);
    if (auto ok = add_shm(b, out); !ok)
        return std::move(ok).error();
    for (auto& m : out)
        if (auto ok = add_options(m, cat("mount ", m.destination)); !ok)
            return std::move(ok).error();
    if (auto ok = add_tmpfs(b, out); !ok)
        return std::move(ok).error();
    const std::size_t first_volume = out.size();
    if (auto ok = add_volumes(b, b.container, std::nullopt, out, 0); !ok)
        return std::move(ok).error();
    for (std::size_t i = first_volume; i < out.size(); ++i)
        if (auto ok = add_options(out[i], cat("mount ", out[i].destination)); !ok)
            return std::move(ok).error();
    return out;
}

} // namespace berth::taskdef::build
