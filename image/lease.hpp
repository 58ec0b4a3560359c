// image/lease.hpp — what keeps content alive against garbage collection. Four kinds of roots:
// image records (images/), named leases (leases/<sha256 of name>.json, persisted: the agent
// takes one per task or container) and live leases (leases/live.<random>, held by a pull or a
// load in progress through an flock on the file; a dead owner's lease is stale and removed) and
// the snapshot list of each container rootfs (containers/<id>/snapshots).
// Ordering: a writer adds a digest to its lease, under the shared gc lock, BEFORE it writes or
// relies on that content; gc() marks and sweeps under the exclusive gc lock. So gc either ran
// before the lease entry (and the content is made afresh) or sees it. Internal to image/.
#pragma once
#include <set>
#include <string>
#include <vector>
#include "base/fd.hpp"
#include "image/image.hpp"

namespace berth::image {

// locks/gc.lock: shared by lease updates, exclusive by gc().
Result<Fd> lock_gc(const std::string& root, bool exclusive);

struct Roots {
    std::set<std::string> blobs;        // digests
    std::set<std::string> chains;       // chain IDs (snapshots)
    std::set<std::string> live;         // digests and chain IDs of pulls and loads in progress
    std::set<std::string> mounted_tops; // the top snapshot of each container rootfs
    std::vector<std::string> unknown_containers; // gc keeps every snapshot while any exists
    void add(const ImageRecord& record);
};

class LiveLease { // move-only; releases (removes its file) in the destructor
public:
    static Result<LiveLease> create(const std::string& root);
    LiveLease(LiveLease&& other) noexcept = default;
    LiveLease& operator=(LiveLease&&) = delete;
    LiveLease(const LiveLease&) = delete;
    LiveLease& operator=(const LiveLease&) = delete;
    ~LiveLease();
    // Digests or chain IDs; safe from gc once this returns.
    Result<void> add(const std::vector<std::string>& ids);

private:
    LiveLease(std::string root, std::string path, Fd fd)
        : root_(std::move(root)), path_(std::move(path)), fd_(std::move(fd))
    {
    }
    std::string root_, path_;
    Fd fd_; // flock'd LOCK_EX for our lifetime: how gc tells a live lease from a stale one
};

// Every root: named leases, live leases (stale ones removed), containers' snapshot lists
// (containers/<id>/snapshots, written by Rootfs::mount; containers.hpp), then records.
// Call under the exclusive gc lock.
Result<Roots> collect_roots(const Store& store);
// The manifests named leases hold, for prune --all.
Result<std::set<std::string>> leased_manifests(const Store& store);

} // namespace berth::image
