// runtime/spec/spec_default.cpp — default_spec(): the config `runc spec` writes (runc 1.1, not
// rootless) as a Spec, for the agent to fill in. tests/unit/spec_write_test.cpp holds it to the
// runc-spec.json seed, byte for byte once written.
#include <sys/resource.h>
#include <linux/capability.h>
#include <cstdio>
#include <cstdlib>
#include "runtime/spec.hpp"

namespace berth::runtime {

namespace {

// The options below are constants: failing to resolve them is a broken build, not bad input.
Mount fixed_mount(const char* destination, const char* type, const char* source,
                  std::vector<std::string> options = {})
{
    auto mount = make_mount(destination, type, source, std::move(options));
    if (!mount) {
        std::fprintf(stderr, "default_spec: %s\n", mount.error().message().c_str());
        std::abort();
    }
    return std::move(*mount);
}

Process default_process()
{
    Process process;
    process.terminal = true;
    process.args = {"sh"};
    process.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                   "TERM=xterm"};
    process.cwd = "/";
    const std::vector<int> caps = {CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE};
    process.capabilities = Capabilities{caps, caps, {}, caps, caps};
    process.rlimits = {Rlimit{RLIMIT_NOFILE, "RLIMIT_NOFILE", 1024, 1024}};
    process.no_new_privileges = true;
    return process;
}

} // namespace

Spec default_spec()
{
    Spec spec;
    spec.oci_version = "1.0.2-dev";
    spec.process = default_process();
    spec.root = Root{"rootfs", true};
    spec.hostname = "runc";
    spec.mounts = {
        fixed_mount("/proc", "proc", "proc"),
        fixed_mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
        fixed_mount("/dev/pts", "devpts", "devpts",
                    {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
        fixed_mount("/dev/shm", "tmpfs", "shm",
                    {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
        fixed_mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
        fixed_mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
        fixed_mount("/sys/fs/cgroup", "cgroup", "cgroup",
                    {"nosuid", "noexec", "nodev", "relatime", "ro"}),
    };
    cgroups::Resources resources;
    resources.devices = {cgroups::DeviceRule{false, 'a', std::nullopt, std::nullopt, "rwm"}};
    spec.linux.resources = std::move(resources);
    spec.linux.namespaces = {{NamespaceType::Pid, ""},
                             {NamespaceType::Network, ""},
                             {NamespaceType::Ipc, ""},
                             {NamespaceType::Uts, ""},
                             {NamespaceType::Mount, ""}};
    spec.linux.masked_paths = {"/proc/acpi",        "/proc/asound",        "/proc/kcore",
                               "/proc/keys",        "/proc/latency_stats", "/proc/timer_list",
                               "/proc/timer_stats", "/proc/sched_debug",   "/sys/firmware",
                               "/proc/scsi"};
    spec.linux.readonly_paths = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                 "/proc/sysrq-trigger"};
    return spec;
}

} // namespace berth::runtime
