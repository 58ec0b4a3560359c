// image/rootfs.cpp — a container root as overlayfs over the image's snapshots. The new mount API
// adds each lower layer with its own fsconfig("lowerdir+") call (Linux 6.8), so the page-sized
// limit of a mount(2) option string never caps the layer count. Runs as root on the host.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "base/fd.hpp"
#include "base/files.hpp"
#include "image/image.hpp"
#include "image/lease.hpp"
#include "image/store_fs.hpp"

namespace berth::image {
namespace {

bool valid_id(std::string_view id)
{
    if (id.empty() || id.size() > 128 || id.front() == '.')
        return false;
    for (char c : id)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
            return false;
    return true;
}

Result<void> set_string(int fs, const char* key, const std::string& value)
{
    if (::fsconfig(fs, FSCONFIG_SET_STRING, key, value.c_str(), 0) < 0)
        return Error::from_errno("overlay option ", key, "=", quoted(value));
    return {};
}

Result<void> mount_overlay(const Store& store, const ImageRecord& image, const std::string& dir,
                           const std::string& merged)
{
    Fd fs(::fsopen("overlay", FSOPEN_CLOEXEC));
    if (!fs.valid())
        return Error::from_errno("fsopen overlay");
    for (auto it = image.chain.rbegin(); it != image.chain.rend(); ++it) { // topmost first
        const auto snapshot = store.snapshot_path(*it);
        if (!path_exists(snapshot))
            return Error::with_code(ENOENT, "snapshot ", *it, " is missing (pull again)");
        if (auto r = set_string(fs.get(), "lowerdir+", snapshot); !r)
            return r;
    }
    if (auto r = set_string(fs.get(), "upperdir", dir + "/upper"); !r)
        return r;
    if (auto r = set_string(fs.get(), "workdir", dir + "/work"); !r)
        return r;
    if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0)
        return Error::from_errno("create overlay");
    Fd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, 0));
    if (!mnt.valid())
        return Error::from_errno("fsmount overlay");
    if (::move_mount(mnt.get(), "", AT_FDCWD, merged.c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0)
        return Error::from_errno("move_mount to ", quoted(merged));
    return {};
}

} // namespace

Result<Rootfs> Rootfs::mount(const Store& store, const ImageRecord& image, const std::string& id)
{
    if (!valid_id(id))
        return Error::invalid("rootfs id ", quoted(id), ": letters, digits, '-', '_', '.' only");
    if (image.chain.empty())
        return Error::invalid("image ", image.reference, " has no layers");
    const auto dir = cat(store.root(), "/containers/", id);
    if (::mkdir(dir.c_str(), 0700) < 0)
        return Error::from_errno("rootfs ", quoted(id), ": mkdir ", quoted(dir));
    Rootfs rootfs(dir, dir + "/merged"); // from here the destructor cleans up
    // gc keeps the snapshots of every container dir (lease.hpp): written under the gc lock, so
    // a gc either ran before (and the mount finds a snapshot missing) or sees the list.
    std::string chains;
    for (const auto& c : image.chain)
        chains += c + "\n";
    {
        auto gc = lock_gc(store.root(), false);
        if (!gc)
            return std::move(gc).error().wrap(cat("rootfs ", quoted(id)));
        if (auto r = write_verified(dir, dir + "/snapshots", chains); !r)
            return std::move(r).error().wrap(cat("rootfs ", quoted(id)));
    }
    for (const char* sub : {"/upper", "/work", "/merged"})
        if (::mkdir((dir + sub).c_str(), 0755) < 0)
            return Error::from_errno("rootfs ", quoted(id), ": mkdir ", sub);
    if (auto r = mount_overlay(store, image, dir, rootfs.merged_); !r)
        return std::move(r).error().wrap(cat("rootfs ", quoted(id), " of ", image.reference));
    return rootfs;
}

Result<Rootfs> Rootfs::adopt(const Store& store, const std::string& id)
{
    if (!valid_id(id))
        return Error::invalid("rootfs id ", quoted(id), ": letters, digits, '-', '_', '.' only");
    const auto dir = cat(store.root(), "/containers/", id);
    struct stat st {};
    if (::lstat(dir.c_str(), &st) < 0)
        return Error::from_errno("rootfs ", quoted(id), ": ", quoted(dir));
    if (!S_ISDIR(st.st_mode))
        return Error::with_code(ENOTDIR, "rootfs ", quoted(id), ": ", quoted(dir));
    return Rootfs(dir, dir + "/merged");
}

Rootfs::Rootfs(Rootfs&& other) noexcept
    : dir_(std::move(other.dir_)), merged_(std::move(other.merged_)),
      owned_(std::exchange(other.owned_, false))
{
}

Rootfs::~Rootfs()
{
    if (!owned_ || dir_.empty())
        return;
    (void)::umount2(merged_.c_str(), MNT_DETACH); // EINVAL when mounting had failed: fine
    (void)remove_tree(dir_);
}

} // namespace berth::image
