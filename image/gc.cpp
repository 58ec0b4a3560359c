// image/gc.cpp — Store::gc: mark (records, named leases, live leases of pulls and loads in
// progress, containers' snapshot lists) and move what nobody references into the trash, under the
// exclusive gc lock, so a concurrent pull either added its content to its lease before gc looked,
// or makes that content afresh after (lease.hpp); then empty the trash with the lock released, so
// pulls and leases never wait for the removal of trees (gc_trash.hpp). ingest/ is left to
// recover(). Lock files nobody holds are removed under their own flock (store_fs.hpp says why
// that cannot split a lock). The policy (gc_policy.hpp) first removes the image records it picks;
// the sweep then frees their content. Under disk pressure it goes one image at a time, each
// under the lock again, until the trash emptied brings free space back above the threshold.
#include <unistd.h>
#include <algorithm>
#include <ctime>
#include <functional>
#include <map>
#include <set>
#include <utility>
#include "image/gc_policy.hpp"
#include "image/gc_trash.hpp"
#include "image/image.hpp"
#include "image/lease.hpp"
#include "image/records.hpp"
#include "image/store_fs.hpp"

namespace berth::image {
namespace {

// Unlinks the records `pick` selects (prune --all, the policy); names them in report.
Result<void> remove_records(const Store& store, const std::function<bool(const ImageRecord&)>& pick,
                            GcReport& report)
{
    auto records = store.list();
    if (!records)
        return std::move(records).error();
    for (const auto& record : *records) {
        if (!pick(record))
            continue;
        const auto file = record_file(store.root(), record.reference);
        if (::unlink(file.c_str()) < 0) {
            if (errno != ENOENT)
                return Error::from_errno("remove image ", quoted(record.reference));
            continue; // removed meanwhile (or never under that name): not ours to report
        }
        report.images.push_back(record.reference);
    }
    return {};
}

// Blobs and snapshots no root references go to the trash; snapshots stay while an unknown
// container may use any. Under the exclusive gc lock.
Result<void> trash_unreferenced(const Store& store, Trash& trash, GcReport& report)
{
    auto roots = collect_roots(store);
    if (!roots)
        return std::move(roots).error();
    report.unknown_containers = roots->unknown_containers;
    struct Kind {
        const char* dir;
        const std::set<std::string>& kept;
        Result<void> (Trash::*take)(const std::string&);
    };
    std::vector<Kind> kinds{{"/blobs/sha256", roots->blobs, &Trash::take_blob}};
    if (roots->unknown_containers.empty())
        kinds.push_back({"/snapshots", roots->chains, &Trash::take_snapshot});
    for (const auto& kind : kinds)
        for (const auto& hex : dir_names(store.root() + kind.dir))
            if (!kind.kept.count("sha256:" + hex))
                if (auto r = (trash.*kind.take)(hex); !r)
                    return r;
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

// The policy's plan as things stand (under the gc lock); none while unknown containers exist.
Result<PolicyPlan> plan_now(const Store& store, const GcPolicy& policy, std::int64_t now,
                            bool pressured)
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
    if (!roots->unknown_containers.empty())
        return PolicyPlan{}; // any image might be running in them
    return plan_policy(idle_images(*records, *roots, *leased), policy, now, pressured);
}

Result<void> remove_image(const Store& store, const std::string& manifest, GcReport& report)
{
    return remove_records(
        store, [&](const ImageRecord& r) { return r.manifest_digest == manifest; }, report);
}

// One locked step: `first` (record removals) then the unreferenced content into a trash, which
// is emptied after the lock is released.
Result<void> locked_sweep(const Store& store, const std::function<Result<void>()>& first,
                          GcReport& report)
{
    auto trash = Trash::create(store.root());
    if (!trash)
        return std::move(trash).error();
    {
        auto lock = lock_gc(store.root(), true);
        if (!lock)
            return std::move(lock).error();
        if (auto r = first(); !r)
            return r;
        if (auto r = trash_unreferenced(store, *trash, report); !r)
            return r;
    }
    return trash->empty(report);
}

// prune --all: the records no named lease holds.
Result<void> remove_unleased(const Store& store, GcReport& report)
{
    auto leased = leased_manifests(store);
    if (!leased)
        return std::move(leased).error();
    return remove_records(
        store, [&](const ImageRecord& r) { return !leased->count(r.manifest_digest); }, report);
}

// The policy's images idle long enough (under the gc lock).
Result<void> remove_idle(const Store& store, const GcPolicy& policy, std::int64_t now,
                         GcReport& report)
{
    auto plan = plan_now(store, policy, now, false);
    if (!plan)
        return std::move(plan).error();
    for (const auto& manifest : plan->normal)
        if (auto r = remove_image(store, manifest, report); !r)
            return r;
    return {};
}

// Under disk pressure more idle images, one per locked step (re-planned each time: a lease may
// have taken one meanwhile), until free space is back above the threshold or none is left.
Result<void> relieve_pressure(const Store& store, const GcPolicy& policy, std::int64_t now,
                              GcReport& report)
{
    auto pressure_policy = policy;
    pressure_policy.images_per_cycle = 0; // every idle image is a pressure candidate now
    for (bool removed = true; removed;) {
        auto space = free_space(store.root());
        if (!space)
            return std::move(space).error();
        if (!under_pressure(*space, policy))
            return {};
        removed = false;
        auto next = [&]() -> Result<void> {
            auto plan = plan_now(store, pressure_policy, now, true);
            if (!plan)
                return std::move(plan).error();
            if (plan->pressure.empty())
                return {};
            const auto before = report.images.size();
            auto r = remove_image(store, plan->pressure.front(), report);
            removed = report.images.size() > before; // else the same plan again: stop
            return r;
        };
        if (auto r = locked_sweep(store, next, report); !r)
            return r;
    }
    return {};
}

// Lock files of finished pulls and loads (chains, load-<random>); gc.lock stays.
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
    GcReport report;
    if (auto r = empty_stale_trash(root_); !r)
        return std::move(r).error().wrap("gc");
    const auto now = options.now ? options.now : static_cast<std::int64_t>(std::time(nullptr));
    if (options.policy) {
        auto space = free_space(root_);
        if (!space)
            return std::move(space).error().wrap("gc policy");
        report.disk_pressure = under_pressure(*space, *options.policy);
    }
    auto records_first = [&]() -> Result<void> {
        if (options.unleased_images)
            if (auto r = remove_unleased(*this, report); !r)
                return r;
        if (options.policy)
            return remove_idle(*this, *options.policy, now, report);
        return {};
    };
    if (auto r = locked_sweep(*this, records_first, report); !r)
        return std::move(r).error().wrap("gc");
    if (options.policy && report.disk_pressure)
        if (auto r = relieve_pressure(*this, *options.policy, now, report); !r)
            return std::move(r).error().wrap("gc policy");
    sweep_locks(*this, report);
    {
        auto lock = lock_gc(root_, true); // a pull writing a record must not lose its stamp
        if (!lock)
            return std::move(lock).error().wrap("gc");
        sweep_stamps(*this);
    }
    if (auto space = free_space(root_))
        report.free_bytes = space->free;
    return report;
}

} // namespace berth::image
