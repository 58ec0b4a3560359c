// image/rootfs.cpp — a container root as overlayfs over the image's snapshots. The new mount API
// adds each lower layer with its own fsconfig("lowerdir+") call (Linux 6.8), so the page-sized
// limit of a mount(2) option string never caps the layer count. Older kernels (Debian 12's 6.1,
// Amazon Linux 2's 5.10) refuse "lowerdir+" with EINVAL: there the layers go in one mount(2)
// option string as short relative links (Docker's overlay2 does the same), so that both paths
// stack as many layers as overlayfs allows (500; a clear error beyond it).
// Runs as root on the host.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <vector>
#include "base/fd.hpp"
#include "base/files.hpp"
#include "image/gc_policy.hpp"
#include "image/image.hpp"
#include "image/internal.hpp"
#include "image/lease.hpp"
#include "image/store_fs.hpp"

namespace berth::image {
namespace {

// overlayfs stacks at most this many lower layers (its OVL_MAX_STACK), with either mount API.
constexpr std::size_t max_layers = 500;

std::atomic<bool> legacy_forced{false}; // force_legacy_overlay (internal.hpp): tests only

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

// The image's snapshot directories, topmost first (overlayfs' lowerdir order).
Result<std::vector<std::string>> lower_dirs(const Store& store, const ImageRecord& image)
{
    std::vector<std::string> lowers;
    for (auto it = image.chain.rbegin(); it != image.chain.rend(); ++it) {
        auto snapshot = store.snapshot_path(*it);
        if (!path_exists(snapshot))
            return Error::with_code(ENOENT, "snapshot ", *it, " is missing (pull again)");
        lowers.push_back(std::move(snapshot));
    }
    return lowers;
}

// dir/lower/<n> -> the snapshot's real (absolute) path, n counting the layers from the base:
// only the mount's option string has the page limit, not a link's target, and an absolute
// target holds wherever containers/ and snapshots/ live (either may be a symlink to another
// disk). Returns the dir, open.
Result<Fd> make_links(const std::vector<std::string>& lowers, const std::string& links)
{
    if (::mkdir(links.c_str(), 0700) < 0)
        return Error::from_errno("mkdir ", quoted(links));
    auto fd = open_at(AT_FDCWD, links, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (!fd)
        return std::move(fd).error();
    for (std::size_t i = 0; i < lowers.size(); ++i) {
        const std::unique_ptr<char, decltype(&std::free)> real(
            ::realpath(lowers[i].c_str(), nullptr), &std::free);
        if (!real)
            return Error::from_errno("snapshot ", quoted(lowers[i]));
        const std::string target = real.get();
        const auto name = std::to_string(lowers.size() - 1 - i);
        if (::symlinkat(target.c_str(), fd->get(), name.c_str()) < 0)
            return Error::from_errno("symlink ", quoted(cat(links, "/", name)));
    }
    return fd;
}

// mount(2) run by a thread of its own, which unshare(CLONE_FS) gives its own cwd (set to `cwd`)
// for the relative paths in `options`: berthd's other threads keep theirs.
Result<void> mount_from(const Fd& cwd, const std::string& options)
{
    Result<void> result;
    auto run = [&] {
        if (::unshare(CLONE_FS) < 0)
            result = Error::from_errno("unshare CLONE_FS");
        else if (::fchdir(cwd.get()) < 0)
            result = Error::from_errno("fchdir to the layer links");
        else if (::mount("overlay", "../merged", "overlay", 0, options.c_str()) < 0)
            result = Error::from_errno("mount overlay");
    };
    try {
        std::thread(run).join();
    } catch (const std::system_error& e) { // no thread to be had (EAGAIN)
        return Error::with_code(e.code().value(), "start the overlay mount thread");
    }
    return result;
}

// Kernels before 6.8: every layer in one option string of mount(2), at most a page long, where
// about 35 absolute snapshot paths fit. So the string names links in dir/lower ("...:1:0" and
// "../upper", under 2 KiB for 500 layers), resolved by overlayfs at mount time against that dir
// as cwd. The mount holds the layers themselves, so the links go right after it; a crash in
// between leaves them to unmount_and_remove, like the rest of the dir.
Result<void> mount_overlay_legacy(const std::vector<std::string>& lowers, const std::string& dir,
                                  const std::string& merged)
{
    const auto links = dir + "/lower";
    auto cwd = make_links(lowers, links);
    if (!cwd)
        return std::move(cwd).error().wrap("link the layers");
    std::string options = "lowerdir=";
    for (std::size_t i = 0; i < lowers.size(); ++i)
        options += (i == 0 ? "" : ":") + std::to_string(lowers.size() - 1 - i);
    options += ",upperdir=../upper,workdir=../work";
    auto r = mount_from(*cwd, options);
    (void)remove_tree(links);
    if (!r)
        return std::move(r).error().wrap(cat("overlay on ", quoted(merged)));
    return {};
}

Result<void> mount_overlay(const Store& store, const ImageRecord& image, const std::string& dir,
                           const std::string& merged)
{
    auto lowers = lower_dirs(store, image);
    if (!lowers)
        return std::move(lowers).error();
    if (legacy_forced)
        return mount_overlay_legacy(*lowers, dir, merged);
    Fd fs(::fsopen("overlay", FSOPEN_CLOEXEC));
    if (!fs.valid())
        return Error::from_errno("fsopen overlay");
    // Before 6.8 "lowerdir+" is refused here (6.5-6.7) or at create (older kernels, where
    // overlayfs parses the legacy option string only then).
    for (const auto& lower : *lowers)
        if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, "lowerdir+", lower.c_str(), 0) < 0) {
            if (errno == EINVAL)
                return mount_overlay_legacy(*lowers, dir, merged);
            return Error::from_errno("overlay option lowerdir+=", quoted(lower));
        }
    if (auto r = set_string(fs.get(), "upperdir", dir + "/upper"); !r)
        return r;
    if (auto r = set_string(fs.get(), "workdir", dir + "/work"); !r)
        return r;
    if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) {
        if (errno == EINVAL) // an old kernel's legacy parser met "lowerdir+"
            return mount_overlay_legacy(*lowers, dir, merged);
        return Error::from_errno("create overlay");
    }
    Fd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, 0));
    if (!mnt.valid())
        return Error::from_errno("fsmount overlay");
    if (::move_mount(mnt.get(), "", AT_FDCWD, merged.c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0)
        return Error::from_errno("move_mount to ", quoted(merged));
    return {};
}

// Upper and work go before the snapshot list, so gc never sees a dir with an upper but no list
// (what a container from before the lists looks like: containers.hpp).
Result<void> unmount_and_remove(const std::string& dir)
{
    const auto merged = dir + "/merged";
    if (::umount2(merged.c_str(), MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
        return Error::from_errno("unmount ", quoted(merged));
    for (const char* sub : {"/upper", "/work", "/merged", "/lower", "/image", "/snapshots"})
        if (auto r = remove_tree(dir + sub); !r)
            return r;
    return remove_tree(dir);
}

} // namespace

void force_legacy_overlay(bool on)
{
    legacy_forced = on;
}

Result<Rootfs> Rootfs::mount(const Store& store, const ImageRecord& image, const std::string& id)
{
    if (!valid_id(id))
        return Error::invalid("rootfs id ", quoted(id), ": letters, digits, '-', '_', '.' only");
    if (image.chain.empty())
        return Error::invalid("image ", image.reference, " has no layers");
    if (image.chain.size() > max_layers)
        return Error::with_code(E2BIG, "image ", image.reference, " has ", image.chain.size(),
                                " layers: overlayfs stacks at most ", max_layers);
    const auto dir = cat(store.root(), "/containers/", id);
    if (::mkdir(dir.c_str(), 0700) < 0)
        return Error::from_errno("rootfs ", quoted(id), ": mkdir ", quoted(dir));
    Rootfs rootfs(dir, dir + "/merged"); // from here the destructor cleans up
    rootfs.store_root_ = store.root();
    rootfs.manifest_ = image.manifest_digest;
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
        if (is_valid_digest(image.manifest_digest)) // for last_used when it goes after a restart
            (void)write_verified(dir, dir + "/image", image.manifest_digest);
    }
    touch_used(store.root(), image.manifest_digest);
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
      store_root_(std::move(other.store_root_)), manifest_(std::move(other.manifest_)),
      owned_(std::exchange(other.owned_, false))
{
}

Rootfs::~Rootfs()
{
    if (!owned_ || dir_.empty())
        return;
    (void)unmount_and_remove(dir_);
    touch_used(store_root_, manifest_);
}

Result<void> Rootfs::remove(const Store& store, const std::string& id)
{
    if (!valid_id(id))
        return Error::invalid("rootfs id ", quoted(id), ": letters, digits, '-', '_', '.' only");
    const auto dir = cat(store.root(), "/containers/", id);
    if (!path_exists(dir))
        return Error::with_code(ENOENT, "rootfs ", quoted(id), " does not exist");
    auto manifest = read_file(dir + "/image", 256);
    if (auto r = unmount_and_remove(dir); !r)
        return std::move(r).error().wrap(cat("remove rootfs ", quoted(id)));
    if (manifest)
        touch_used(store.root(), *manifest);
    return {};
}

} // namespace berth::image
