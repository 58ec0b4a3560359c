// cgroups/internal.hpp — shared between the cgroups/*.cpp files. The one internal header of
// cgroups/ that tests and fuzz harnesses may include (white-box access; scripts/check-includes.sh
// allows it there and nowhere else outside cgroups/). The plan functions turn Resources into
// plain file writes without touching the filesystem, so conversions and refusals are testable
// without root.
#pragma once
#include <linux/bpf.h>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include "base/fd.hpp"
#include "cgroups/cgroups.hpp"

namespace berth::cgroups {

// Detection from given text (tests, fuzzing): /proc/self/mountinfo and the v2 root's
// cgroup.controllers ("" when there is no v2 mount).
Result<Host> detect_from(std::string_view mountinfo, std::string_view v2_root_controllers);

// Parsers of kernel files (pure, fuzzed) and the v1 -> v2 value conversions.
struct ProcCgroupLine {
    unsigned hierarchy_id = 0;
    std::vector<std::string> controllers; // empty for the v2 line "0::/path"
    std::string path;
};
Result<std::vector<ProcCgroupLine>> parse_proc_cgroup(std::string_view content);
// "key value\n" files: memory.stat, cpu.stat, memory.events, pids.events.
Result<std::map<std::string, std::uint64_t>> parse_flat_keyed(std::string_view content);
// Cpu shares (v1, 2..262144) to cpu.weight (v2, 1..10000), the conversion runc and crun use.
std::uint64_t shares_to_weight(std::uint64_t shares);
// OCI memory.swap is memory+swap (v1); v2 memory.swap.max is swap alone: swap - limit, as runc
// converts. nullopt: leave unset; -1: "max". Refuses swap without a limit, or swap < limit.
Result<std::optional<std::int64_t>> swap_to_v2(std::optional<std::int64_t> swap,
                                               std::optional<std::int64_t> limit);
// blkio weight (10..1000) to io.weight (1..10000), runc's conversion.
std::uint64_t blkio_weight_to_io_weight(std::uint64_t weight);

} // namespace berth::cgroups

namespace berth::cgroups::internal {

// One line of /proc/self/mountinfo, the fields detection needs.
struct MountEntry {
    std::string root;          // path of the mount's root within its filesystem
    std::string mount_point;   // unescaped
    std::string fs_type;       // "cgroup", "cgroup2", ...
    std::string super_options; // "rw,memory" for a v1 hierarchy
};
Result<std::vector<MountEntry>> parse_mountinfo(std::string_view content);

// The v1 hierarchies berth creates directories in: the controllers, and name=systemd (no
// controller: systemd tracks processes there, and a container running systemd, or podman
// --systemd=always, needs its own directory in it, as runc makes).
const std::vector<std::string>& v1_controllers();
inline constexpr std::string_view systemd_hierarchy = "name=systemd";

// One write into a cgroup directory. `v2` picks the unified directory, otherwise the v1
// hierarchy of `controller`. If `file` does not exist, `fallback_file` (if any) is written with
// `fallback_value` instead (io.weight -> io.bfq.weight, blkio.weight -> blkio.bfq.weight).
struct Write {
    std::string controller;
    bool v2 = false;
    std::string file;
    std::string value;
    std::string fallback_file;
    std::string fallback_value;
};

// Where a controller lives on this host; an error names the controller and what the host has.
Result<bool> controller_is_v2(const Host& host, const std::string& controller);

// The whole plan for `resources` on `host`, in the order it is written. Device rules become
// writes on v1; on v2 they are compiled to eBPF by apply (device_program) and not planned here.
Result<std::vector<Write>> plan(const Resources& resources, const Host& host);
// Per version (v1.cpp, v2.cpp): append to `out` or fail naming the resource.
Result<void> plan_v1_memory(const Memory& memory, std::vector<Write>& out);
Result<void> plan_v2_memory(const Memory& memory, std::vector<Write>& out);
Result<void> plan_v1_cpu(const Cpu& cpu, std::vector<Write>& out);
Result<void> plan_v2_cpu(const Cpu& cpu, std::vector<Write>& out);
void plan_pids(const Pids& pids, bool v2, std::vector<Write>& out);
Result<void> plan_v1_block_io(const BlockIo& io, std::vector<Write>& out);
Result<void> plan_v2_block_io(const BlockIo& io, std::vector<Write>& out);
Result<void> plan_hugetlb(const HugepageLimit& limit, bool v2, std::vector<Write>& out);
Result<void> plan_v1_devices(const std::vector<DeviceRule>& rules, std::vector<Write>& out);
Result<void> plan_unified(const std::map<std::string, std::string>& unified, const Host& host,
                          std::vector<Write>& out);
Result<void> validate_unified_key(std::string_view key);
Result<void> validate_device_rule(const DeviceRule& rule);

// The BPF_PROG_TYPE_CGROUP_DEVICE program for `rules` (OCI order: the last matching rule wins;
// no match denies), written by hand as crun and runc do. Pure.
Result<std::vector<bpf_insn>> device_program(const std::vector<DeviceRule>& rules);
// Loads the program and attaches it to the cgroup directory fd (BPF_F_ALLOW_MULTI), then
// detaches the device programs that were attached there before, so apply() replaces them.
Result<void> install_device_program(int cgroup_dir_fd, const std::vector<bpf_insn>& program);

// Small-file helpers over absolute paths. read_optional: nullopt when the file does not exist.
Result<std::optional<std::string>> read_optional(const std::string& path);
Result<std::optional<std::uint64_t>> read_number(const std::string& path); // "max" -> nullopt
Result<std::vector<pid_t>> read_procs(const std::string& dir); // one directory's cgroup.procs

// The directories of one Cgroup, shared by cgroup.cpp, control.cpp and stats.cpp.
struct Layout {
    Host host;
    std::string path;                           // "/berth/task/web"
    std::string v2_dir;                         // "" when the host has no v2 mount
    std::map<std::string, std::string> v1_dirs; // controller -> directory (several may share one)
    std::vector<std::string> unique_v1_dirs() const;
    // Where processes are listed: the v2 dir on pure v2, else a v1 hierarchy (pids, memory...).
    std::string procs_dir() const;
};
Layout layout_for(const Host& host, const std::string& path);
Result<Stats> read_stats(const Layout& layout);
Result<std::uint64_t> read_oom_kills(const Layout& layout);
// stats_detail.cpp: the per-device and per-CPU files, parsed leniently (a line that does not
// read is skipped: these are figures to show, not state to act on).
std::vector<StatsDetail::Device> parse_io_stat_devices(std::string_view text);
// blkio.throttle.io_service_bytes_recursive (bytes) or io_serviced_recursive, into devices.
void parse_blkio_devices(std::string_view text, bool bytes,
                         std::vector<StatsDetail::Device>& devices);
std::vector<std::uint64_t> parse_percpu(std::string_view text);
Result<StatsDetail> read_stats_detail(const Layout& layout);

} // namespace berth::cgroups::internal
