// runtime/cli/features.cpp — `features`: what this runtime supports, in the shape of runc's
// features JSON (runtime-spec features.md), so callers can probe before they ask.
#include <sys/capability.h>
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <nlohmann/json.hpp>
#include "runtime/cli/log_output.hpp"
#include "runtime/cli/verbs.hpp"

namespace berth::cli {
namespace {

std::vector<std::string> capability_names()
{
    std::vector<std::string> names;
    for (int cap = 0; cap < static_cast<int>(::cap_max_bits()); ++cap) {
        char* name = ::cap_to_name(cap);
        if (!name)
            continue;
        std::string upper = name;
        ::cap_free(name);
        std::transform(upper.begin(), upper.end(), upper.begin(),
                       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        if (upper.rfind("CAP_", 0) == 0)
            names.push_back(upper);
    }
    return names;
}

nlohmann::ordered_json features()
{
    using Json = nlohmann::ordered_json;
    Json seccomp = {
        {"enabled", true},
        {"actions",
         {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
          "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE",
          "SCMP_ACT_TRAP"}},
        {"operators",
         {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
          "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"}},
        {"archs",
         {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_X32", "SCMP_ARCH_X86",
          "SCMP_ARCH_X86_64"}},
    };
    Json linux_section = {
        {"namespaces", {"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"}},
        {"capabilities", capability_names()},
        {"cgroup", {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}}},
        {"seccomp", seccomp},
        {"apparmor", {{"enabled", false}}},
        {"selinux", {{"enabled", false}}},
    };
    return Json{
        {"ociVersionMin", "1.0.0"},
        {"ociVersionMax", "1.0.2-dev"},
        {"hooks",
         {"prestart", "createRuntime", "createContainer", "startContainer", "poststart",
          "poststop"}},
        {"mountOptions", {"async",         "atime",       "bind",       "defaults", "dev",
                          "diratime",      "dirsync",     "exec",       "iversion", "lazytime",
                          "loud",          "mand",        "noatime",    "nodev",    "nodiratime",
                          "noexec",        "noiversion",  "nolazytime", "nomand",   "norelatime",
                          "nostrictatime", "nosuid",      "private",    "rbind",    "relatime",
                          "remount",       "ro",          "rprivate",   "rro",      "rshared",
                          "rslave",        "runbindable", "rw",         "shared",   "silent",
                          "slave",         "strictatime", "suid",       "sync",     "tmpcopyup",
                          "unbindable"}},
        {"linux", linux_section},
    };
}

} // namespace

int features_main(const Options&, Args args)
{
    static const VerbSpec verb{"features", "", "show the enabled features", {}, 0, 0};
    auto parsed = parse_verb(verb, args);
    if (auto* code = std::get_if<int>(&parsed))
        return *code;
    std::printf("%s\n", features().dump(4).c_str());
    return 0;
}

} // namespace berth::cli
