// image/store.cpp — the store's layout and queries:
//   blobs/sha256/<hex>      verified blobs (manifests, configs, compressed layers)
//   snapshots/<hex>/        one unpacked layer per chain ID (its own diff, overlay whiteouts)
//   ingest/                 snapshots being unpacked (removed by recover())
//   locks/<hex>.lock        flock per chain ID: one download per layer across processes
//   images/<hash>.json      records by reference
//   containers/<id>/        rootfs upper, work and merged dirs
//   leases/                 named leases and live leases of pulls in progress (lease.hpp)
//   <file>.<pid>.<tid>.tmp  in images/ and leases/: replace_file's temps (a dead writer's go
//                           in recover())
//   used/<manifest hex>     last-used stamps (mtime) for the gc policy (gc_policy.hpp)
//   trash/<random>/         what a gc collected, removed after its lock (gc_trash.hpp)
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <algorithm>
#include "base/files.hpp"
#include "image/gc_policy.hpp"
#include "image/gc_trash.hpp"
#include "image/image.hpp"
#include "image/records.hpp"
#include "image/store_fs.hpp"

namespace berth::image {

Result<Store> Store::open(std::string root)
{
    while (root.size() > 1 && root.back() == '/')
        root.pop_back();
    for (const char* sub : {"/blobs/sha256", "/snapshots", "/ingest", "/locks", "/images",
                            "/containers", "/leases", "/used"})
        if (auto r = make_directories(root + sub, 0700); !r)
            return std::move(r).error().wrap(cat("open image store ", quoted(root)));
    return Store(std::move(root));
}

std::string Store::blob_path(std::string_view digest) const
{
    return cat(root_, "/blobs/sha256/", digest_hex(digest));
}

std::string Store::snapshot_path(std::string_view chain_id) const
{
    return cat(root_, "/snapshots/", digest_hex(chain_id));
}

bool Store::has_blob(std::string_view digest) const
{
    return is_valid_digest(digest) && path_exists(blob_path(digest));
}

Result<std::vector<ImageRecord>> Store::list() const
{
    std::vector<ImageRecord> out;
    DIR* d = ::opendir((root_ + "/images").c_str());
    if (!d)
        return Error::from_errno("list images in ", quoted(root_));
    while (dirent* e = ::readdir(d)) { // NOLINT(concurrency-mt-unsafe): own DIR stream
        const std::string name = e->d_name;
        if (name.size() < 6 || name.substr(name.size() - 5) != ".json")
            continue;
        auto text = read_file(cat(root_, "/images/", name), std::size_t{1} << 20);
        if (!text)
            continue; // removed meanwhile
        auto r = record_from_json(*text);
        // Only a record stored under its own name (record_file of its reference) is an image:
        // find() and gc's removal go by that name, and gc would re-plan one it cannot remove
        // forever (relieve_pressure). A file under another name is ignored, as any stray file.
        if (r && record_file(root_, r->reference) != cat(root_, "/images/", name))
            continue;
        if (r) {
            r->last_used = last_used(root_, r->manifest_digest);
            out.push_back(std::move(*r));
        }
    }
    ::closedir(d);
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.reference < b.reference; });
    return out;
}

Result<ImageRecord> Store::find(std::string_view reference) const
{
    if (auto ref = parse_reference(reference)) {
        auto text = read_file(record_file(root_, ref->str()), std::size_t{1} << 20);
        if (text) {
            auto record = record_from_json(*text);
            if (record)
                record->last_used = last_used(root_, record->manifest_digest);
            return record;
        }
    }
    auto all = list();
    if (!all)
        return std::move(all).error();
    for (auto& r : *all)
        if (r.manifest_digest == reference || r.reference == reference ||
            (reference.size() >= 12 && digest_hex(r.manifest_digest).starts_with(reference)))
            // cppcheck-suppress returnStdMoveLocal ; r is a vector element, not a local
            return std::move(r);
    return Error::with_code(ENOENT, "image ", quoted(reference), " is not in the store");
}

Result<void> Store::remove(std::string_view reference)
{
    auto record = find(reference);
    if (!record)
        return std::move(record).error();
    const auto file = record_file(root_, record->reference);
    if (::unlink(file.c_str()) < 0)
        return Error::from_errno("remove image ", quoted(record->reference));
    return {};
}

Result<void> Store::recover()
{
    // ingest/ holds only unpacks in progress; snapshots are renamed in verified and blobs are
    // O_TMPFILEs until linked; records and leases are replaced through named temp files
    // (replace_file), so a crash leaves nothing else half-made.
    DIR* d = ::opendir((root_ + "/ingest").c_str());
    if (!d)
        return Error::from_errno("recover ", quoted(root_));
    std::vector<std::string> leftovers;
    while (dirent* e = ::readdir(d)) { // NOLINT(concurrency-mt-unsafe): own DIR stream
        const std::string_view name = e->d_name;
        if (name != "." && name != "..")
            leftovers.emplace_back(name);
    }
    ::closedir(d);
    if (auto r = empty_stale_trash(root_); !r) // a gc killed before it emptied its trash
        return std::move(r).error().wrap("recover");
    remove_stale_temps(root_ + "/images");
    remove_stale_temps(root_ + "/leases");
    for (const auto& name : leftovers) {
        // "<chain hex>.<random>": a pull still running holds the chain's lock; skip its dir.
        const auto lock_path = cat(root_, "/locks/", name.substr(0, name.find('.')), ".lock");
        auto lock = try_lock_exclusive(lock_path);
        if (!lock && lock.error().code != ENOENT)
            continue;
        if (auto r = remove_tree(cat(root_, "/ingest/", name)); !r)
            return std::move(r).error().wrap("recover");
        if (lock)
            unlink_held_lock(*lock, lock_path);
    }
    return {};
}

} // namespace berth::image
