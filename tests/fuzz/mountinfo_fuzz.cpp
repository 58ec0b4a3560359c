// tests/fuzz/mountinfo_fuzz.cpp — /proc/self/mountinfo (mount points are chosen by whoever can
// mount, containers included) and the v2 root's cgroup.controllers -> parse_mountinfo and
// detect_from. The input is "mountinfo\0controllers". Properties: the detected mode agrees
// with the mounts found; refusals explain themselves.
#include <cstddef>
#include <cstdint>
#include "cgroups/cgroups.hpp"
#include "cgroups/internal.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace berth;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size > fuzz::max_input)
        return 0;
    const auto text = fuzz::as_text(data, size);
    const auto nul = text.find('\0');
    const auto mountinfo = text.substr(0, nul);
    const auto controllers =
        nul == std::string_view::npos ? std::string_view() : text.substr(nul + 1);

    auto entries = cgroups::internal::parse_mountinfo(mountinfo);
    if (!entries)
        fuzz::require_explained(entries.error());

    auto host = cgroups::detect_from(mountinfo, controllers);
    if (!host) {
        fuzz::require_explained(host.error());
        return 0;
    }
    fuzz::require(entries.has_value(), "detect_from accepts only parseable mountinfo");
    switch (host->mode) {
    case cgroups::Mode::Unified:
        fuzz::require(!host->unified_mount.empty() && host->v1_mounts.empty(),
                      "unified: a v2 mount and no v1 mounts");
        break;
    case cgroups::Mode::Hybrid:
        fuzz::require(!host->unified_mount.empty() && !host->v1_mounts.empty(),
                      "hybrid: a v2 mount and v1 mounts");
        break;
    case cgroups::Mode::Legacy:
        fuzz::require(host->unified_mount.empty() && !host->v1_mounts.empty(),
                      "legacy: v1 mounts only");
        break;
    }
    if (host->unified_mount.empty())
        fuzz::require(host->v2_controllers.empty(), "no v2 controllers without a v2 mount");
    for (const auto& controller : host->v2_controllers)
        fuzz::require(!controller.empty() && controller.find(' ') == std::string::npos,
                      "a v2 controller is one token");
    return 0;
}
