// runtime/child_plan.cpp — the parent's preparation of the child's work (see child_plan.hpp).
// Runs as root on the host, before clone(): allocation, libc and errors with context are fine.
#include "runtime/child_plan.hpp"
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <linux/openat2.h>
#include <unistd.h>
#include <algorithm>
#include "base/files.hpp"

namespace berth::runtime {

// A switch without default: -Wswitch (an error here) names any step left without words.
std::string_view step_name(ChildStep step)
{
    switch (step) {
    case ChildStep::None: return "none";
    case ChildStep::JoinCgroup: return "join cgroup";
    case ChildStep::JoinNamespace: return "join namespace";
    case ChildStep::Clone: return "clone";
    case ChildStep::UserIds: return "set user ids in the new user namespace";
    case ChildStep::UnshareCgroup: return "unshare cgroup namespace";
    case ChildStep::Loopback: return "bring up the loopback interface";
    case ChildStep::MountPropagation: return "set rootfs propagation";
    case ChildStep::BindRootfs: return "bind rootfs";
    case ChildStep::OpenRootfs: return "open rootfs";
    case ChildStep::Mount: return "mount";
    case ChildStep::MountTarget: return "mount target";
    case ChildStep::MountPropagate: return "mount propagation";
    case ChildStep::Device: return "create device";
    case ChildStep::DevSymlink: return "create /dev symlink";
    case ChildStep::Hostname: return "sethostname";
    case ChildStep::Domainname: return "setdomainname";
    case ChildStep::CreateHook: return "createContainer hook";
    case ChildStep::PivotRoot: return "pivot_root";
    case ChildStep::MaskPath: return "mask path";
    case ChildStep::ReadonlyPath: return "readonly path";
    case ChildStep::ReadonlyRoot: return "readonly root";
    case ChildStep::Procfs: return "open procfs";
    case ChildStep::Sysctl: return "write sysctl";
    case ChildStep::NullDevice:
        return "verify /dev/null, the character device 1:3 masked paths are bound from";
    case ChildStep::ProcMount: return "mount lands on /proc and is not allowed there";
    case ChildStep::Console: return "console";
    case ChildStep::Stdio: return "set up stdio";
    case ChildStep::Setsid: return "setsid";
    case ChildStep::Rlimit: return "setrlimit";
    case ChildStep::NoNewPrivs: return "set no_new_privs";
    case ChildStep::Seccomp: return "load seccomp filter";
    case ChildStep::BoundingSet: return "drop bounding capabilities";
    case ChildStep::KeepCaps: return "PR_SET_KEEPCAPS";
    case ChildStep::Setgroups: return "setgroups";
    case ChildStep::Setgid: return "setresgid";
    case ChildStep::Setuid: return "setresuid";
    case ChildStep::Chdir: return "chdir to cwd";
    case ChildStep::CwdOutsideRoot: return "cwd is outside the container root";
    case ChildStep::Capset: return "capset";
    case ChildStep::AmbientCaps: return "raise ambient capabilities";
    case ChildStep::CloseFds: return "mark fds close-on-exec";
    case ChildStep::WaitStart: return "wait for start";
    case ChildStep::StartHook: return "startContainer hook";
    case ChildStep::Exec: return "exec";
    case ChildStep::Keyring: return "join a new session keyring";
    case ChildStep::MapFds: return "move the passed fds to their numbers";
    }
    return "unknown step"; // a number the child never sends
}

const char* PlanArena::keep(std::string text)
{
    return strings_.emplace_back(std::move(text)).c_str();
}

char* const* PlanArena::keep_argv(const std::vector<std::string>& strings)
{
    auto& array = arrays_.emplace_back();
    for (const auto& s : strings)
        array.push_back(const_cast<char*>(keep(s)));
    array.push_back(nullptr);
    return array.data();
}

std::vector<std::string> exec_candidates(const std::string& arg0,
                                         const std::vector<std::string>& env)
{
    if (arg0.find('/') != std::string::npos)
        return {arg0};
    std::string_view path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (const auto& e : env)
        if (e.starts_with("PATH="))
            path = std::string_view(e).substr(5);
    std::vector<std::string> out;
    for (auto dir : split(path, ':')) {
        if (dir.empty())
            dir = "."; // an empty PATH entry means the cwd, as execvp treats it
        auto candidate = cat(dir, dir.back() == '/' ? "" : "/", arg0);
        if (std::find(out.begin(), out.end(), candidate) == out.end())
            out.push_back(std::move(candidate));
    }
    return out;
}

namespace {

// The home directory of uid in <rootfs>/etc/passwd, resolved inside the rootfs so a symlinked
// passwd cannot make us read a host file; "/" when there is no such entry (runc's fallback).
std::string home_of(std::uint32_t uid, const std::string& rootfs)
{
    if (rootfs.empty())
        return "/";
    Fd root(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root.valid())
        return "/";
    open_how how{};
    how.flags = O_RDONLY | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    Fd passwd(static_cast<int>(::syscall(SYS_openat2, root.get(), "etc/passwd", &how, sizeof how)));
    if (!passwd.valid())
        return "/";
    auto content = read_fd(passwd.get(), std::size_t{1024} * 1024);
    if (!content)
        return "/";
    for (auto line : split(*content, '\n')) {
        const auto fields = split(line, ':'); // name:x:uid:gid:gecos:home:shell
        if (fields.size() >= 6 && parse_int<std::uint32_t>(fields[2]) == uid && !fields[5].empty())
            return std::string(fields[5]);
    }
    return "/";
}

std::vector<std::string> with_home(const std::vector<std::string>& env, std::uint32_t uid,
                                   const std::string& rootfs)
{
    for (const auto& e : env)
        if (e.starts_with("HOME="))
            return env;
    auto out = env;
    out.push_back("HOME=" + home_of(uid, rootfs));
    return out;
}

Result<int> last_capability()
{
    auto text = read_file("/proc/sys/kernel/cap_last_cap", 64);
    if (!text)
        return std::move(text).error();
    auto value = parse_int<int>(trim(*text));
    if (!value || *value < 0 || *value > 63)
        return Error::invalid("/proc/sys/kernel/cap_last_cap: bad value ", berth::quoted(*text));
    return *value;
}

std::uint64_t cap_mask(const std::vector<int>& caps)
{
    std::uint64_t mask = 0;
    for (const int c : caps)
        if (c >= 0 && c < 64)
            mask |= std::uint64_t{1} << c;
    return mask;
}

Result<void> plan_capabilities(const Capabilities& caps, ProcessPlan& plan)
{
    auto last = last_capability();
    if (!last)
        return std::move(last).error();
    plan.has_caps = true;
    plan.last_cap = *last;
    plan.cap_header.version = _LINUX_CAPABILITY_VERSION_3;
    plan.cap_header.pid = 0;
    const std::uint64_t sets[3] = {cap_mask(caps.effective), cap_mask(caps.permitted),
                                   cap_mask(caps.inheritable)};
    for (int i = 0; i < 2; ++i) {
        plan.cap_data[i].effective = static_cast<std::uint32_t>(sets[0] >> (32 * i));
        plan.cap_data[i].permitted = static_cast<std::uint32_t>(sets[1] >> (32 * i));
        plan.cap_data[i].inheritable = static_cast<std::uint32_t>(sets[2] >> (32 * i));
    }
    plan.bounding = cap_mask(caps.bounding);
    plan.ambient = cap_mask(caps.ambient);
    return {};
}

} // namespace

Result<void> check_user_ids(const User& user)
{
    if (user.uid > max_user_id)
        return Error::invalid("process.user.uid: must be at most ", max_user_id, ", got ",
                              user.uid);
    if (user.gid > max_user_id)
        return Error::invalid("process.user.gid: must be at most ", max_user_id, ", got ",
                              user.gid);
    for (const auto gid : user.additional_gids)
        if (gid > max_user_id)
            return Error::invalid("process.user.additionalGids: must be at most ", max_user_id,
                                  ", got ", gid);
    return {};
}

Result<void> build_process_plan(const Process& process, PlanArena& arena, ProcessPlan& plan,
                                const std::string& rootfs)
{
    if (process.args.empty())
        return Error::invalid("process.args: empty");
    if (!process.user.username.empty())
        return Error::invalid("process.user.username: not supported on Linux");
    if (!process.apparmor_profile.empty())
        return Error::invalid("process.apparmorProfile: AppArmor is not supported by berth");
    if (!process.selinux_label.empty())
        return Error::invalid("process.selinuxLabel: SELinux is not supported by berth");
    // Checked here too, not only by the parser: the agent and exec build a Process directly.
    if (process.cwd.empty() || process.cwd.front() != '/')
        return Error::invalid("process.cwd: must be an absolute path, got ",
                              berth::quoted(process.cwd));
    if (auto r = check_user_ids(process.user); !r)
        return r;
    plan.argv = arena.keep_argv(process.args);
    plan.envp = arena.keep_argv(with_home(process.env, process.user.uid, rootfs));
    auto candidates = exec_candidates(process.args[0], process.env);
    plan.exec_candidates = const_cast<const char* const*>(arena.keep_argv(candidates));
    plan.cwd = arena.keep(process.cwd);
    plan.uid = process.user.uid;
    plan.gid = process.user.gid;
    std::vector<gid_t> groups(process.user.additional_gids.begin(),
                              process.user.additional_gids.end());
    plan.groups = arena.keep_array(groups);
    plan.group_count = groups.size();
    plan.umask = process.user.umask ? static_cast<int>(*process.user.umask & 0777) : -1;
    std::vector<RlimitPlan> rlimits;
    for (const auto& r : process.rlimits)
        rlimits.push_back({r.resource, {static_cast<rlim_t>(r.soft), static_cast<rlim_t>(r.hard)}});
    plan.rlimits = arena.keep_array(rlimits);
    plan.rlimit_count = rlimits.size();
    plan.has_oom_score_adj = process.oom_score_adj.has_value();
    plan.oom_score_adj = process.oom_score_adj.value_or(0);
    plan.no_new_privs = process.no_new_privileges;
    if (process.capabilities)
        if (auto r = plan_capabilities(*process.capabilities, plan); !r)
            return std::move(r).error().wrap("process.capabilities");
    plan.terminal = process.terminal;
    if (process.console_size) {
        plan.rows = static_cast<unsigned short>(process.console_size->height);
        plan.cols = static_cast<unsigned short>(process.console_size->width);
    }
    return {};
}

std::vector<HookPlan> build_hook_plans(const std::vector<Hook>& hooks, PlanArena& arena)
{
    std::vector<HookPlan> out;
    for (const auto& hook : hooks) {
        HookPlan h;
        h.path = arena.keep(hook.path);
        h.argv =
            arena.keep_argv(hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args);
        h.envp = arena.keep_argv(hook.env);
        h.timeout_s = hook.timeout.value_or(0);
        out.push_back(h);
    }
    return out;
}

} // namespace berth::runtime
