// image/gc_policy.hpp — the image cleanup policy (GcPolicy in image.hpp): which images are idle,
// in which order they go, and when the disk is under pressure; plus the last-used stamps it
// reads (<root>/used/<manifest hex>, whose mtime is the last time a lease or a rootfs took or
// let go of the image). Internal to image/; tests reach it through image/internal.hpp.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>
#include "base/result.hpp"
#include "image/image.hpp"

namespace berth::image {

// Stamps now as the manifest's last use; best effort (a failed stamp only makes it look older
// than it is to the policy, never removes anything in use).
void touch_used(const std::string& root, std::string_view manifest_digest);
// The stamp (unix seconds), 0 when there is none.
std::int64_t last_used(const std::string& root, std::string_view manifest_digest);

struct IdleImage {           // one manifest, all its references
    std::string manifest;    // digest
    std::int64_t idle_since; // max(created, last_used) over its records
    bool in_use = false;     // leased, mounted, or being pulled or loaded
};
struct PolicyPlan {
    std::vector<std::string> normal;   // removed every cycle: age and count rules
    std::vector<std::string> pressure; // then one by one while the disk stays under pressure
};
// Pure: idle images oldest first (ties by digest); normal takes the first images_per_cycle idle
// for minimum_age, pressure the rest idle for pressure_minimum_age (empty unless pressured).
PolicyPlan plan_policy(std::vector<IdleImage> images, const GcPolicy& policy, std::int64_t now,
                       bool pressured);

struct FreeSpace {
    std::uint64_t free = 0,
                  size = 0; // f_bavail and f_blocks in bytes: the root reserve is not free
};
Result<FreeSpace> free_space(const std::string& path);
// Free space below either threshold of the policy.
bool under_pressure(const FreeSpace& space, const GcPolicy& policy);

} // namespace berth::image
