// image/gc.cpp — Store::gc: mark (records, named leases, live leases of pulls and loads in
// progress) and sweep (blobs and snapshots nobody references) under the exclusive gc lock, so a
// concurrent pull either added its content to its lease before gc looked, or makes that content
// afresh after gc is done (lease.hpp). ingest/ is left to recover(); lock files stay (removing a
// lock file another process is about to flock would split the lock).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <set>
#include <utility>
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
    auto roots = collect_roots(*this);
    if (!roots)
        return std::move(roots).error().wrap("gc");
    if (auto r = sweep_blobs(*this, *roots, report); !r)
        return std::move(r).error().wrap("gc");
    if (auto r = sweep_snapshots(*this, *roots, report); !r)
        return std::move(r).error().wrap("gc");
    return report;
}

} // namespace berth::image
