// agent/daemon/helper_binary.hpp — where berthd finds the helpers it starts (berth-supervisor,
// berth-pause): next to its own binary first (a build tree, or an install's bin/ or libexec/),
// then at fixed paths (the install path and the build tree's, build_paths.hpp). Internal.
#pragma once
#include <unistd.h>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <vector>

namespace berth::daemon {

// The first executable of `beside_self` (paths relative to the directory of /proc/self/exe), then
// of `fixed`; "" if none is.
inline std::string find_helper_binary(std::initializer_list<const char*> beside_self,
                                      std::initializer_list<const char*> fixed)
{
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    std::vector<std::string> candidates;
    if (!ec)
        for (const auto* relative : beside_self)
            candidates.push_back((self.parent_path() / relative).string());
    candidates.insert(candidates.end(), fixed.begin(), fixed.end());
    for (const auto& c : candidates)
        if (!c.empty() && ::access(c.c_str(), X_OK) == 0)
            return c;
    return {};
}

} // namespace berth::daemon
