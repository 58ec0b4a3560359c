// cgroups/cgroup_impl.hpp — Cgroup's private state, shared by cgroup.cpp, control.cpp and
// destroy.cpp. Internal to cgroups/.
#pragma once
#include <string>
#include <vector>
#include "cgroups/internal.hpp"

namespace berth::cgroups {

struct Cgroup::Impl {
    internal::Layout layout;
    std::vector<std::string> made; // directories create() made, in creation order

    Result<void> write(const internal::Write& w) const;
    Result<void> apply_device_program(const std::vector<DeviceRule>& rules) const;
};

} // namespace berth::cgroups
