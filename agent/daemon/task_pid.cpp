// agent/daemon/task_pid.cpp — pidMode "task"'s pause container and its held pid namespace
// (task_pid.hpp). The spec is built in memory: nothing of an image, only berth-pause bound in.
// Runs as root on the host, on a worker.
#include "agent/daemon/task_pid.hpp"
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>
#include <filesystem>
#include "agent/daemon/build_paths.hpp"
#include "agent/daemon/helper_binary.hpp"
#include "base/fd.hpp"
#include "base/files.hpp"

namespace berth::daemon {
namespace {

bool holds_pid_namespace(const std::string& path)
{
    const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    return fd.valid() && ::ioctl(fd.get(), NS_GET_NSTYPE) == CLONE_NEWPID;
}

// The pause runs and its namespace is held: a re-sent Provision keeps both.
bool pause_running(const runtime::Options& rt, const TaskPause& pause)
{
    auto state = runtime::state(rt, pause.runtime_id());
    return state && state->status == runtime::Status::Running &&
           holds_pid_namespace(pause.ns_path());
}

Result<void> unmount_ns_file(const std::string& path)
{
    for (int i = 0; i < 16; ++i) // every mount stacked on it (a repeat by a hand or a bug)
        if (::umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) < 0) {
            if (errno != EINVAL && errno != ENOENT) // EINVAL: not (or no longer) a mount point
                return Error::from_errno("unmount ", quoted(path));
            if (::unlink(path.c_str()) < 0 && errno != ENOENT)
                return Error::from_errno("remove ", quoted(path));
            return {};
        }
    return Error::with_code(EBUSY, "unmount ", quoted(path), ": still mounted after 16 unmounts");
}

Result<runtime::Spec> pause_spec(const TaskPause& pause, const std::string& binary,
                                 const std::string& cgroups_path)
{
    using runtime::NamespaceType;
    runtime::Spec spec;
    spec.oci_version = "1.0.2";
    spec.root = runtime::Root{pause.bundle() + "/rootfs", true};
    runtime::Process process;
    process.args = {"/pause"};
    process.capabilities = runtime::Capabilities{}; // none: it only waits and reaps
    process.no_new_privileges = true;
    spec.process = std::move(process);
    auto bound = runtime::make_mount("/pause", "bind", binary, {"bind", "ro", "nosuid"});
    if (!bound)
        return std::move(bound).error();
    // A tmpfs /dev: the runtime makes its default device nodes there, not in the host directory.
    auto dev =
        runtime::make_mount("/dev", "tmpfs", "tmpfs", {"nosuid", "noexec", "mode=755", "size=64k"});
    if (!dev)
        return std::move(dev).error();
    spec.mounts = {std::move(*bound), std::move(*dev)};
    spec.linux.namespaces = {{NamespaceType::Pid, ""},
                             {NamespaceType::Mount, ""},
                             {NamespaceType::Ipc, ""},
                             {NamespaceType::Uts, ""}};
    spec.linux.cgroups_path = cgroups_path;
    return spec;
}

// The empty rootfs, its two mount points made here (the runtime would make them in the host
// directory anyway), and config.json.
Result<void> write_bundle(const TaskPause& pause, const runtime::Spec& spec)
{
    const auto rootfs = pause.bundle() + "/rootfs";
    if (auto r = make_directories(rootfs + "/dev", 0755); !r)
        return r;
    const Fd target(::open((rootfs + "/pause").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0555));
    if (!target.valid())
        return Error::from_errno("create ", quoted(rootfs + "/pause"));
    auto json = runtime::spec_to_json(spec);
    if (!json)
        return std::move(json).error();
    return write_file_atomic(pause.bundle() + "/config.json", *json, 0600);
}

// Binds the running pause's pid namespace on ns_path(). The namespace is opened through
// /proc/<pid> and only then is the pidfd asked whether that pid is still the pause (a zombie has
// no namespace links): a pid reused in between is never bound.
Result<void> hold_namespace(runtime::Container& container, const TaskPause& pause)
{
    const auto pid = container.init().pid();
    const Fd ns(::open(cat("/proc/", pid, "/ns/pid").c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns.valid())
        return Error::from_errno("open the pause's pid namespace");
    if (::syscall(SYS_pidfd_send_signal, container.init().pidfd(), 0, nullptr, 0) < 0)
        return Error::from_errno("the pause exited at once");
    const auto path = pause.ns_path();
    const Fd file(::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0444));
    if (!file.valid())
        return Error::from_errno("create ", quoted(path));
    const auto source = cat("/proc/self/fd/", ns.get());
    if (::mount(source.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) < 0)
        return Error::from_errno("bind-mount the pid namespace on ", quoted(path));
    return {};
}

Result<void> start_pause(const runtime::Options& rt, const TaskPause& pause,
                         const std::string& binary, const std::string& cgroups_path)
{
    if (binary.empty())
        return Error::with_code(ENOENT, "berth-pause: not found next to berthd nor at ",
                                BERTH_PAUSE_INSTALL_PATH);
    auto spec = pause_spec(pause, binary, cgroups_path);
    if (!spec)
        return std::move(spec).error().wrap("spec");
    if (auto r = write_bundle(pause, *spec); !r)
        return std::move(r).error().wrap("bundle");
    const Fd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!null.valid())
        return Error::from_errno("open /dev/null");
    runtime::CreateOptions co;
    co.id = pause.runtime_id();
    co.bundle = pause.bundle();
    co.stdin_fd = co.stdout_fd = co.stderr_fd = null.get(); // it writes nothing: no log
    auto container = runtime::Container::create(rt, co);
    std::error_code ec;
    std::filesystem::remove(pause.bundle() + "/config.json", ec); // the runtime froze a copy
    if (!container)
        return std::move(container).error().wrap(cat("runtime create ", co.id));
    if (auto r = container->start(); !r)
        return std::move(r).error().wrap(cat("runtime start ", co.id));
    return hold_namespace(*container, pause);
}

} // namespace

TaskPause task_pause(const std::string& tasks_dir, const std::string& task_id)
{
    return TaskPause{task_id, cat(tasks_dir, "/", task_id)};
}

std::string find_pause_binary()
{
    return find_helper_binary({"berth-pause", "../libexec/berth/berth-pause"},
                              {BERTH_PAUSE_INSTALL_PATH, BERTH_PAUSE_BUILD_PATH});
}

Result<void> make_task_pause(const runtime::Options& rt, const TaskPause& pause,
                             const std::string& binary, const std::string& cgroups_path)
{
    if (auto r = make_directories(pause.dir, 0700); !r)
        return std::move(r).error().wrap("pidMode task");
    if (pause_running(rt, pause))
        return {}; // Provision again after a restart: the task's containers may be in it
    if (auto r = remove_task_pause(rt, pause); !r) // what a crash mid-Provision left
        return r;
    auto made = start_pause(rt, pause, binary, cgroups_path);
    if (made)
        return {};
    (void)remove_task_pause(rt, pause); // nothing half-made stays
    return std::move(made).error().wrap("pidMode task");
}

Result<void> remove_task_pause(const runtime::Options& rt, const TaskPause& pause)
{
    if (auto r = runtime::remove(rt, pause.runtime_id(), true); !r && r.error().code != ENOENT)
        return std::move(r).error().wrap(
            cat("pidMode task: remove container ", quoted(pause.runtime_id())));
    if (auto r = unmount_ns_file(pause.ns_path()); !r)
        return std::move(r).error().wrap("pidMode task");
    std::error_code ec;
    std::filesystem::remove_all(pause.bundle(), ec);
    if (ec)
        return Error::with_code(ec.value(), "pidMode task: remove ", quoted(pause.bundle()));
    // The task's directory too, unless ipcMode task's files are still in it (remove_task_ipc
    // removes it then).
    if (::rmdir(pause.dir.c_str()) < 0 && errno != ENOENT && errno != ENOTEMPTY)
        return Error::from_errno("pidMode task: remove ", quoted(pause.dir));
    return {};
}

} // namespace berth::daemon
