// runtime/cli/spec.cpp — `spec [-b dir] [--rootless]`: writes runc 1.1's default config.json
// (same fields, order and tab indentation), so bundles made for runc work unchanged.
#include <fcntl.h>
#include <unistd.h>
#include <nlohmann/json.hpp>
#include "base/files.hpp"
#include "runtime/cli/log_output.hpp"
#include "runtime/cli/verbs.hpp"

namespace berth::cli {
namespace {

using Json = nlohmann::ordered_json;

const Flag spec_flags[] = {
    {"bundle", 'b', true, "path to the root of the bundle directory"},
    {"rootless", 0, false, "generate a configuration for a rootless container"},
};

Json mount(const char* destination, const char* type, const char* source,
           const std::vector<std::string>& options = {})
{
    Json m = {{"destination", destination}, {"type", type}, {"source", source}};
    if (!options.empty())
        m["options"] = options;
    return m;
}

Json default_spec()
{
    const std::vector<std::string> caps{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
    Json process = {
        {"terminal", true},
        {"user", {{"uid", 0}, {"gid", 0}}},
        {"args", {"sh"}},
        {"env",
         {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
        {"cwd", "/"},
        {"capabilities",
         {{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"ambient", caps}}},
        {"rlimits", Json::array({{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}})},
        {"noNewPrivileges", true},
    };
    Json mounts = Json::array({
        mount("/proc", "proc", "proc"),
        mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
        mount("/dev/pts", "devpts", "devpts",
              {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
        mount("/dev/shm", "tmpfs", "shm",
              {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
        mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
        mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
        mount("/sys/fs/cgroup", "cgroup", "cgroup",
              {"nosuid", "noexec", "nodev", "relatime", "ro"}),
    });
    Json linux_section = {
        {"resources", {{"devices", Json::array({{{"allow", false}, {"access", "rwm"}}})}}},
        {"namespaces", Json::array({{{"type", "pid"}},
                                    {{"type", "network"}},
                                    {{"type", "ipc"}},
                                    {{"type", "uts"}},
                                    {{"type", "mount"}}})},
        {"maskedPaths",
         {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
          "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
          "/proc/scsi"}},
        {"readonlyPaths",
         {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}},
    };
    return Json{{"ociVersion", "1.0.2-dev"},
                {"process", process},
                {"root", {{"path", "rootfs"}, {"readonly", true}}},
                {"hostname", "runc"},
                {"mounts", mounts},
                {"linux", linux_section}};
}

// runc's specconv.ToRootless: a user namespace mapping the caller to root, no network
// namespace, /sys bind-mounted, no gid= on devpts, no resources.
void make_rootless(Json& spec)
{
    auto& linux_section = spec["linux"];
    Json rootless = {
        {"uidMappings", Json::array({{{"containerID", 0}, {"hostID", ::geteuid()}, {"size", 1}}})},
        {"gidMappings", Json::array({{{"containerID", 0}, {"hostID", ::getegid()}, {"size", 1}}})},
    };
    Json namespaces = Json::array();
    for (const auto& ns : linux_section["namespaces"])
        if (ns["type"] != "network")
            namespaces.push_back(ns);
    namespaces.push_back({{"type", "user"}});
    rootless["namespaces"] = namespaces;
    rootless["maskedPaths"] = linux_section["maskedPaths"];
    rootless["readonlyPaths"] = linux_section["readonlyPaths"];
    linux_section = rootless;
    for (auto& m : spec["mounts"]) {
        if (m["destination"] == "/sys") {
            m = mount("/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro"});
        } else if (m["destination"] == "/dev/pts") {
            auto& options = m["options"];
            Json kept = Json::array();
            for (const auto& option : options)
                if (option.get<std::string>().rfind("gid=", 0) != 0)
                    kept.push_back(option);
            options = kept;
        }
    }
}

} // namespace

int spec_main(const Options&, Args args)
{
    static const VerbSpec verb{"spec", "", "create a new specification file", spec_flags, 0, 0};
    auto parsed_or_code = parse_verb(verb, args);
    if (auto* code = std::get_if<int>(&parsed_or_code))
        return *code;
    const auto& parsed = std::get<Parsed>(parsed_or_code);
    const auto bundle = parsed.value("bundle");
    if (!bundle.empty() && ::chdir(bundle.c_str()) < 0)
        return fail(Error::from_errno("chdir ", bundle));
    if (path_exists("config.json"))
        return fail("File config.json exists. Remove it first");
    auto spec = default_spec();
    if (parsed.flag("rootless"))
        make_rootless(spec);
    auto fd = open_at(AT_FDCWD, "config.json", O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (!fd)
        return fail(fd.error());
    auto written = write_all(fd->get(), spec.dump(1, '\t'));
    if (!written)
        return fail(std::move(written).error().wrap("write config.json"));
    return 0;
}

} // namespace berth::cli
