// image/lease.cpp — see lease.hpp; also Store::take_lease, release_lease and leases.
#include "image/lease.hpp"
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <ctime>
#include <random>
#include <nlohmann/json.hpp>
#include "base/files.hpp"
#include "base/small_hash.hpp"
#include "image/containers.hpp"
#include "image/gc_policy.hpp"
#include "image/records.hpp"
#include "image/store_fs.hpp"

namespace berth::image {
namespace {

constexpr std::size_t max_lease_file = std::size_t{16} << 20;

std::string leases_dir(const std::string& root)
{
    return root + "/leases";
}

std::string lease_file(const std::string& root, std::string_view name)
{
    // The kernel's SHA-256 (base/small_hash.hpp): a task's lease maps no libcrypto in berthd.
    return cat(leases_dir(root), "/", small_hash::hex(small_hash::sha256({name})), ".json");
}

Result<Lease> lease_from_json(std::string_view text)
{
    auto j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
    if (!j.is_object() || !j.contains("name") || !j["name"].is_string() || !j.contains("images") ||
        !j["images"].is_array())
        return Error::invalid("lease file: not the format berth writes");
    Lease lease{j["name"].get<std::string>(), {}, 0};
    if (j.contains("created") && j["created"].is_number_integer())
        lease.created = j["created"].get<std::int64_t>();
    for (const auto& image : j["images"]) {
        auto record = record_from_json(image.dump());
        if (!record)
            return std::move(record).error().wrap(cat("lease ", quoted(lease.name)));
        lease.images.push_back(std::move(*record));
    }
    return lease;
}

Result<std::vector<Lease>> read_leases(const std::string& root)
{
    std::vector<Lease> out;
    for (const auto& name : dir_names(leases_dir(root))) {
        if (!name.ends_with(".json"))
            continue;
        auto text = read_file(cat(leases_dir(root), "/", name), max_lease_file);
        if (!text) {
            if (text.error().code == ENOENT)
                continue; // released meanwhile
            return std::move(text).error();
        }
        auto lease = lease_from_json(*text);
        if (!lease) // a lease we cannot read must keep gc away, not be ignored
            return std::move(lease).error().wrap(cat(leases_dir(root), "/", name));
        out.push_back(std::move(*lease));
    }
    return out;
}

// A live lease's digests; a stale one (owner gone: its flock is free) is removed instead.
Result<void> add_live_roots(const std::string& path, Roots& roots)
{
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid())
        return errno == ENOENT ? Result<void>{} : Error::from_errno("open ", quoted(path));
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) {
        ::unlink(path.c_str()); // its pull or load died
        return {};
    }
    auto text = read_fd(fd.get(), max_lease_file);
    if (!text)
        return std::move(text).error().wrap(cat("read ", quoted(path)));
    for (auto line : split(*text, '\n')) {
        if (line.empty())
            continue;
        roots.blobs.emplace(line); // a chain ID in blobs (or a digest in chains) is harmless
        roots.chains.emplace(line);
        roots.live.emplace(line);
    }
    return {};
}

} // namespace

Result<Fd> lock_gc(const std::string& root, bool exclusive)
{
    auto fd = open_at(AT_FDCWD, root + "/locks/gc.lock", O_RDWR | O_CREAT, 0600);
    if (!fd)
        return std::move(fd).error();
    while (::flock(fd->get(), exclusive ? LOCK_EX : LOCK_SH) < 0)
        if (errno != EINTR)
            return Error::from_errno("flock the gc lock of ", quoted(root));
    return fd;
}

void Roots::add(const ImageRecord& record)
{
    blobs.insert(record.manifest_digest);
    blobs.insert(record.config_digest);
    blobs.insert(record.layers.begin(), record.layers.end());
    chains.insert(record.chain.begin(), record.chain.end());
}

Result<LiveLease> LiveLease::create(const std::string& root)
{
    if (auto r = make_directories(leases_dir(root), 0700); !r)
        return r.error();
    auto gc = lock_gc(root, false); // gc must not see the file before it is locked
    if (!gc)
        return std::move(gc).error();
    std::random_device rd;
    const auto path = cat(leases_dir(root), "/live.", std::hex, rd(), rd());
    auto fd = open_at(AT_FDCWD, path, O_RDWR | O_CREAT | O_EXCL | O_APPEND, 0600);
    if (!fd)
        return std::move(fd).error();
    if (::flock(fd->get(), LOCK_EX) < 0)
        return Error::from_errno("flock ", quoted(path));
    return LiveLease(root, path, std::move(*fd));
}

LiveLease::~LiveLease()
{
    if (!fd_.valid())
        return;
    // Under the shared gc lock: gc sees either this lease or the image record written before.
    auto gc = lock_gc(root_, false);
    ::unlink(path_.c_str());
}

Result<void> LiveLease::add(const std::vector<std::string>& ids)
{
    std::string lines;
    for (const auto& id : ids)
        lines += id + "\n";
    auto gc = lock_gc(root_, false);
    if (!gc)
        return std::move(gc).error();
    return write_all(fd_.get(), lines);
}

Result<Roots> collect_roots(const Store& store)
{
    Roots roots;
    auto leases = read_leases(store.root());
    if (!leases)
        return std::move(leases).error();
    for (const auto& lease : *leases)
        for (const auto& image : lease.images)
            roots.add(image);
    for (const auto& name : dir_names(leases_dir(store.root())))
        if (name.starts_with("live."))
            if (auto r = add_live_roots(cat(leases_dir(store.root()), "/", name), roots); !r)
                return r.error();
    auto use = scan_containers(store.root());
    roots.chains.merge(use.chains);
    roots.mounted_tops = std::move(use.tops);
    roots.unknown_containers = std::move(use.unknown);
    auto records = store.list();
    if (!records)
        return std::move(records).error();
    for (const auto& record : *records)
        roots.add(record);
    return roots;
}

Result<std::set<std::string>> leased_manifests(const Store& store)
{
    auto leases = read_leases(store.root());
    if (!leases)
        return std::move(leases).error();
    std::set<std::string> out;
    for (const auto& lease : *leases)
        for (const auto& image : lease.images)
            out.insert(image.manifest_digest);
    return out;
}

Result<void> Store::take_lease(std::string_view name, const std::vector<std::string>& references)
{
    if (name.empty() || name.size() > 1024)
        return Error::invalid("lease name must be 1 to 1024 bytes");
    if (auto r = make_directories(leases_dir(root_), 0700); !r)
        return r.error();
    // Resolved under the gc lock: the images cannot be collected between find and the write.
    auto gc = lock_gc(root_, false);
    if (!gc)
        return std::move(gc).error();
    nlohmann::json images = nlohmann::json::array();
    for (const auto& reference : references) {
        auto record = find(reference);
        if (!record)
            return std::move(record).error().wrap(cat("lease ", quoted(name)));
        images.push_back(nlohmann::json::parse(record_to_json(*record)));
    }
    const nlohmann::json j = {{"name", name}, {"images", images}, {"created", std::time(nullptr)}};
    if (auto r = replace_file(lease_file(root_, name), j.dump(2) + "\n"); !r)
        return r;
    for (const auto& image : images)
        touch_used(root_, image["manifest"].get<std::string>());
    return {};
}

Result<void> Store::release_lease(std::string_view name)
{
    auto gc = lock_gc(root_, false);
    if (!gc)
        return std::move(gc).error();
    const auto file = lease_file(root_, name);
    auto text = read_file(file, max_lease_file); // which images stop being used now
    auto lease = text ? lease_from_json(*text) : Result<Lease>(Error::invalid("unreadable"));
    if (::unlink(file.c_str()) < 0)
        return errno == ENOENT ? Error::with_code(ENOENT, "lease ", quoted(name), " is not held")
                               : Error::from_errno("release lease ", quoted(name));
    if (lease) // an unreadable lease still goes; its images just keep their older stamps
        for (const auto& image : lease->images)
            touch_used(root_, image.manifest_digest);
    return {};
}

Result<std::vector<Lease>> Store::leases() const
{
    return read_leases(root_);
}

} // namespace berth::image
