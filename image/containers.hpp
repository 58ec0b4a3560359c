// image/containers.hpp — what the container roots under <root>/containers use, for gc. Each
// rootfs lists its snapshots in containers/<id>/snapshots (written by Rootfs::mount before it
// mounts). A dir from before that list existed (it has an upper dir but no list) is read from
// its overlay mount in /proc/self/mountinfo and given its list; if its mount is not visible from
// here (another mount namespace) it is unknown, and gc must keep every snapshot. Internal.
#pragma once
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace berth::image {

struct ContainerUse {
    std::set<std::string> chains;     // every snapshot some rootfs mounts
    std::set<std::string> tops;       // the top snapshot of each: the image it runs
    std::vector<std::string> unknown; // container ids whose snapshots cannot be told
};
// Call under the exclusive gc lock (it may write the list of an old container dir).
ContainerUse scan_containers(const std::string& root);

// The lower dirs of the overlay mounted at mount_point, topmost first, from mountinfo text
// ("lowerdir=a:b" or repeated "lowerdir+=a"); empty when no overlay is mounted there.
std::vector<std::string> overlay_lowerdirs(std::string_view mountinfo,
                                           std::string_view mount_point);

} // namespace berth::image
