// runtime/exit_record.hpp — internal: where exit records live and how a reaper makes one.
// Written by whoever reaps (the caller in-process, berth-supervisor otherwise), atomically, before
// anything removes the cgroup (the OOM count is read from it).
#pragma once
#include <signal.h>
#include <optional>
#include <string>
#include "runtime/runtime.hpp"

namespace berth::runtime {

inline constexpr std::size_t max_exit_record_bytes = 4096;

// <root>/<id>/exit-init.json, or exit-<pid>.json for an exec'd process.
std::string exit_record_path(const Options& options, std::string_view id, pid_t exec_pid = 0);
// The cgroup's OOM kill count now (0 for "" or an unreadable cgroup): taken when a process
// starts, so that its exit is labelled OOM only for a kill counted during its own life.
std::uint64_t oom_kills_now(const std::string& cgroup_path);
// The record of a reaped process from waitid's siginfo; cgroup_path ("" none) for OOM kills,
// oom_kills_before: oom_kills_now() when the process started. A SIGKILL is labelled OOM when the
// cgroup counted a kill since then that no other record made in this process took already.
ExitRecord make_exit_record(const siginfo_t& info, const std::string& cgroup_path,
                            std::uint64_t oom_kills_before);
// The record of a process that ended while we were not its parent (so no waitid): exit_unknown.
// finished: whether we saw it end just now (finished_ns) or found it long gone (0).
ExitRecord make_unknown_exit_record(pid_t pid, const std::string& cgroup_path,
                                    std::uint64_t oom_kills_before, bool finished);
// The record of a container's init that ended while no reaper watched it (its supervisor died):
// exit_unknown, finished_ns 0, and oom_killed when its cgroup counted any OOM kill (as Docker's
// OOMKilled: the container's own cgroup, so the kill was of one of its processes). Made the same
// by a restarted supervisor's watch and by recover() when no supervisor runs.
ExitRecord make_unreaped_init_record(pid_t pid, const std::string& cgroup_path);
// Drops what this process remembers of the cgroup's attributed OOM kills (it was removed).
void forget_oom_claims(const std::string& cgroup_path);
Result<void> write_exit_record(const std::string& path, const ExitRecord& record, bool durable);
// nullopt when there is no record (yet); an error for an unreadable or malformed one.
Result<std::optional<ExitRecord>> read_exit_record(const std::string& path);

} // namespace berth::runtime
