// image/writer.cpp — see writer.hpp. No per-file fsync: the snapshot is synced once (syncfs) by
// finish() before it is renamed into place, so a crash leaves only a temp dir that recover()
// removes.
#include "image/writer.hpp"
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace berth::image {
namespace {

Result<Fd> open_in_root(int root, const std::string& path, std::uint64_t flags)
{
    open_how how{};
    how.flags = flags | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
    const long fd =
        ::syscall(SYS_openat2, root, path.empty() ? "." : path.c_str(), &how, sizeof how);
    if (fd < 0)
        return Error::from_errno("open ", quoted(path), " in the layer");
    return Fd(static_cast<int>(fd));
}

std::pair<std::string, std::string> split_last(const std::string& path)
{
    const auto slash = path.rfind('/');
    if (slash == std::string::npos)
        return {"", path};
    return {path.substr(0, slash), path.substr(slash + 1)};
}

// Removes whatever is at name so the entry can take its place (tar semantics: last one wins).
// A non-empty directory stays: replacing it by a non-directory is refused.
void remove_existing(int parent, const std::string& name)
{
    if (::unlinkat(parent, name.c_str(), 0) < 0 && errno == EISDIR)
        (void)::unlinkat(parent, name.c_str(), AT_REMOVEDIR);
}

} // namespace

Result<std::string> clean_layer_path(std::string_view path)
{
    std::string out;
    for (auto part : split(path, '/')) {
        if (part.empty() || part == ".")
            continue;
        if (part == "..")
            return Error::invalid("layer entry ", quoted(path), ": path climbs out with '..'");
        if (!out.empty())
            out += '/';
        out += part;
    }
    if (out.size() > 4095)
        return Error::invalid("layer entry ", quoted(path.substr(0, 64)), "...: path too long");
    return out;
}

Result<int> LayerWriter::parent_of(const std::string& dir_path)
{
    if (dir_path == cached_path_)
        return cached_parent_.get();
    auto fd = open_in_root(root_.get(), dir_path, O_PATH | O_DIRECTORY);
    if (!fd && fd.error().code == ENOENT) { // implicit parents: make them one by one
        std::string sofar;
        for (auto part : split(dir_path, '/')) {
            auto at = open_in_root(root_.get(), sofar, O_PATH | O_DIRECTORY);
            if (!at)
                return std::move(at).error();
            const std::string name(part);
            if (::mkdirat(at->get(), name.c_str(), 0755) < 0 && errno != EEXIST)
                return Error::from_errno("mkdir ", quoted(cat(sofar, "/", name)), " in the layer");
            if (!sofar.empty())
                sofar += '/';
            sofar += name;
        }
        fd = open_in_root(root_.get(), dir_path, O_PATH | O_DIRECTORY);
    }
    if (!fd)
        return std::move(fd).error();
    cached_parent_ = std::move(*fd);
    cached_path_ = dir_path;
    return cached_parent_.get();
}

Result<void> LayerWriter::begin(const TarEntry& entry)
{
    auto path = clean_layer_path(entry.path);
    if (!path)
        return std::move(path).error();
    if (path->empty()) { // "./" itself: the snapshot root's metadata
        if (entry.type == '5')
            return metadata(root_.get(), entry);
        return Error::invalid("layer entry ", quoted(entry.path), ": the root is not a directory");
    }
    current_ = entry;
    current_.path = *path;
    auto [dir, name] = split_last(*path);
    auto parent = parent_of(dir);
    if (!parent)
        return std::move(parent).error().wrap(cat("layer entry ", quoted(*path)));
    if (name.starts_with(".wh."))
        return whiteout(*parent, name, *path);
    auto r = create(current_, *parent, name);
    if (!r)
        return std::move(r).error().wrap(cat("layer entry ", quoted(*path)));
    return {};
}

Result<void> LayerWriter::whiteout(int parent, const std::string& name, const std::string& path)
{
    if (name == ".wh..wh..opq") {
        if (::fsetxattr(parent, "trusted.overlay.opaque", "y", 1, 0) < 0) {
            // O_PATH fds cannot carry xattrs: reopen the directory for it.
            auto [dir, _] = split_last(path);
            auto d = open_in_root(root_.get(), dir, O_RDONLY | O_DIRECTORY);
            if (!d || ::fsetxattr(d->get(), "trusted.overlay.opaque", "y", 1, 0) < 0)
                return Error::from_errno("layer entry ", quoted(path), ": mark opaque");
        }
        return {};
    }
    const auto target = name.substr(4);
    if (target.empty() || target == "." || target == ".." || target.starts_with(".wh."))
        return Error::invalid("layer entry ", quoted(path), ": bad whiteout name");
    remove_existing(parent, target);
    if (::mknodat(parent, target.c_str(), S_IFCHR | 0000, makedev(0, 0)) < 0)
        return Error::from_errno("layer entry ", quoted(path), ": whiteout");
    return {};
}

Result<void> LayerWriter::create(const TarEntry& e, int parent, const std::string& name)
{
    const char* n = name.c_str();
    switch (e.type) {
    case '5': {
        if (::mkdirat(parent, n, 0700) < 0) {
            struct stat st {};
            if (errno != EEXIST || ::fstatat(parent, n, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return Error::from_errno("mkdir");
            if (!S_ISDIR(st.st_mode)) {
                remove_existing(parent, name);
                if (::mkdirat(parent, n, 0700) < 0)
                    return Error::from_errno("mkdir");
            }
        }
        auto d = open_in_root(root_.get(), e.path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        if (!d)
            return std::move(d).error();
        dir_times_.push_back({e.path, e.mtime});
        return metadata(d->get(), e);
    }
    case '0': {
        constexpr int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
        int fd = ::openat(parent, n, flags, 0600);
        if (fd < 0 && errno == EEXIST) {
            remove_existing(parent, name);
            fd = ::openat(parent, n, flags, 0600);
        }
        if (fd < 0)
            return Error::from_errno("create");
        file_.reset(fd);
        return {};
    }
    case '1': return hardlink(e, parent, name);
    case '2':
        if (::symlinkat(e.link.c_str(), parent, n) < 0) {
            if (errno != EEXIST)
                return Error::from_errno("symlink");
            remove_existing(parent, name);
            if (::symlinkat(e.link.c_str(), parent, n) < 0)
                return Error::from_errno("symlink");
        }
        if (::fchownat(parent, n, e.uid, e.gid, AT_SYMLINK_NOFOLLOW) < 0)
            return Error::from_errno("chown symlink");
        {
            const timespec times[2] = {{e.mtime, 0}, {e.mtime, 0}};
            (void)::utimensat(parent, n, times, AT_SYMLINK_NOFOLLOW); // best effort
        }
        return {};
    default: { // '3' char, '4' block, '6' fifo
        const mode_t kind = e.type == '3' ? S_IFCHR : e.type == '4' ? S_IFBLK : S_IFIFO;
        remove_existing(parent, name);
        if (::mknodat(parent, n, kind | (e.mode & 07777), makedev(e.dev_major, e.dev_minor)) < 0)
            return Error::from_errno("mknod");
        if (::fchownat(parent, n, e.uid, e.gid, AT_SYMLINK_NOFOLLOW) < 0 ||
            ::fchmodat(parent, n, e.mode & 07777, 0) < 0)
            return Error::from_errno("chown/chmod device");
        return {};
    }
    }
}

Result<void> LayerWriter::hardlink(const TarEntry& e, int parent, const std::string& name)
{
    auto target = clean_layer_path(e.link);
    if (!target)
        return std::move(target).error();
    if (target->empty())
        return Error::invalid("hardlink to the layer root");
    auto [tdir, tname] = split_last(*target);
    auto tparent = open_in_root(root_.get(), tdir, O_PATH | O_DIRECTORY);
    if (!tparent)
        return std::move(tparent).error().wrap(cat("hardlink target ", quoted(e.link)));
    remove_existing(parent, name);
    // No AT_SYMLINK_FOLLOW: a target that is a symlink is linked itself, never followed out.
    if (::linkat(tparent->get(), tname.c_str(), parent, name.c_str(), 0) < 0)
        return Error::from_errno("hardlink to ", quoted(e.link));
    return {};
}

Result<void> LayerWriter::metadata(int fd, const TarEntry& e)
{
    if (::fchown(fd, e.uid, e.gid) < 0)
        return Error::from_errno("chown");
    if (::fchmod(fd, e.mode & 07777) < 0) // after chown: chown clears set-id bits
        return Error::from_errno("chmod");
    for (const auto& [key, value] : e.xattrs) {
        if (key.starts_with("trusted.overlay."))
            continue; // a layer must not forge overlay metadata (opaque, redirect, origin)
        if (::fsetxattr(fd, key.c_str(), value.data(), value.size(), 0) < 0 && errno != ENOTSUP)
            return Error::from_errno("set xattr ", quoted(key));
    }
    return {};
}

Result<void> LayerWriter::data(const char* bytes, std::size_t size)
{
    while (size > 0) {
        const auto n = ::write(file_.get(), bytes, size);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return Error::from_errno("layer entry ", quoted(current_.path), ": write");
        }
        bytes += n;
        size -= static_cast<std::size_t>(n);
    }
    return {};
}

Result<void> LayerWriter::end()
{
    if (!file_.valid())
        return {};
    auto r = metadata(file_.get(), current_);
    const timespec times[2] = {{current_.mtime, 0}, {current_.mtime, 0}};
    if (r && ::futimens(file_.get(), times) < 0)
        r = Error::from_errno("set times");
    file_.reset();
    if (!r)
        return std::move(r).error().wrap(cat("layer entry ", quoted(current_.path)));
    return {};
}

Result<void> LayerWriter::finish()
{
    for (auto it = dir_times_.rbegin(); it != dir_times_.rend(); ++it) {
        auto d = open_in_root(root_.get(), it->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        if (!d)
            continue; // removed or replaced later in the layer
        const timespec times[2] = {{it->mtime, 0}, {it->mtime, 0}};
        (void)::futimens(d->get(), times); // best effort, like tar
    }
    if (::syncfs(root_.get()) < 0)
        return Error::from_errno("syncfs");
    return {};
}

} // namespace berth::image
