// image/gc.cpp — Store::gc: mark (records, named leases, live leases of pulls and loads in
// progress) and sweep (blobs and snapshots nobody references) under the exclusive gc lock, so a
// concurrent pull either added its content to its lease before gc looked, or makes that content
// afresh after gc is done (lease.hpp). ingest/ is left to recover(). Lock files nobody holds are
// removed under their own flock (store_fs.hpp says why that cannot split a lock). The policy
// (gc_policy.hpp) first removes the image records it picks; the sweep then frees their content.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <ctime>
#include <map>
#include <set>
#include <utility>
#include "image/gc_policy.hpp"
#include "image/image.hpp"
#include "image/lease.hpp"
#include "image/records.hpp"
#include "image/store_fs.hpp"

namespace berth::image {
namespace {

// Disk bytes of a tree, each inode once (hardlinks inside a layer are common).
std::uint64_t tree_bytes(int dir, std::set<std::pair<dev_t, ino_t>>& seen)
{
    std::uint64_t total = 0;
    const int copy = ::dup(dir);
    DIR* d = copy < 0 ? nullptr : ::fdopendir(copy);
    if (!d) {
        if (copy >= 0)
            ::close(copy);
        return 0;
    }
    while (dirent* e = ::readdir(d)) { // NOLINT(concurrency-mt-unsafe): own DIR stream
        const std::string_view name = e->d_name;
        if (name == "." || name == "..")
            continue;
        struct stat st {};
        if (::fstatat(dir, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (seen.emplace(st.st_dev, st.st_ino).second)
            total += static_cast<std::uint64_t>(st.st_blocks) * 512;
        if (S_ISDIR(st.st_mode)) {
            const Fd sub(::openat(dir, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (sub.valid())
                total += tree_bytes(sub.get(), seen);
        }
    }
    ::closedir(d);
    return total;
}

// prune --all: image records that no named lease holds go first.
Result<void> remove_unleased_images(Store& store, GcReport& report)
{
    auto leased = leased_manifests(store);
    if (!leased)
        return std::move(leased).error();
    auto records = store.list();
    if (!records)
        return std::move(records).error();
    for (const auto& record : *records) {
        if (leased->count(record.manifest_digest))
            continue;
        const auto file = record_file(store.root(), record.reference);
        if (::unlink(file.c_str()) < 0 && errno != ENOENT)
            return Error::from_errno("remove image ", quoted(record.reference));
        report.images.push_back(record.reference);
    }
    return {};
}

Result<void> sweep_blobs(const Store& store, const Roots& roots, GcReport& report)
{
    const auto dir = store.root() + "/blobs/sha256";
    for (const auto& hex : dir_names(dir)) {
        if (roots.blobs.count("sha256:" + hex))
            continue;
        const auto path = cat(dir, "/", hex);
        struct stat st {};
        if (::lstat(path.c_str(), &st) < 0)
            continue;
        if (::unlink(path.c_str()) < 0 && errno != ENOENT)
            return Error::from_errno("remove blob ", quoted(path));
        report.bytes_freed += static_cast<std::uint64_t>(st.st_blocks) * 512;
        ++report.blobs;
    }
    return {};
}

Result<void> sweep_snapshots(const Store& store, const Roots& roots, GcReport& report)
{
    const auto dir = store.root() + "/snapshots";
    for (const auto& hex : dir_names(dir)) {
        if (roots.chains.count("sha256:" + hex))
            continue;
        const auto path = cat(dir, "/", hex);
        std::set<std::pair<dev_t, ino_t>> seen;
        const Fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        const auto bytes = fd.valid() ? tree_bytes(fd.get(), seen) : 0;
        if (auto r = remove_tree(path); !r)
            return std::move(r).error().wrap("remove snapshot");
        report.bytes_freed += bytes;
        ++report.snapshots;
    }
    return {};
}

// Everything no root references; snapshots stay while an unknown container may use any.
Result<void> sweep(const Store& store, GcReport& report)
{
    auto roots = collect_roots(store);
    if (!roots)
        return std::move(roots).error();
    report.unknown_containers = roots->unknown_containers;
    if (auto r = sweep_blobs(store, *roots, report); !r)
        return r;
    if (!roots->unknown_containers.empty())
        return {};
    return sweep_snapshots(store, *roots, report);
}

// One image of the policy: every record naming the manifest.
Result<void> remove_image(const Store& store, const std::vector<ImageRecord>& records,
                          const std::string& manifest, GcReport& report)
{
    for (const auto& record : records) {
        if (record.manifest_digest != manifest)
            continue;
        const auto file = record_file(store.root(), record.reference);
        if (::unlink(file.c_str()) < 0 && errno != ENOENT)
            return Error::from_errno("remove image ", quoted(record.reference));
        report.images.push_back(record.reference);
    }
    return {};
}

std::vector<IdleImage> idle_images(const std::vector<ImageRecord>& records, const Roots& roots,
                                   const std::set<std::string>& leased)
{
    std::map<std::string, IdleImage> by_manifest;
    for (const auto& r : records) {
        auto& image = by_manifest[r.manifest_digest];
        image.manifest = r.manifest_digest;
        image.idle_since = std::max({image.idle_since, r.created, r.last_used});
        // A rootfs "uses" the image whose exact layer stack it mounts, whichever name it came by.
        image.in_use = image.in_use || leased.count(r.manifest_digest) ||
                       roots.live.count(r.manifest_digest) ||
                       (!r.chain.empty() && roots.mounted_tops.count(r.chain.back()));
    }
    std::vector<IdleImage> out;
    out.reserve(by_manifest.size());
    for (auto& [manifest, image] : by_manifest)
        out.push_back(std::move(image));
    return out;
}

Result<void> apply_policy(const Store& store, const GcPolicy& policy, std::int64_t now,
                          GcReport& report)
{
    auto leased = leased_manifests(store);
    if (!leased)
        return std::move(leased).error();
    auto roots = collect_roots(store);
    if (!roots)
        return std::move(roots).error();
    auto records = store.list();
    if (!records)
        return std::move(records).error();
    auto space = free_space(store.root());
    if (!space)
        return std::move(space).error();
    report.disk_pressure = under_pressure(*space, policy);
    if (!roots->unknown_containers.empty())
        return {}; // any image might be running in them
    const auto plan =
        plan_policy(idle_images(*records, *roots, *leased), policy, now, report.disk_pressure);
    for (const auto& manifest : plan.normal)
        if (auto r = remove_image(store, *records, manifest, report); !r)
            return r;
    for (const auto& manifest : plan.pressure) {
        if (auto r = sweep(store, report); !r)
            return r;
        space = free_space(store.root());
        if (!space)
            return std::move(space).error();
        if (!under_pressure(*space, policy))
            break;
        if (auto r = remove_image(store, *records, manifest, report); !r)
            return r;
    }
    return {};
}

// Lock files of finished pulls and loads (chains, load-<random>); gc.lock is ours, held.
void sweep_locks(const Store& store, GcReport& report)
{
    const auto dir = store.root() + "/locks";
    for (const auto& name : dir_names(dir)) {
        if (name == "gc.lock" || !name.ends_with(".lock"))
            continue;
        const auto path = cat(dir, "/", name);
        if (auto lock = try_lock_exclusive(path)) {
            unlink_held_lock(*lock, path);
            ++report.locks;
        }
    }
}

// Last-used stamps of manifests no record names any more.
void sweep_stamps(const Store& store)
{
    auto records = store.list();
    if (!records)
        return;
    std::set<std::string> named;
    for (const auto& r : *records)
        named.insert(digest_hex(r.manifest_digest));
    for (const auto& hex : dir_names(store.root() + "/used"))
        if (!named.count(hex))
            ::unlink(cat(store.root(), "/used/", hex).c_str());
}

} // namespace

Result<GcReport> Store::gc(const GcOptions& options)
{
    auto lock = lock_gc(root_, true);
    if (!lock)
        return std::move(lock).error().wrap("gc");
    GcReport report;
    if (options.unleased_images)
        if (auto r = remove_unleased_images(*this, report); !r)
            return std::move(r).error().wrap("gc");
    if (options.policy) {
        const auto now = options.now ? options.now : static_cast<std::int64_t>(std::time(nullptr));
        if (auto r = apply_policy(*this, *options.policy, now, report); !r)
            return std::move(r).error().wrap("gc policy");
    }
    if (auto r = sweep(*this, report); !r)
        return std::move(r).error().wrap("gc");
    sweep_locks(*this, report);
    sweep_stamps(*this);
    if (auto space = free_space(root_))
        report.free_bytes = space->free;
    return report;
}

} // namespace berth::image
