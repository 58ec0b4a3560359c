// image/gc_policy.cpp — see gc_policy.hpp. The stamps are files whose mtime is the time: one
// futimens, no parsing, and a torn write cannot exist.
#include "image/gc_policy.hpp"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <algorithm>
#include "base/fd.hpp"
#include "image/store_fs.hpp"

namespace berth::image {
namespace {

std::string used_file(const std::string& root, std::string_view manifest_digest)
{
    return cat(root, "/used/", digest_hex(manifest_digest));
}

} // namespace

void touch_used(const std::string& root, std::string_view manifest_digest)
{
    if (!is_valid_digest(manifest_digest))
        return;
    const Fd fd(::open(used_file(root, manifest_digest).c_str(),
                       O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (fd.valid())
        (void)::futimens(fd.get(), nullptr); // both times to now
}

std::int64_t last_used(const std::string& root, std::string_view manifest_digest)
{
    struct stat st {};
    if (!is_valid_digest(manifest_digest) ||
        ::lstat(used_file(root, manifest_digest).c_str(), &st) < 0)
        return 0;
    return st.st_mtim.tv_sec;
}

PolicyPlan plan_policy(std::vector<IdleImage> images, const GcPolicy& policy, std::int64_t now,
                       bool pressured)
{
    std::erase_if(images, [](const IdleImage& i) { return i.in_use; });
    std::sort(images.begin(), images.end(), [](const IdleImage& a, const IdleImage& b) {
        return a.idle_since != b.idle_since ? a.idle_since < b.idle_since : a.manifest < b.manifest;
    });
    PolicyPlan plan;
    for (const auto& image : images) {
        const auto idle = std::chrono::seconds(now - image.idle_since);
        if (plan.normal.size() < policy.images_per_cycle && idle >= policy.minimum_age)
            plan.normal.push_back(image.manifest);
        else if (pressured && idle >= policy.pressure_minimum_age)
            plan.pressure.push_back(image.manifest);
    }
    return plan;
}

Result<FreeSpace> free_space(const std::string& path)
{
    struct statvfs st {};
    if (::statvfs(path.c_str(), &st) < 0)
        return Error::from_errno("statvfs ", quoted(path));
    return FreeSpace{static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize,
                     static_cast<std::uint64_t>(st.f_blocks) * st.f_frsize};
}

bool under_pressure(const FreeSpace& space, const GcPolicy& policy)
{
    const auto percent = space.size / 100 * policy.pressure_free_percent;
    return space.free < std::max(policy.pressure_free_bytes, percent);
}

} // namespace berth::image
