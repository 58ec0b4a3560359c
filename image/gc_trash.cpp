// image/gc_trash.cpp — see gc_trash.hpp. Entries are named b.<hex> (a blob) or s.<hex> (a
// snapshot), so empty() can count each kind.
#include "image/gc_trash.hpp"
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ctime>
#include <random>
#include <set>
#include "base/files.hpp"
#include "image/store_fs.hpp"

namespace berth::image {
namespace {

using Seen = std::set<std::pair<dev_t, ino_t>>;

constexpr std::time_t young_trash_s = 10; // empty_stale_trash leaves younger dirs alone

std::string trash_root(const std::string& root)
{
    return root + "/trash";
}

// Disk bytes of the tree `name` in at, each inode once (hardlinks inside a layer are common).
std::uint64_t tree_bytes(int at, const char* name, Seen& seen)
{
    struct stat st {};
    if (::fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return 0;
    std::uint64_t total = 0;
    if (seen.emplace(st.st_dev, st.st_ino).second)
        total += static_cast<std::uint64_t>(st.st_blocks) * 512;
    if (!S_ISDIR(st.st_mode))
        return total;
    const int fd = ::openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR* d = fd < 0 ? nullptr : ::fdopendir(fd);
    if (!d) {
        if (fd >= 0)
            ::close(fd);
        return total;
    }
    while (dirent* e = ::readdir(d)) { // NOLINT(concurrency-mt-unsafe): own DIR stream
        const std::string_view child = e->d_name;
        if (child != "." && child != "..")
            total += tree_bytes(fd, e->d_name, seen);
    }
    ::closedir(d); // closes fd
    return total;
}

// Removes a trash dir's entries and then the dir; counts them into report.
Result<void> empty_dir(const std::string& dir, GcReport& report)
{
    const Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    for (const auto& name : dir_names(dir)) {
        Seen seen;
        report.bytes_freed += fd.valid() ? tree_bytes(fd.get(), name.c_str(), seen) : 0;
        if (auto r = remove_tree(cat(dir, "/", name)); !r)
            return std::move(r).error().wrap("gc: empty the trash");
        ++(name.starts_with("s.") ? report.snapshots : report.blobs);
    }
    if (::rmdir(dir.c_str()) < 0 && errno != ENOENT)
        return Error::from_errno("gc: remove ", quoted(dir));
    return {};
}

} // namespace

Result<Trash> Trash::create(const std::string& root)
{
    if (auto r = make_directories(trash_root(root), 0700); !r)
        return r.error();
    std::random_device rd;
    const auto dir = cat(trash_root(root), "/", std::hex, rd(), rd());
    if (::mkdir(dir.c_str(), 0700) < 0)
        return Error::from_errno("gc: mkdir ", quoted(dir));
    Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid() || ::flock(fd.get(), LOCK_EX) < 0)
        return Error::from_errno("gc: lock ", quoted(dir));
    return Trash(root, dir, std::move(fd));
}

Result<void> Trash::take(const std::string& from, const std::string& as)
{
    if (::rename(from.c_str(), cat(dir_, "/", as).c_str()) < 0 && errno != ENOENT)
        return Error::from_errno("gc: move ", quoted(from), " to the trash");
    return {};
}

Result<void> Trash::take_blob(const std::string& name)
{
    return take(cat(root_, "/blobs/sha256/", name), "b." + name);
}

Result<void> Trash::take_snapshot(const std::string& name)
{
    return take(cat(root_, "/snapshots/", name), "s." + name);
}

Result<void> Trash::empty(GcReport& report)
{
    return empty_dir(dir_, report);
}

Result<void> empty_stale_trash(const std::string& root)
{
    for (const auto& name : dir_names(trash_root(root))) {
        const auto dir = cat(trash_root(root), "/", name);
        const Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd.valid() || ::flock(fd.get(), LOCK_EX | LOCK_NB) < 0)
            continue; // gone, or a gc is emptying it now
        // Trash::create makes its dir, then locks it: one made moments ago may be between the
        // two (emptied and removed here, its gc would move things into nothing and report
        // success). A gc's trash is locked within microseconds; a crash's leftover waits.
        struct stat st {};
        if (::fstat(fd.get(), &st) < 0 || st.st_mtime > std::time(nullptr) - young_trash_s)
            continue;
        GcReport ignored;
        if (auto r = empty_dir(dir, ignored); !r)
            return r;
    }
    return {};
}

} // namespace berth::image
