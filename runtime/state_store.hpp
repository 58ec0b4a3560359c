// runtime/state_store.hpp — internal: the on-disk record of one container, <root>/<id>/.
//
// <root>/<id>/state.json (written atomically; durably with Options::durable_state) holds what
// later verbs need to find the container again: the init pid plus its start time (so a recycled
// pid is not mistaken for ours), the bundle, rootfs, the resolved cgroup path with what create
// made there (created or adopted, the directories it made) and annotations. It is first written
// before anything else is made (pid 0: "creating"), so a create that died midway is still seen
// and removed by list/state/delete. <root>/<id>/config.json is the bundle's config frozen at
// create time: exec, start and delete read it (load_config), never the bundle's current one.
// exec.fifo exists while the container is "created". Mutating verbs, and create from start to
// end, hold flock() on the <root>/<id> directory.
// parse_state_file() is strict (unknown keys, wrong types, out-of-range values are errors) and
// bounded; it is fuzzed.
#pragma once
#include <sys/types.h>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include "base/fd.hpp"
#include "base/result.hpp"
#include "runtime/runtime.hpp"

namespace berth::runtime::store {

inline constexpr std::size_t max_state_bytes = std::size_t{1024} * 1024;
inline constexpr int state_format_version = 1;

struct Record {
    std::string oci_version;
    std::string id;
    pid_t pid = 0;                // host pid of the container's init
    std::uint64_t start_time = 0; // /proc/<pid>/stat field 22 (clock ticks after boot)
    std::string bundle, rootfs;   // absolute
    std::int64_t created_ns = 0;  // since the epoch
    std::string owner;
    std::string cgroup_path;   // resolved: "/berth/<id>" or linux.cgroupsPath
    cgroups::Ownership cgroup; // what create made there (adopted: created == false)
    std::map<std::string, std::string> annotations;
    // /proc/sys/kernel/random/boot_id when the record was made: pid + start time only mean
    // something within the same boot. Empty in states from before it was recorded.
    std::string boot_id;
    // Whether the frozen config has poststart / poststop hooks, so that start and delete parse
    // config.json only when they have hooks to run. nullopt in states from before it was
    // recorded: then config.json tells.
    struct Hooks {
        bool poststart = false, poststop = false;
    };
    std::optional<Hooks> hooks;
};

// runc's rule: [A-Za-z0-9_.+-]+, not "." or "..", at most 1024 bytes. Errors name the id.
Result<void> check_id(std::string_view id);

std::string serialize_state(const Record& record);
Result<Record> parse_state_file(std::string_view content);

// /proc/<pid>/stat -> field 22 (starttime). The comm field may hold spaces and ')'.
Result<std::uint64_t> parse_stat_start_time(std::string_view stat);
// Reads /proc/<pid>/stat; ESRCH-like failures come back as an Error with code ESRCH.
Result<std::uint64_t> process_start_time(pid_t pid);

// What the kernel says now, gathered by the caller; derive_status() is pure.
struct Observed {
    std::optional<std::uint64_t> start_time; // nullopt: no such process (or a zombie)
    bool fifo_exists = false;
    bool frozen = false;
    bool same_boot = true; // the record's boot id is this boot's (or was not recorded)
};
Status derive_status(const Record& record, const Observed& observed);

// Paths below the state root.
std::string container_dir(const Options& options, std::string_view id);
std::string state_path(const Options& options, std::string_view id);
std::string config_copy_path(const Options& options, std::string_view id);
std::string fifo_path(const Options& options, std::string_view id);

Result<Record> load(const Options& options, std::string_view id);
// Durable (fsync of file and directory) with options.durable_state.
Result<void> save(const Options& options, const Record& record);
// Freezes the bundle's config bytes at create (durably, as save()).
Result<void> save_config(const Options& options, std::string_view id, std::string_view bytes);
// The config frozen at create (<root>/<id>/config.json), read and parsed: the one place that
// does it. Errors name the file.
Result<Spec> load_config(const Options& options, std::string_view id);
// flock(LOCK_EX) on <root>/<id>; the lock lives as long as the returned Fd.
Result<Fd> lock(const Options& options, std::string_view id);
// True while some process holds the lock of <root>/<id> (a create in progress; or a verb).
bool locked(const Options& options, std::string_view id);
// This boot's id (/proc/sys/kernel/random/boot_id, trimmed); "" when unreadable.
const std::string& current_boot_id();
// False when the record was made in another boot: its pid names nothing of ours.
bool same_boot(const Record& record);
// A pidfd for the record's init, checked against the recorded start time after opening it: a
// signal through it never reaches a process that reused the pid. ESRCH "container init <pid> is
// gone" when it exited.
Result<Fd> open_init(const Record& record);
// Observes the kernel for record (process, fifo, freezer) and derives the status.
Status observe_status(const Options& options, const Record& record);
// The one error for a verb that does not apply in the container's status (runtime.hpp's errno
// vocabulary): EBUSY, "container is <status>, not <wanted>", no strerror text.
Error wrong_state(Status status, std::string_view wanted);
// The public State of a record with its derived status.
State to_state(const Record& record, Status status);

} // namespace berth::runtime::store
