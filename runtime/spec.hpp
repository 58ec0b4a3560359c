// runtime/spec.hpp — an OCI runtime-spec config.json as plain C++ data, already validated.
//
// parse_spec() is the only way bytes from a bundle become a Spec: every field is type-checked,
// names (capabilities, rlimits, namespaces, seccomp actions, mount options) are resolved to
// kernel values, and any problem is an Error naming the JSON path ("process.rlimits[2].type:
// unknown rlimit 'RLIMIT_FOO'"). Nothing downstream re-parses strings. Fuzzed.
//
// The public header of the berth-spec library (sources in runtime/spec/): the model, its parser
// and its writer, with no process, mount or cgroup-writing code, so the agent and the fuzz
// harnesses link it alone. It uses cgroups/cgroups.hpp for the resource types only.
#pragma once
#include <sys/types.h>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include "base/result.hpp"
#include "cgroups/cgroups.hpp"

namespace berth::runtime {

struct IdMapping {
    std::uint32_t container_id = 0, host_id = 0, size = 0;
    bool operator==(const IdMapping&) const = default;
};

// Mount options resolved: flags to set, flags to clear (for remount), propagation changes, and
// what is left as filesystem data ("size=64k,mode=755").
struct MountOptions {
    unsigned long flags = 0;                // MS_RDONLY, MS_NOSUID, MS_NODEV, ..., MS_REMOUNT
                                            // (never MS_BIND/MS_REC: see bind and recursive)
    unsigned long clear_flags = 0;          // "rw", "suid", "dev", "exec", ... (explicit opposites)
    std::vector<unsigned long> propagation; // MS_PRIVATE, MS_SHARED|MS_REC, ... in order
    bool bind = false;                      // "bind" or "rbind"
    bool recursive = false;                 // "rbind" (or "rro"-style recursive flags)
    bool recursive_readonly = false;        // "rro": mount_setattr(AT_RECURSIVE, MOUNT_ATTR_RDONLY)
    std::string data;                       // comma-joined options the kernel parses
    // All of runc's recursive options ("rro", "rnosuid", "rnoatime", ...) as MOUNT_ATTR_* bits
    // for mount_setattr(AT_RECURSIVE); recursive_readonly mirrors MOUNT_ATTR_RDONLY in set.
    std::uint64_t recursive_attr_set = 0, recursive_attr_clear = 0;
    bool tmpcopyup = false; // runc/crun extension: copy the image's directory into the tmpfs
    bool operator==(const MountOptions&) const = default;
};
struct Mount {
    std::string destination; // absolute, inside the container
    std::string type;        // "" for bind mounts
    std::string source;
    std::vector<std::string> raw_options;
    MountOptions options;
    bool operator==(const Mount&) const = default;
};

struct Rlimit {
    int resource = 0; // RLIMIT_*
    std::string name; // as written, for messages
    std::uint64_t soft = 0, hard = 0;
    bool operator==(const Rlimit&) const = default;
};

// Capability sets as libcap values (cap_value_t is int).
struct Capabilities {
    std::vector<int> bounding, effective, inheritable, permitted, ambient;
    bool operator==(const Capabilities&) const = default;
};

// The largest uid or gid berth accepts (runc's limit too): setresuid(2) and setresgid(2) read
// (uid_t)-1 = 4294967295 as "leave unchanged", so a larger id could leave a process root.
inline constexpr std::uint32_t max_user_id = 2147483647;

struct User {
    std::uint32_t uid = 0, gid = 0; // at most max_user_id
    std::optional<std::uint32_t> umask;
    std::vector<std::uint32_t> additional_gids;
    std::string username; // Windows-only in the spec; refused if set
    bool operator==(const User&) const = default;
};

struct ConsoleSize {
    unsigned height = 0, width = 0;
    bool operator==(const ConsoleSize&) const = default;
};

struct Process {
    bool terminal = false;
    std::optional<ConsoleSize> console_size;
    User user;
    std::vector<std::string> args; // non-empty
    std::vector<std::string> env;  // "KEY=value"
    std::string cwd = "/";         // absolute
    std::optional<Capabilities> capabilities;
    std::vector<Rlimit> rlimits;
    bool no_new_privileges = false;
    std::optional<int> oom_score_adj;
    std::string apparmor_profile; // refused if set and AppArmor is absent
    std::string selinux_label;
    bool operator==(const Process&) const = default;
};

struct Root {
    std::string path = "rootfs"; // relative to the bundle, or absolute
    bool readonly = false;
    bool operator==(const Root&) const = default;
};

struct Hook {
    std::string path; // absolute
    std::vector<std::string> args, env;
    std::optional<int> timeout; // seconds, > 0
    bool operator==(const Hook&) const = default;
};
struct Hooks {
    std::vector<Hook> prestart, create_runtime, create_container, start_container, poststart,
        poststop;
    bool operator==(const Hooks&) const = default;
};

enum class NamespaceType { Pid, Network, Mount, Ipc, Uts, User, Cgroup, Time };
struct Namespace {
    NamespaceType type = NamespaceType::Mount;
    std::string path; // "" = create a new one; else join the namespace at path
    bool operator==(const Namespace&) const = default;
};
int clone_flag(NamespaceType type);             // CLONE_NEWPID, ...
std::string_view spec_name(NamespaceType type); // "pid", "network", ...

enum class SeccompAction { KillThread, KillProcess, Trap, Errno, Trace, Allow, Log, Notify };
enum class SeccompOp {
    NotEqual,
    LessThan,
    LessEqual,
    Equal,
    GreaterEqual,
    GreaterThan,
    MaskedEqual
};
struct SeccompArg {
    unsigned index = 0; // 0..5
    std::uint64_t value = 0, value_two = 0;
    SeccompOp op = SeccompOp::Equal;
    bool operator==(const SeccompArg&) const = default;
};
struct SeccompRule {
    std::vector<std::string> names; // resolved against the kernel when the filter is built
    SeccompAction action = SeccompAction::Allow;
    std::optional<unsigned> errno_ret;
    std::vector<SeccompArg> args;
    bool operator==(const SeccompRule&) const = default;
};
struct Seccomp {
    SeccompAction default_action = SeccompAction::Allow;
    std::optional<unsigned> default_errno_ret;
    std::vector<std::uint32_t> architectures; // SCMP_ARCH_* tokens resolved
    std::vector<std::string> flags;           // SECCOMP_FILTER_FLAG_* names, validated
    std::string listener_path;
    std::string listener_metadata;
    std::vector<SeccompRule> syscalls;
    bool operator==(const Seccomp&) const = default;
};

struct Device { // linux.devices: extra device nodes to create
    std::string path;
    char type = 'c'; // 'c', 'b', 'u', 'p'
    std::int64_t major = 0, minor = 0;
    std::optional<std::uint32_t> file_mode;
    std::optional<std::uint32_t> uid, gid;
    bool operator==(const Device&) const = default;
};

struct Linux {
    std::vector<Namespace> namespaces;
    std::vector<IdMapping> uid_mappings, gid_mappings;
    std::vector<Device> devices;
    std::optional<cgroups::Resources> resources;
    std::string cgroups_path;
    std::map<std::string, std::string> sysctl;
    std::optional<Seccomp> seccomp;
    unsigned long rootfs_propagation = 0; // MS_PRIVATE by default when 0
    std::vector<std::string> masked_paths, readonly_paths;
    std::string mount_label;
    bool operator==(const Linux&) const = default;
};

struct Spec {
    std::string oci_version;
    Root root;
    std::optional<Process> process; // required for create; optional in the spec
    std::string hostname, domainname;
    std::vector<Mount> mounts;
    Hooks hooks;
    std::map<std::string, std::string> annotations;
    Linux linux;

    bool operator==(const Spec&) const = default;
    bool has_namespace(NamespaceType type) const;
    const Namespace* find_namespace(NamespaceType type) const;
};

// Parses and validates config.json bytes. Input larger than max_spec_bytes is refused.
inline constexpr std::size_t max_spec_bytes = std::size_t{4} * 1024 * 1024;
Result<Spec> parse_spec(std::string_view text);
// The "process" object alone, as `exec --process process.json` takes it.
Result<Process> parse_process(std::string_view text);
// Reads <bundle>/config.json and parses it; errors name the file.
Result<Spec> load_spec(const std::string& bundle);

// Building a spec in memory (the agent): start from default_spec(), fill fields in, write it
// with spec_to_json(). For every Spec that parse_spec() returns, parse_spec(spec_to_json(s)) == s.
// Mount::raw_options is what is written (Mount::options is derived from it: make_mount keeps the
// two together). spec_to_json refuses only what it cannot spell (a capability, rlimit or
// architecture number with no name, text that is not UTF-8), naming the field; everything else
// is written as it is, and parse_spec judges it.
Spec default_spec(); // what `runc spec` writes (not rootless), as a Spec
Result<std::string> spec_to_json(const Spec& spec);          // runc's key order, tab-indented
Result<std::string> process_to_json(const Process& process); // `exec --process` document
Result<Mount> make_mount(std::string destination, std::string type, std::string source,
                         std::vector<std::string> options); // options resolved, as parsed

// Pieces of the parser, exposed for unit tests and fuzzers.
Result<MountOptions> parse_mount_options(const std::vector<std::string>& options);
Result<int> capability_from_name(std::string_view name); // "CAP_SYS_ADMIN" -> 21
Result<int> rlimit_from_name(std::string_view name);     // "RLIMIT_NOFILE" -> 7
Result<std::string> capability_name(int value);          // 21 -> "CAP_SYS_ADMIN"
Result<std::string_view> rlimit_name(int resource);      // 7 -> "RLIMIT_NOFILE"
// /proc/<pid>/{uid,gid}_map text, as the kernel takes it (also validates ranges don't overflow).
Result<std::string> format_id_map(const std::vector<IdMapping>& mappings);
Result<std::vector<IdMapping>> parse_id_map(std::string_view proc_text);

} // namespace berth::runtime
