// runtime/rootfs_plan.cpp — the parent's half of the rootfs: namespaces to join or create, the
// mount list with resolved flags, device nodes, /dev symlinks, masked and readonly paths,
// sysctls. Runs as root on the host before clone(); the child (rootfs.cpp) only executes it.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include "base/files.hpp"
#include "runtime/child_plan.hpp"

namespace berth::runtime {
namespace {

std::string relative_target(const std::string& destination)
{
    std::size_t i = 0;
    while (i < destination.size() && destination[i] == '/')
        ++i;
    return destination.substr(i);
}

// MS_* flags a bind mount takes as mount_setattr() attributes.
std::uint64_t to_attr(unsigned long flags)
{
    std::uint64_t attr = 0;
    if (flags & MS_RDONLY)
        attr |= MOUNT_ATTR_RDONLY;
    if (flags & MS_NOSUID)
        attr |= MOUNT_ATTR_NOSUID;
    if (flags & MS_NODEV)
        attr |= MOUNT_ATTR_NODEV;
    if (flags & MS_NOEXEC)
        attr |= MOUNT_ATTR_NOEXEC;
    if (flags & MS_NODIRATIME)
        attr |= MOUNT_ATTR_NODIRATIME;
    return attr;
}

// "/a/./b//c/../d" -> "a/b/d", for comparing destinations (the child resolves the real path).
std::string lexically_clean(const std::string& destination)
{
    std::vector<std::string_view> parts;
    for (const auto part : split(destination, '/')) {
        if (part.empty() || part == ".")
            continue;
        if (part == "..") {
            if (!parts.empty())
                parts.pop_back();
            continue;
        }
        parts.push_back(part);
    }
    std::string out;
    for (const auto part : parts)
        out = out.empty() ? std::string(part) : cat(out, "/", part);
    return out;
}

bool source_on_procfs(const std::string& source)
{
    struct statfs fs {};
    return ::statfs(source.c_str(), &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC;
}

// runc's checkProcMount: on /proc itself only a proc filesystem (or a bind of one); inside
// /proc only the files lxcfs emulates. The child checks the resolved target as well (a symlink
// in the image can lead a mount into /proc under another name).
Result<bool> proc_allowed(const Mount& m, const std::string& source)
{
    static constexpr std::string_view emulated[] = {"proc/cpuinfo", "proc/diskstats",
                                                    "proc/meminfo", "proc/stat",
                                                    "proc/swaps",   "proc/uptime",
                                                    "proc/loadavg", "proc/slabinfo",
                                                    "proc/net/dev", "proc/sys/kernel/ns_last_pid"};
    const auto clean = lexically_clean(m.destination);
    if (clean == "proc") {
        if ((!m.options.bind && m.type == "proc") || (m.options.bind && source_on_procfs(source)))
            return true;
        return Error::with_code(EPERM, "only a proc filesystem may be mounted on /proc");
    }
    if (!clean.starts_with("proc/"))
        return false;
    for (const auto allowed : emulated)
        if (clean == allowed)
            return true;
    return Error::with_code(EPERM, "cannot be mounted inside /proc (allowed: /proc/cpuinfo, "
                                   "diskstats, meminfo, stat, swaps, uptime, loadavg, slabinfo, "
                                   "net/dev, sys/kernel/ns_last_pid)");
}

Result<MountPlan> plan_mount(const Mount& m, const std::string& bundle, PlanArena& arena)
{
    MountPlan p;
    const auto target = relative_target(m.destination);
    if (target.empty())
        return Error::invalid("mount over the container root is not supported");
    p.target = arena.keep(target);
    const auto bind_source =
        m.source.empty() || m.source.front() == '/' ? m.source : cat(bundle, "/", m.source);
    auto proc_ok = proc_allowed(m, bind_source);
    if (!proc_ok)
        return std::move(proc_ok).error();
    p.proc_ok = *proc_ok;
    if (m.options.tmpcopyup && (m.options.bind || m.type != "tmpfs"))
        return Error::invalid("tmpcopyup: only a tmpfs mount can copy up");
    p.copy_up = m.options.tmpcopyup;
    const auto& o = m.options;
    for (const auto prop : o.propagation) {
        if (p.propagation_count == 4)
            return Error::invalid("more than 4 propagation options");
        p.propagation[p.propagation_count++] = prop;
    }
    if (o.bind) {
        const auto& source = bind_source;
        struct stat st {};
        if (::stat(source.c_str(), &st) < 0)
            return Error::from_errno("bind source ", berth::quoted(source));
        p.source = arena.keep(source);
        p.bind = true;
        p.recursive = o.recursive;
        p.rec_attr_set = o.recursive_attr_set | (o.recursive_readonly ? MOUNT_ATTR_RDONLY : 0);
        p.rec_attr_clr = o.recursive_attr_clear;
        p.target_is_dir = S_ISDIR(st.st_mode);
        p.attr_set = to_attr(o.flags);
        p.attr_clr = to_attr(o.clear_flags);
        return p;
    }
    p.fstype = arena.keep(m.type);
    p.source = arena.keep(m.source.empty() ? m.type : m.source);
    p.flags = o.flags & ~(MS_BIND | MS_REC | MS_PRIVATE | MS_SHARED | MS_SLAVE | MS_UNBINDABLE);
    p.data = o.data.empty() ? nullptr : arena.keep(o.data);
    return p;
}

// On a v1 or hybrid host a "cgroup" mount becomes what runc makes: a tmpfs with one read-only
// bind per hierarchy, each showing the container's own cgroup directory.
std::vector<MountPlan> plan_cgroup_v1(const Mount& m, const cgroups::Host& host,
                                      const std::string& cgroup_path, PlanArena& arena)
{
    std::vector<MountPlan> out;
    MountPlan tmpfs;
    const auto base = relative_target(m.destination);
    tmpfs.target = arena.keep(base);
    tmpfs.fstype = "tmpfs";
    tmpfs.source = "tmpfs";
    tmpfs.flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    tmpfs.data = "mode=755";
    out.push_back(tmpfs);
    std::vector<std::string> seen;
    auto add = [&](const std::string& mount_point) {
        for (const auto& s : seen)
            if (s == mount_point)
                return;
        seen.push_back(mount_point);
        const auto source = cat(mount_point, cgroup_path);
        struct stat st {};
        if (::stat(source.c_str(), &st) < 0 || !S_ISDIR(st.st_mode))
            return; // a hierarchy this container has no directory in
        MountPlan bind;
        bind.source = arena.keep(source);
        bind.target = arena.keep(cat(base, "/", mount_point.substr(mount_point.rfind('/') + 1)));
        bind.bind = true;
        bind.attr_set =
            to_attr(m.options.flags) | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
        out.push_back(bind);
    };
    for (const auto& [controller, mount_point] : host.v1_mounts)
        add(mount_point);
    if (!host.unified_mount.empty())
        add(host.unified_mount);
    // Finally the tmpfs itself read-only, as runc leaves it (the binds keep their own flags).
    MountPlan seal;
    seal.target = tmpfs.target;
    seal.self = true;
    seal.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
    out.push_back(seal);
    return out;
}

Result<void> plan_mounts(const Spec& spec, const std::string& bundle, const cgroups::Host* host,
                         const std::string& cgroup_path, PlanArena& arena, ChildPlan& plan)
{
    std::vector<MountPlan> mounts, seals;
    for (std::size_t i = 0; i < spec.mounts.size(); ++i) {
        const auto& m = spec.mounts[i];
        if ((m.type == "cgroup" || m.type == "cgroup2") && !m.options.bind) {
            if (host && host->mode != cgroups::Mode::Unified) {
                // The tmpfs goes read-only after every mount, not only its hierarchies: later
                // mounts below it (podman's /sys/fs/cgroup/systemd) need their targets made.
                for (auto& p : plan_cgroup_v1(m, *host, cgroup_path, arena))
                    (p.self ? seals : mounts).push_back(p);
                continue;
            }
        }
        auto p = plan_mount(m, bundle, arena);
        if (!p)
            return std::move(p).error().wrap(cat("mounts[", i, "] ", berth::quoted(m.destination)));
        if (m.type == "cgroup")
            p->fstype = "cgroup2";
        mounts.push_back(*p);
    }
    mounts.insert(mounts.end(), seals.begin(), seals.end());
    plan.mounts = arena.keep_array(mounts);
    plan.mount_count = mounts.size();
    return {};
}

bool dev_is_bind(const Spec& spec)
{
    for (const auto& m : spec.mounts)
        if (relative_target(m.destination) == "dev" && m.options.bind)
            return true;
    return false;
}

void plan_devices(const Spec& spec, bool in_user_ns, PlanArena& arena, ChildPlan& plan)
{
    std::vector<DevicePlan> devices;
    if (!dev_is_bind(spec)) {
        static const struct {
            const char* name;
            unsigned major, minor;
        } defaults[] = {{"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
                        {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
        for (const auto& d : defaults) {
            DevicePlan p;
            p.target = arena.keep(cat("dev/", d.name));
            p.host = arena.keep(cat("/dev/", d.name));
            p.mode = S_IFCHR | 0666;
            p.dev = makedev(d.major, d.minor);
            p.bind = in_user_ns;
            devices.push_back(p);
        }
        static const SymlinkPlan links[] = {{"/proc/self/fd", "dev/fd"},
                                            {"/proc/self/fd/0", "dev/stdin"},
                                            {"/proc/self/fd/1", "dev/stdout"},
                                            {"/proc/self/fd/2", "dev/stderr"},
                                            {"pts/ptmx", "dev/ptmx"}};
        plan.symlinks = links;
        plan.symlink_count = std::size(links);
    }
    for (const auto& d : spec.linux.devices) {
        DevicePlan p;
        p.target = arena.keep(relative_target(d.path));
        p.host = arena.keep(d.path);
        const mode_t type = d.type == 'b' ? S_IFBLK : d.type == 'p' ? S_IFIFO : S_IFCHR;
        p.mode = type | static_cast<mode_t>(d.file_mode.value_or(0666) & 07777);
        p.dev = makedev(static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor));
        p.uid = d.uid.value_or(0);
        p.gid = d.gid.value_or(0);
        p.bind = in_user_ns;
        devices.push_back(p);
    }
    plan.devices = arena.keep_array(devices);
    plan.device_count = devices.size();
}

Result<void> plan_namespaces(const Spec& spec, std::vector<Fd>& fds, PlanArena& arena,
                             ChildPlan& plan, int premade_net)
{
    std::vector<JoinPlan> joins;
    // User namespace first: the others may be owned by it, and joining it grants the rights.
    for (const bool user_pass : {true, false}) {
        for (const auto& ns : spec.linux.namespaces) {
            if ((ns.type == NamespaceType::User) != user_pass)
                continue;
            const int flag = clone_flag(ns.type);
            if (!ns.path.empty()) {
                auto fd = open_at(AT_FDCWD, ns.path, O_RDONLY);
                if (!fd)
                    return std::move(fd).error().wrap(cat("namespace ", spec_name(ns.type)));
                joins.push_back({fd->get(), flag, arena.keep(ns.path)});
                fds.push_back(std::move(*fd));
                continue;
            }
            if (ns.type == NamespaceType::Network && premade_net >= 0)
                joins.push_back({premade_net, flag, "(the new network namespace)"});
            else if (ns.type == NamespaceType::Cgroup)
                plan.unshare_cgroup = true; // after the parent moved us into the cgroup
            else if (ns.type == NamespaceType::Time)
                return Error::invalid("linux.namespaces: a new time namespace is not supported");
            else
                plan.clone_flags |= static_cast<unsigned long>(flag);
        }
    }
    plan.joins = arena.keep_array(joins);
    plan.join_count = joins.size();
    plan.new_user = plan.clone_flags & CLONE_NEWUSER;
    plan.new_mount = plan.clone_flags & CLONE_NEWNS;
    plan.new_uts = plan.clone_flags & CLONE_NEWUTS;
    plan.new_net = plan.clone_flags & CLONE_NEWNET;
    // A namespace type missing from the list is the caller's (runc's rule); a joined one is the
    // container's own, set up like a new one (runc does the same: hostname in a joined uts
    // namespace, the rootfs built in a joined mount namespace).
    plan.has_mount = spec.has_namespace(NamespaceType::Mount);
    if (!spec.hostname.empty() && !spec.has_namespace(NamespaceType::Uts))
        return Error::invalid("hostname: needs a uts namespace");
    if (!spec.domainname.empty() && !spec.has_namespace(NamespaceType::Uts))
        return Error::invalid("domainname: needs a uts namespace");
    return {};
}

} // namespace

Result<void> build_child_plan(const Spec& spec, const std::string& bundle,
                              const std::string& rootfs, const cgroups::Host* host,
                              const std::string& cgroup_path, PlanArena& arena,
                              std::vector<Fd>& fds, ChildPlan& plan, int premade_net)
{
    if (auto r = plan_namespaces(spec, fds, arena, plan, premade_net); !r)
        return r;
    plan.rootfs = arena.keep(rootfs);
    plan.rootfs_propagation = spec.linux.rootfs_propagation;
    plan.readonly_root = spec.root.readonly;
    plan.process.bind_console = spec.process && spec.process->terminal && plan.has_mount;
    if (auto r = plan_mounts(spec, bundle, host, cgroup_path, arena, plan); !r)
        return r;
    plan_devices(spec, plan.new_user, arena, plan);
    plan.masked = const_cast<const char* const*>(arena.keep_argv(spec.linux.masked_paths));
    plan.readonly = const_cast<const char* const*>(arena.keep_argv(spec.linux.readonly_paths));
    std::vector<SysctlPlan> sysctls;
    for (const auto& [key, value] : spec.linux.sysctl) {
        std::string path = "/proc/sys/" + key;
        for (std::size_t i = 10; i < path.size(); ++i)
            if (path[i] == '.')
                path[i] = '/';
        const char* v = arena.keep(value);
        sysctls.push_back({arena.keep(path), v, value.size()});
    }
    plan.sysctls = arena.keep_array(sysctls);
    plan.sysctl_count = sysctls.size();
    if (!spec.hostname.empty())
        plan.hostname = arena.keep(spec.hostname);
    if (!spec.domainname.empty())
        plan.domainname = arena.keep(spec.domainname);
    return {};
}

} // namespace berth::runtime
