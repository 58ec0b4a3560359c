// image/store_fs.cpp — see store_fs.hpp.
#include "image/store_fs.hpp"
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <optional>
#include "base/files.hpp"
#include "base/strings.hpp"

namespace berth::image {
namespace {

Result<void> remove_children(int dir, dev_t dev)
{
    const int copy = ::dup(dir);
    if (copy < 0)
        return Error::from_errno("dup");
    DIR* d = ::fdopendir(copy);
    if (!d) {
        ::close(copy);
        return Error::from_errno("fdopendir");
    }
    Result<void> result;
    while (dirent* e = ::readdir(d)) { // NOLINT(concurrency-mt-unsafe): own DIR stream
        const std::string_view name = e->d_name;
        if (name == "." || name == "..")
            continue;
        struct stat st {};
        if (::fstatat(dir, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (st.st_dev != dev) {
                result = Error::with_code(EBUSY, "a mount point inside: ", quoted(name));
                continue;
            }
            const int sub =
                ::openat(dir, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0) {
                auto r = remove_children(sub, dev);
                ::close(sub);
                if (!r)
                    result = std::move(r);
            }
            if (::unlinkat(dir, e->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                result = Error::from_errno("rmdir ", quoted(name));
        } else if (::unlinkat(dir, e->d_name, 0) < 0 && errno != ENOENT) {
            result = Error::from_errno("unlink ", quoted(name));
        }
    }
    ::closedir(d);
    return result;
}

} // namespace

std::string digest_hex(std::string_view digest)
{
    const auto colon = digest.find(':');
    return std::string(colon == std::string_view::npos ? digest : digest.substr(colon + 1));
}

Result<Fd> open_tmpfile(const std::string& dir)
{
    return open_at(AT_FDCWD, dir, O_TMPFILE | O_RDWR, 0644);
}

Result<void> link_tmpfile(const Fd& fd, const std::string& path)
{
    const auto proc = cat("/proc/self/fd/", fd.get());
    if (::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, path.c_str(), AT_SYMLINK_FOLLOW) < 0 &&
        errno != EEXIST)
        return Error::from_errno("link ", quoted(path));
    return {};
}

Result<void> write_verified(const std::string& dir, const std::string& path, std::string_view bytes)
{
    auto fd = open_tmpfile(dir);
    if (!fd)
        return std::move(fd).error();
    if (auto r = write_all(fd->get(), bytes); !r)
        return std::move(r).error().wrap(cat("write ", quoted(path)));
    if (::fdatasync(fd->get()) < 0)
        return Error::from_errno("fdatasync ", quoted(path));
    return link_tmpfile(*fd, path);
}

Result<void> replace_file(const std::string& path, std::string_view bytes)
{
    // The temp name carries our pid and we hold its flock until the rename: remove_stale_temps()
    // only takes one whose writer is gone by both counts (see store_fs.hpp).
    const auto temp = cat(path, ".", ::getpid(), ".", ::gettid(), ".tmp");
    auto fd = lock_exclusive(temp); // re-opens if recover() removed the name before our flock
    if (!fd)
        return std::move(fd).error();
    Result<void> r;
    // A stale file of a dead thread with our pid and tid: the same name, so start it afresh.
    if (::ftruncate(fd->get(), 0) < 0 || ::fchmod(fd->get(), 0644) < 0)
        r = Error::from_errno("prepare ", quoted(temp));
    if (r)
        r = write_all(fd->get(), bytes);
    if (r && ::fsync(fd->get()) < 0)
        r = Error::from_errno("fsync ", quoted(temp));
    if (r && ::rename(temp.c_str(), path.c_str()) < 0)
        r = Error::from_errno("rename ", quoted(temp), " to ", quoted(path));
    if (!r)
        ::unlink(temp.c_str());
    return r;
}

namespace {

// Whether path still names the file fd holds: a lock file is only ever unlinked by someone
// holding its flock (unlink_held_lock), so once this is true it stays true while we hold it.
Result<bool> still_named(const Fd& fd, const std::string& path)
{
    struct stat held {
    }, named{};
    if (::fstat(fd.get(), &held) < 0)
        return Error::from_errno("fstat ", quoted(path));
    if (::stat(path.c_str(), &named) < 0)
        return errno == ENOENT ? Result<bool>(false) : Error::from_errno("stat ", quoted(path));
    return held.st_dev == named.st_dev && held.st_ino == named.st_ino;
}

} // namespace

Result<Fd> lock_exclusive(const std::string& path)
{
    for (;;) {
        auto fd = open_at(AT_FDCWD, path, O_RDWR | O_CREAT, 0600);
        if (!fd)
            return std::move(fd).error();
        while (::flock(fd->get(), LOCK_EX) < 0)
            if (errno != EINTR)
                return Error::from_errno("flock ", quoted(path));
        auto named = still_named(*fd, path);
        if (!named)
            return std::move(named).error();
        if (*named)
            return fd;
        // gc removed the file while we waited for it: lock the one at the path now.
    }
}

Result<Fd> try_lock_exclusive(const std::string& path)
{
    auto fd = open_at(AT_FDCWD, path, O_RDWR | O_NOFOLLOW);
    if (!fd)
        return std::move(fd).error();
    if (::flock(fd->get(), LOCK_EX | LOCK_NB) < 0)
        return Error::from_errno("flock ", quoted(path));
    auto named = still_named(*fd, path);
    if (!named)
        return std::move(named).error();
    if (!*named)
        return Error::with_code(ENOENT, "lock ", quoted(path), " was removed");
    return fd;
}

void unlink_held_lock(const Fd& fd, const std::string& path)
{
    if (auto named = still_named(fd, path); named && *named)
        ::unlink(path.c_str());
}

Result<void> remove_tree(const std::string& path)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return {};
        if (errno == ENOTDIR || errno == ELOOP) {
            if (::unlink(path.c_str()) < 0 && errno != ENOENT)
                return Error::from_errno("unlink ", quoted(path));
            return {};
        }
        return Error::from_errno("open ", quoted(path));
    }
    struct stat st {};
    ::fstat(fd, &st);
    auto r = remove_children(fd, st.st_dev);
    ::close(fd);
    if (!r)
        return std::move(r).error().wrap(cat("remove ", quoted(path)));
    if (::rmdir(path.c_str()) < 0 && errno != ENOENT)
        return Error::from_errno("rmdir ", quoted(path));
    return {};
}

namespace {

// The writer's pid in "<name>.<pid>.<tid>.tmp" (replace_file's temp names); none otherwise.
std::optional<pid_t> temp_writer(std::string_view name)
{
    if (!name.ends_with(".tmp"))
        return std::nullopt;
    name.remove_suffix(4);
    const auto tid_dot = name.rfind('.');
    if (tid_dot == std::string_view::npos || !parse_int<pid_t>(name.substr(tid_dot + 1)))
        return std::nullopt;
    name = name.substr(0, tid_dot);
    const auto pid_dot = name.rfind('.');
    if (pid_dot == std::string_view::npos)
        return std::nullopt;
    auto pid = parse_int<pid_t>(name.substr(pid_dot + 1));
    if (!pid || *pid <= 0)
        return std::nullopt;
    return pid;
}

bool process_exists(pid_t pid)
{
    return ::kill(pid, 0) == 0 || errno == EPERM;
}

} // namespace

void remove_stale_temps(const std::string& dir)
{
    for (const auto& name : dir_names(dir)) {
        const auto pid = temp_writer(name);
        if (!pid || process_exists(*pid))
            continue;
        const auto path = cat(dir, "/", name);
        auto lock = try_lock_exclusive(path); // held: a writer in another pid namespace
        if (lock)
            unlink_held_lock(*lock, path);
    }
}

std::vector<std::string> dir_names(const std::string& dir)
{
    std::vector<std::string> names;
    DIR* d = ::opendir(dir.c_str());
    if (!d)
        return names;
    while (dirent* e = ::readdir(d)) { // NOLINT(concurrency-mt-unsafe): own DIR stream
        const std::string_view name = e->d_name;
        if (name != "." && name != "..")
            names.emplace_back(name);
    }
    ::closedir(d);
    return names;
}

} // namespace berth::image
