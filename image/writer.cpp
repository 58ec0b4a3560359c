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
#include "base/files.hpp"
#include "base/strings.hpp"

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

// The process umask without changing it (umask(2) can only set it): procfs, Linux 4.7+. ~0u if
// unknown. Another thread may change it meanwhile; then a file gets at most fewer mode bits than
// asked, never more (the umask only clears bits), and fchmod is skipped wrongly only then.
unsigned read_umask()
{
    auto status = read_file("/proc/self/status");
    if (!status)
        return ~0u;
    const auto at = status->find("\nUmask:\t");
    if (at == std::string::npos)
        return ~0u;
    const auto value = parse_int<unsigned>(std::string_view(*status).substr(at + 8, 4), 8);
    return value ? *value : ~0u;
}

// Whether new entries under root may inherit a default ACL (which replaces the umask).
bool has_default_acl(int root)
{
    if (::fgetxattr(root, "system.posix_acl_default", nullptr, 0) >= 0)
        return true;
    return errno != ENODATA && errno != ENOTSUP;
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

LayerWriter::LayerWriter(Fd root, std::uint64_t max_file_size)
    : root_(std::move(root)), max_file_size_(max_file_size), euid_(::geteuid()), egid_(::getegid()),
      umask_(read_umask()), default_acl_(has_default_acl(root_.get()))
{
}

// Removes whatever is at name so the entry can take its place (tar semantics: last one wins).
// A non-empty directory stays: replacing it by a non-directory is refused.
void LayerWriter::remove_existing(int parent, const std::string& name)
{
    if (::unlinkat(parent, name.c_str(), 0) == 0 ||
        (errno == EISDIR && ::unlinkat(parent, name.c_str(), AT_REMOVEDIR) == 0))
        dirs_stale_ = true; // a cached directory may be gone (or under what is gone)
}

Result<CachedDir*> LayerWriter::parent_of(const std::string& dir_path)
{
    if (auto* d = dirs_.find(dir_path))
        return d;
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
    struct stat st {};
    if (::fstat(fd->get(), &st) < 0)
        return Error::from_errno("stat ", quoted(dir_path), " in the layer");
    return &dirs_.insert(dir_path, std::move(*fd), st.st_gid, (st.st_mode & S_ISGID) != 0);
}

Result<void> LayerWriter::begin(const TarEntry& entry)
{
    auto path = clean_layer_path(entry.path);
    if (!path)
        return std::move(path).error();
    if (path->empty()) { // "./" itself: the snapshot root's metadata
        if (entry.type == '5') {
            dir_times_.push_back({"", entry.mtime});
            dirs_.clear(); // the root's cached gid and set-group-ID may change here
            return metadata(root_.get(), entry);
        }
        return Error::invalid("layer entry ", quoted(entry.path), ": the root is not a directory");
    }
    // The limit holds for the layer's sparse files together: each costs only its map in the
    // stream, so thousands of them would otherwise each be as large as the limit.
    if (entry.sparse && entry.size > max_file_size_ - sparse_bytes_)
        return Error::with_code(EFBIG, "layer entry ", quoted(*path), ": sparse file of ",
                                entry.size, " bytes, over the layer's limit of ", max_file_size_,
                                " (", sparse_bytes_, " bytes in its sparse files before it)");
    if (entry.sparse)
        sparse_bytes_ += entry.size;
    current_ = entry;
    current_.path = *path;
    if (dirs_stale_) {
        dirs_.clear();
        dirs_stale_ = false;
    }
    auto [dir, name] = split_last(*path);
    auto parent = parent_of(dir);
    if (!parent)
        return std::move(parent).error().wrap(cat("layer entry ", quoted(*path)));
    if (name.starts_with(".wh."))
        return whiteout((*parent)->fd.get(), name, *path);
    auto r = create(current_, **parent, name);
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

// Like create_file: made with its final mode and owner where the kernel gives them anyway (not
// under a set-group-ID parent: a new directory inherits the bit), so fchown and fchmod are only
// called when they change something; an existing directory always gets both.
Result<void> LayerWriter::create_dir(const TarEntry& e, CachedDir& parent, const std::string& name)
{
    const char* n = name.c_str();
    const unsigned mode = e.mode & 07777;
    const bool simple_mode =
        (mode & 07000) == 0 && umask_ != ~0u && !default_acl_ && !parent.setgid;
    bool chmod = !simple_mode || (mode & umask_) != 0;
    bool chown = e.uid != euid_ || e.gid != (parent.setgid ? parent.gid : egid_);
    const unsigned create_mode = simple_mode ? mode : 0700;
    if (::mkdirat(parent.fd.get(), n, create_mode) < 0) {
        struct stat st {};
        if (errno != EEXIST || ::fstatat(parent.fd.get(), n, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return Error::from_errno("mkdir");
        if (!S_ISDIR(st.st_mode)) {
            remove_existing(parent.fd.get(), name);
            if (::mkdirat(parent.fd.get(), n, 0700) < 0)
                return Error::from_errno("mkdir");
        }
        chmod = chown = true;
    }
    // One component, no symlink followed, from the confined parent: stays in the layer.
    auto d = open_at(parent.fd.get(), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (!d)
        return std::move(d).error();
    dir_times_.push_back({e.path, e.mtime});
    if (auto r = metadata(d->get(), e, chown, chmod); !r)
        return r;
    // Its entries likely come next. (parent may be the slot this takes: not used after.)
    dirs_.insert(e.path, std::move(*d), e.gid, (e.mode & S_ISGID) != 0);
    return {};
}

// Created with its final mode where the kernel's umask and the directory's group make fchown and
// fchmod no-ops (most files of most layers: root-owned, 0644/0755); end() does the rest.
Result<void> LayerWriter::create_file(const TarEntry& e, const CachedDir& parent,
                                      const std::string& name)
{
    const unsigned mode = e.mode & 07777;
    const bool simple_mode = (mode & 07000) == 0 && umask_ != ~0u && !default_acl_;
    file_chmod_ = !simple_mode || (mode & umask_) != 0;
    file_chown_ = e.uid != euid_ || e.gid != (parent.setgid ? parent.gid : egid_);
    const unsigned create_mode = simple_mode ? mode : 0600;
    constexpr int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    const char* n = name.c_str();
    int fd = ::openat(parent.fd.get(), n, flags, create_mode);
    if (fd < 0 && errno == EEXIST) {
        remove_existing(parent.fd.get(), name);
        fd = ::openat(parent.fd.get(), n, flags, create_mode);
    }
    if (fd < 0)
        return Error::from_errno("create");
    file_.reset(fd);
    return {};
}

Result<void> LayerWriter::create(const TarEntry& e, CachedDir& parent, const std::string& name)
{
    const int at = parent.fd.get();
    const char* n = name.c_str();
    switch (e.type) {
    case '5': return create_dir(e, parent, name);
    case '0': return create_file(e, parent, name);
    case '1': return hardlink(e, at, name);
    case '2':
        if (::symlinkat(e.link.c_str(), at, n) < 0) {
            if (errno != EEXIST)
                return Error::from_errno("symlink");
            remove_existing(at, name);
            if (::symlinkat(e.link.c_str(), at, n) < 0)
                return Error::from_errno("symlink");
        }
        if (::fchownat(at, n, e.uid, e.gid, AT_SYMLINK_NOFOLLOW) < 0)
            return Error::from_errno("chown symlink");
        {
            const timespec times[2] = {{e.mtime, 0}, {e.mtime, 0}};
            (void)::utimensat(at, n, times, AT_SYMLINK_NOFOLLOW); // best effort
        }
        return {};
    default: { // '3' char, '4' block, '6' fifo
        const mode_t kind = e.type == '3' ? S_IFCHR : e.type == '4' ? S_IFBLK : S_IFIFO;
        remove_existing(at, name);
        if (::mknodat(at, n, kind | (e.mode & 07777), makedev(e.dev_major, e.dev_minor)) < 0)
            return Error::from_errno("mknod");
        if (::fchownat(at, n, e.uid, e.gid, AT_SYMLINK_NOFOLLOW) < 0 ||
            ::fchmodat(at, n, e.mode & 07777, 0) < 0)
            return Error::from_errno("chown/chmod device");
        const timespec times[2] = {{e.mtime, 0}, {e.mtime, 0}};
        (void)::utimensat(at, n, times, AT_SYMLINK_NOFOLLOW); // best effort, as for symlinks
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

Result<void> LayerWriter::metadata(int fd, const TarEntry& e, bool chown, bool chmod)
{
    if (chown && ::fchown(fd, e.uid, e.gid) < 0)
        return Error::from_errno("chown");
    if (chmod && ::fchmod(fd, e.mode & 07777) < 0) // after chown: chown clears set-id bits
        return Error::from_errno("chmod");
    for (const auto& [key, value] : e.xattrs) {
        if (key.starts_with("trusted.overlay."))
            continue; // a layer must not forge overlay metadata (opaque, redirect, origin)
        if (key == "system.posix_acl_default")
            default_acl_ = true; // entries made under this directory inherit it
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

// The parser hands only offsets inside the file's checked map (within current_.size).
Result<void> LayerWriter::data_at(std::uint64_t offset, const char* bytes, std::size_t size)
{
    while (size > 0) {
        const auto n = ::pwrite(file_.get(), bytes, size, static_cast<off_t>(offset));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return Error::from_errno("layer entry ", quoted(current_.path), ": write at ", offset);
        }
        bytes += n;
        size -= static_cast<std::size_t>(n);
        offset += static_cast<std::uint64_t>(n);
    }
    return {};
}

Result<void> LayerWriter::end()
{
    if (!file_.valid())
        return {};
    std::uint64_t written = current_.size;
    Result<void> r;
    if (current_.sparse) { // the size past the last segment: a hole up to the end
        written = 0;
        for (const auto& s : current_.sparse_map)
            written += s.length;
        if (::ftruncate(file_.get(), static_cast<off_t>(current_.size)) < 0)
            r = Error::from_errno("set the size of the sparse file");
    }
    if (r)
        r = metadata(file_.get(), current_, file_chown_, file_chmod_);
    // Its times are set by the closing thread; also after an error (it closes the file).
    closer_.close(std::move(file_), written, current_.mtime, current_.path);
    file_.reset();
    if (!r)
        return std::move(r).error().wrap(cat("layer entry ", quoted(current_.path)));
    return {};
}

Result<void> LayerWriter::finish()
{
    // The directories' times while the closing thread finishes and a syncfs may still run (up
    // to 0.4 s here): closing a file or setting its times never changes its directory's mtime.
    closer_.flush();
    for (auto it = dir_times_.rbegin(); it != dir_times_.rend(); ++it) {
        auto d = open_in_root(root_.get(), it->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        if (!d)
            continue; // removed or replaced later in the layer
        const timespec times[2] = {{it->mtime, 0}, {it->mtime, 0}};
        (void)::futimens(d->get(), times); // best effort, like tar
    }
    if (auto r = closer_.drain(); !r)
        return r;
    if (::syncfs(root_.get()) < 0)
        return Error::from_errno("syncfs");
    return {};
}

} // namespace berth::image
