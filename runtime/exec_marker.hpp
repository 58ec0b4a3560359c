// runtime/exec_marker.hpp — internal: what identifies a process berth-supervisor exec'd into a
// container, so that a supervisor restarted after dying can re-adopt it as it re-adopts inits.
// <root>/<id>/exec-<pid>.json holds its pid, start time (clock ticks after boot, field 22 of
// /proc/<pid>/stat) and boot id; written before the exec is answered, removed once its exit
// record is on disk. Only the supervisor writes it: an in-process caller is the reaper itself.
#pragma once
#include <sys/types.h>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>
#include "base/fd.hpp"
#include "runtime/runtime.hpp"

namespace berth::runtime {

struct ExecMarker {
    pid_t pid = 0;
    std::uint64_t start_time = 0;
    std::string boot_id;
};

std::string exec_marker_path(const Options& options, std::string_view id, pid_t pid);
// The marker of pid, a process just exec'd (its start time read now, this boot's id).
Result<void> write_exec_marker(const Options& options, std::string_view id, pid_t pid);
// nullopt when there is none; EINVAL naming the field for a malformed one.
Result<std::optional<ExecMarker>> read_exec_marker(const std::string& path);
// The pids that have a marker in the container's directory, ascending.
Result<std::vector<pid_t>> exec_marker_pids(const Options& options, std::string_view id);
// A pidfd on the marked process if it still is that process (same boot, same start time);
// ESRCH otherwise: a pid reused since is never taken for it.
Result<Fd> open_marked(const ExecMarker& marker);

} // namespace berth::runtime
