// agent/taskdef/build_internal.hpp — internal to build_spec: the pieces of one container's spec,
// each in its own file. `Build` carries what every piece needs.
#pragma once
#include "agent/taskdef/internal.hpp"

namespace berth::taskdef::build {

struct Build {
    const TaskDefinition& task;
    const ContainerDefinition& container;
    const ImageRunConfig& image;
    const SpecInputs& inputs;
    bool privileged() const { return container.privileged.value_or(false); }
};

// Default mounts (proc, dev, pts, shm, mqueue, sys, cgroup), tmpfs, volumes, volumesFrom.
Result<std::vector<runtime::Mount>> mounts(const Build& b); // build_mounts.cpp
runtime::Mount make_mount(std::string destination, std::string type, std::string source,
                          std::vector<std::string> options);               // build_mounts.cpp
Result<void> add_options(runtime::Mount& mount, const std::string& field); // build_mounts.cpp
// Capabilities, rlimits (process) and devices, device rules, resources, masked paths (linux).
Result<runtime::Capabilities> capabilities(const Build& b);     // build_linux.cpp
Result<std::vector<runtime::Rlimit>> rlimits(const Build& b);   // build_linux.cpp
Result<void> linux_part(const Build& b, runtime::Linux& linux); // build_linux.cpp

} // namespace berth::taskdef::build
