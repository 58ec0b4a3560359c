// cgroups/cgroup_impl.hpp — Cgroup's private state, shared by cgroup.cpp and control.cpp. Internal
// to cgroups/.
#pragma once
#include <string>
#include <vector>
#include "base/fd.hpp"
#include "cgroups/internal.hpp"

namespace berth::cgroups {

struct Cgroup::Impl {
    internal::Layout layout;
    Ownership ownership; // what create() made: undone by destroy()

    // The file last written, kept open for the next write to the same file (apply's loop).
    struct WriteCache {
        std::string path;
        Fd fd;
    };
    Result<void> write(const internal::Write& w, WriteCache& cache) const;
    Result<void> apply_device_program(const std::vector<DeviceRule>& rules) const;
    // Waits (bounded) until no process is left outside the spared subtrees.
    Result<void> wait_empty(const std::vector<std::string>& spare) const;
};

} // namespace berth::cgroups
