// cgroups/cgroups.hpp — the only header other directories include from cgroups/.
//
// cgroups/ owns every cgroup directory berth makes: it detects what the host offers (pure v2,
// hybrid, pure v1), creates a cgroup at a path below the configured root (or the systemd-delegated
// subtree), applies OCI linux.resources to it, moves processes in, freezes, kills, reads
// statistics and removes it. v1 and v2 differ only in the *.cpp files. A resource the host cannot
// enforce is an error naming the resource, never silently dropped. Runs as root on the host: it
// writes only below the cgroup paths it was given.
//
// Hybrid hosts: a Cgroup is a directory in every v1 hierarchy berth uses (cpu, cpuacct, cpuset,
// memory, devices, freezer, blkio, pids, hugetlb) and in the v2 hierarchy, which holds whatever
// controllers the v1 ones left (hugetlb on the CI machine). name=systemd holds no controller: it
// only tracks processes for systemd; containers get a directory there too, as with runc. On v2 the
// controllers are enabled in each parent's cgroup.subtree_control on the way down, so a task cgroup
// can hold one child per container.
#pragma once
#include <sys/types.h>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include "base/fd.hpp"
#include "base/result.hpp"

namespace berth::cgroups {

// ---- The resource model: OCI runtime-spec linux.resources, as plain data. ----
struct DeviceRule {
    bool allow = false;
    char type = 'a';                   // 'a' all, 'b' block, 'c' char
    std::optional<std::int64_t> major; // nullopt = any ('*')
    std::optional<std::int64_t> minor;
    std::string access = "rwm"; // subset of "rwm"
    bool operator==(const DeviceRule&) const = default;
};
struct Memory {
    std::optional<std::int64_t> limit;       // bytes; -1 = unlimited
    std::optional<std::int64_t> reservation; // soft limit (v2 memory.low)
    std::optional<std::int64_t> swap;        // memory+swap (v1 semantics, as the spec says)
    std::optional<std::int64_t> kernel;      // deprecated; refused on v2
    std::optional<std::int64_t> kernel_tcp;
    std::optional<std::uint64_t> swappiness;
    std::optional<bool> disable_oom_killer;
    std::optional<bool> use_hierarchy;
    std::optional<bool> check_before_update;
    bool operator==(const Memory&) const = default;
};
struct Cpu {
    std::optional<std::uint64_t> shares; // v1 2..262144; v2 converted to cpu.weight
    std::optional<std::int64_t> quota;   // microseconds per period; -1 = max
    std::optional<std::uint64_t> burst;
    std::optional<std::uint64_t> period;
    std::optional<std::int64_t> realtime_runtime;
    std::optional<std::uint64_t> realtime_period;
    std::string cpus; // cpuset list, "" = inherit
    std::string mems;
    std::optional<std::int64_t> idle;
    bool operator==(const Cpu&) const = default;
};
struct Pids {
    std::int64_t limit = 0; // <= 0: unlimited ("max")
    bool operator==(const Pids&) const = default;
};
struct WeightDevice {
    std::int64_t major = 0, minor = 0;
    std::optional<std::uint16_t> weight, leaf_weight;
    bool operator==(const WeightDevice&) const = default;
};
struct ThrottleDevice {
    std::int64_t major = 0, minor = 0;
    std::uint64_t rate = 0;
    bool operator==(const ThrottleDevice&) const = default;
};
struct BlockIo {
    std::optional<std::uint16_t> weight, leaf_weight;
    std::vector<WeightDevice> weight_device;
    std::vector<ThrottleDevice> throttle_read_bps, throttle_write_bps;
    std::vector<ThrottleDevice> throttle_read_iops, throttle_write_iops;
    bool operator==(const BlockIo&) const = default;
};
struct HugepageLimit {
    std::string page_size; // "2MB", "1GB"
    std::uint64_t limit = 0;
    bool operator==(const HugepageLimit&) const = default;
};
struct Resources {
    std::vector<DeviceRule> devices;
    std::optional<Memory> memory;
    std::optional<Cpu> cpu;
    std::optional<Pids> pids;
    std::optional<BlockIo> block_io;
    std::vector<HugepageLimit> hugepage_limits;
    std::map<std::string, std::string> unified; // v2 only: file name -> value
    bool operator==(const Resources&) const = default;
};

// ---- What the host offers. ----
enum class Mode { Unified, Hybrid, Legacy }; // pure v2; v1 + a v2 mount; pure v1
struct Host {
    Mode mode = Mode::Unified;
    std::string unified_mount;                    // "/sys/fs/cgroup" or ".../unified"; "" if none
    std::map<std::string, std::string> v1_mounts; // controller -> mount point (Hybrid, Legacy)
    std::vector<std::string> v2_controllers;      // from the root's cgroup.controllers
};
// Reads /proc/self/mountinfo and the v2 root; cached per process after the first call.
Result<Host> detect();
std::string_view mode_name(Mode mode); // "unified", "hybrid", "legacy"

// ---- Statistics, cheap enough to sample every container every second. ----
struct Stats {
    std::uint64_t cpu_usage_usec = 0, cpu_user_usec = 0, cpu_system_usec = 0;
    std::uint64_t cpu_throttled_periods = 0, cpu_throttled_usec = 0;
    std::uint64_t memory_usage = 0, memory_limit = 0, memory_working_set = 0; // bytes
    std::uint64_t memory_max_usage = 0, memory_cache = 0;
    std::uint64_t oom_events = 0, oom_kill_events = 0;
    std::uint64_t pids_current = 0, pids_limit = 0; // 0 = unlimited
    std::uint64_t io_read_bytes = 0, io_write_bytes = 0;
};
// The detail behind Stats that Docker's stats API shows (stats_detail.cpp): per CPU, memory.stat
// whole, block I/O per device. A few more small reads; a controller that is absent leaves empty.
struct StatsDetail {
    std::vector<std::uint64_t> percpu_usage_ns; // v1 cpuacct.usage_percpu; v2 has no such file
    std::uint64_t cpu_periods = 0;              // nr_periods of cpu.stat
    std::map<std::string, std::uint64_t> memory_stat;
    struct Device {
        std::uint32_t major = 0, minor = 0;
        std::uint64_t read_bytes = 0, write_bytes = 0, reads = 0, writes = 0;
    };
    std::vector<Device> devices; // in the kernel's order
};

// The delegated subtree under systemd (Delegate=yes), from /proc/self/cgroup text: the service's
// cgroup (the v2 line; on hybrid hosts the name=systemd line). If the agent already moved itself
// into a leaf named `agent_leaf` (v2 forbids processes in inner cgroups), that leaf is stripped.
// Pure path logic: no systemd dependency.
Result<std::string> delegated_root(std::string_view proc_self_cgroup,
                                   std::string_view agent_leaf = "agent");
// This process's delegated subtree when systemd delegated one to it: delegated_root() of
// /proc/self/cgroup, if that cgroup carries systemd's delegation mark (the trusted.delegate or
// user.delegate xattr, systemd 251+). nullopt when not delegated (no systemd, no Delegate=yes).
Result<std::optional<std::string>> own_delegated_root();

// The path rule for cgroup paths (absolute within a hierarchy, as OCI linux.cgroupsPath):
// "/berth//task/web/" -> "/berth/task/web". "." and ".." components, NUL bytes and relative
// paths are refused: they would leave the tree. `allow_root`: "/" itself is a valid answer.
Result<std::string> normalize_path(std::string_view path, bool allow_root = false);
// True if path is root or below it (both normalized): "/berth/a" is within "/berth" and "/".
bool path_within(std::string_view path, std::string_view root);
// runc's --systemd-cgroup "slice:prefix:name" as the cgroupfs path systemd would give the unit:
// the slice expanded as systemd does ("a-b.slice" -> "/a.slice/a-b.slice", "" -> system.slice,
// "-.slice" -> "/"), then the unit "prefix-name.scope" (a name ending in ".slice" is itself a
// slice, nested in the parent slice). Errors name what is wrong with the string.
Result<std::string> systemd_cgroup_path(std::string_view slice_prefix_name);

// The names of the child cgroups of `path` (absolute within the hierarchy, "/" allowed): the
// subdirectories of its directory in every hierarchy berth makes cgroups in (the unified one and
// each v1 one), so that a cgroup a crash left in only some of them is listed too. Sorted, each
// name once; empty when path exists in none of them. EINVAL for a bad path.
Result<std::vector<std::string>> child_cgroups(const std::string& path);

// What Cgroup::create made, kept in a container's state so a later process undoes exactly that.
struct Ownership {
    bool created = false;          // the leaf directory was made by create() in every hierarchy
    std::vector<std::string> made; // the directories create() made (absolute), parents first
};

// A cgroup berth made, adopted or recovered at `path` below the hierarchy root(s). Move-only.
// Removal is explicit (destroy()), because containers outlive the runtime process that created
// them. A cgroup whose directory already existed is adopted: berth never kills what it holds nor
// removes it (it may be a host service's, or another container's parent).
class Cgroup {
public:
    // Creates path (and missing parents, enabling controllers in their subtree_control on v2).
    // `path` is absolute within the hierarchy ("/berth/task1/web"), as OCI linux.cgroupsPath.
    // An existing directory is adopted (ownership().created is false).
    static Result<Cgroup> create(const std::string& path);
    // create + apply; if apply fails, what create made is removed again.
    static Result<Cgroup> create(const std::string& path, const Resources& resources);
    // Opens an existing cgroup after a restart (recover), with what create() made then (an empty
    // Ownership: adopted, nothing to remove); ENOENT if it is gone.
    static Result<Cgroup> open(const std::string& path, Ownership ownership = {});
    ~Cgroup();
    Cgroup(Cgroup&&) noexcept;
    Cgroup& operator=(Cgroup&&) noexcept;

    // Applies resources; a value the kernel rejects fails naming the file and value. A resource
    // whose controller the host lacks fails naming the controller.
    Result<void> apply(const Resources& resources);
    Result<void> add(pid_t pid); // moves pid into the cgroup (all hierarchies)
    // Joining without a move by pid: moving a whole process (cgroup.procs) makes the kernel wait
    // for an RCU grace period (10-20 ms here) unless the cgroup was mounted favordynmods. A new
    // process can instead be cloned straight into the v2 directory (clone3 CLONE_INTO_CGROUP on
    // `v2_dir`) and, single-threaded, move itself into each v1 hierarchy by writing "0" to
    // `v1_tasks` (one thread moving itself skips that wait). Opened here, written by the process.
    struct JoinFiles {
        Fd v2_dir;                // O_RDONLY|O_DIRECTORY; invalid when there is no v2 mount
        std::vector<Fd> v1_tasks; // O_WRONLY "tasks" of each v1 hierarchy
    };
    Result<JoinFiles> open_join_files() const;
    Result<void> add_v2(pid_t pid);          // add() on the v2 directory only (no-op without one)
    Result<std::vector<pid_t>> pids() const; // every process in the cgroup and below
    Result<void> freeze();                   // returns once the cgroup is frozen
    Result<void> thaw();
    Result<bool> frozen() const;
    // SIGKILL to every process (cgroup.kill or a loop), except in the subtrees `spare` (cgroup
    // paths below this one that belong to someone else, such as a nested container).
    Result<void> kill(const std::vector<std::string>& spare = {});
    Result<Stats> stats() const;
    Result<StatsDetail> stats_detail() const;
    Result<std::uint64_t> oom_kill_count() const; // from memory.events / memory.oom_control
    // Undoes create(). A created cgroup: kills what is left (outside `spare`), waits (bounded)
    // for it to empty, removes its directories, child cgroups first (a spared subtree and the
    // directories above it stay). An adopted one: nothing is killed; only directories create()
    // made are removed, when empty. Then the parents create() made, when empty.
    Result<void> destroy(const std::vector<std::string>& spare = {});
    const std::string& path() const;
    Mode mode() const;
    const Ownership& ownership() const;

private:
    struct Impl;
    explicit Cgroup(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

} // namespace berth::cgroups
