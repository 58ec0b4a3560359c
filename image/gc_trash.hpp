// image/gc_trash.hpp — how gc removes content without making pulls wait for the deletion. What
// gc collects leaves the store by one rename each, under the exclusive gc lock (so a pull or a
// rootfs that adds it to a lease afterwards finds it gone and makes it afresh, lease.hpp), into
// trash/<random>/; that dir is emptied after the lock is released. Pulls and leases wait only
// for gc's mark and renames, never for the removal of trees. The gc emptying a trash dir holds
// its flock; a dir whose flock is free (its gc died) is emptied by the next gc or recover().
// Internal to image/.
#pragma once
#include <string>
#include "base/fd.hpp"
#include "image/image.hpp"

namespace berth::image {

class Trash {
public:
    static Result<Trash> create(const std::string& root);
    // Moves <root>/blobs/sha256/<name> or <root>/snapshots/<name> into the trash. ENOENT (gone
    // meanwhile) is fine.
    Result<void> take_blob(const std::string& name);
    Result<void> take_snapshot(const std::string& name);
    // Removes everything taken; counts it, with its disk blocks, into report. Call without the
    // gc lock.
    Result<void> empty(GcReport& report);

private:
    Trash(std::string root, std::string dir, Fd lock)
        : root_(std::move(root)), dir_(std::move(dir)), lock_(std::move(lock))
    {
    }
    Result<void> take(const std::string& from, const std::string& as);
    std::string root_, dir_;
    Fd lock_; // the trash dir itself, flock'd LOCK_EX while it is ours
};

// Empties the trash dirs of gc runs that died (their flock is free). Safe at any time.
Result<void> empty_stale_trash(const std::string& root);

} // namespace berth::image
