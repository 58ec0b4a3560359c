// runtime/container_cgroup.hpp — internal: a container's cgroup as the verbs see it. Which
// processes are the container's own (all of a cgroup berth created; in an adopted one only the
// container's), which other containers share the cgroup or nest below it, and handing the
// directories a container made over to those that still live in them when it is deleted.
#pragma once
#include <sys/types.h>
#include <vector>
#include "runtime/state_store.hpp"

namespace berth::runtime {

// The other containers under options.root whose cgroup is record's or below it.
std::vector<store::Record> cgroup_sharers(const Options& options, const store::Record& record);

// Opens record's cgroup with what create made there. With a sharer in the very same cgroup,
// the directory is not ours alone: it is opened as adopted (nothing killed, nothing removed).
Result<cgroups::Cgroup> open_container_cgroup(const store::Record& record,
                                              const std::vector<store::Record>& sharers);

// The container's processes: every one in a cgroup berth created (minus nested containers');
// in an adopted cgroup those in the init's own pid namespace, or, when the container has none,
// the init and its descendants.
Result<std::vector<pid_t>> container_processes(const store::Record& record,
                                               const cgroups::Cgroup& cgroup,
                                               const std::vector<store::Record>& sharers);

// SIGKILL to every process of the container and waits (bounded) for the init to exit.
void stop_container_processes(const store::Record& record, cgroups::Cgroup* cgroup,
                              const std::vector<store::Record>& sharers);

// Undoes the cgroup part of create: destroy() sparing nested containers, then the directories
// record made that still hold a sharer are handed to the sharers' records, so the last one to
// go removes them.
Result<void> release_container_cgroup(const Options& options, const store::Record& record,
                                      cgroups::Cgroup& cgroup,
                                      const std::vector<store::Record>& sharers);

} // namespace berth::runtime
