#include "base/files.hpp"
#include <fcntl.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <utility>

namespace berth {

Result<Fd> open_at(int dir, const std::string& path, int flags, unsigned mode)
{
    const int fd = ::openat(dir, path.c_str(), flags | O_CLOEXEC, mode);
    if (fd < 0)
        return Error::from_errno("open ", quoted(path));
    return Fd(fd);
}

Result<std::string> read_fd(int fd, std::size_t cap)
{
    std::string data;
    char buffer[8192];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return Error::from_errno("read");
        }
        if (n == 0)
            return data;
        if (data.size() + static_cast<std::size_t>(n) > cap)
            return Error::with_code(EFBIG, "read: longer than ", cap, " bytes");
        data.append(buffer, static_cast<std::size_t>(n));
    }
}

Result<std::string> read_file_at(int dir, const std::string& path, std::size_t cap)
{
    auto fd = open_at(dir, path, O_RDONLY);
    if (!fd)
        return std::move(fd).error();
    auto data = read_fd(fd->get(), cap);
    if (!data)
        return std::move(data).error().wrap(quoted(path));
    return data;
}

Result<std::string> read_file(const std::string& path, std::size_t cap)
{
    return read_file_at(AT_FDCWD, path, cap);
}

Result<void> write_all(int fd, std::string_view bytes)
{
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return Error::from_errno("write");
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

Result<void> write_file_at(int dir, const std::string& path, std::string_view value)
{
    auto fd = open_at(dir, path, O_WRONLY);
    if (!fd)
        return std::move(fd).error();
    const ssize_t n = ::write(fd->get(), value.data(), value.size());
    if (n < 0)
        return Error::from_errno("write ", quoted(std::string(value)), " to ", quoted(path));
    if (static_cast<std::size_t>(n) != value.size())
        return Error::with_code(EIO, "short write to ", quoted(path));
    return {};
}

Result<void> write_file(const std::string& path, std::string_view value)
{
    return write_file_at(AT_FDCWD, path, value);
}

namespace {

// "<path>.<16 random hex digits>.tmp", created exclusively: a name an attacker cannot plant in
// advance, and never a symlink followed.
Result<std::pair<Fd, std::string>> create_temporary(const std::string& path, unsigned mode)
{
    for (int attempt = 0; attempt < 16; ++attempt) {
        std::uint64_t token = 0;
        if (::getrandom(&token, sizeof token, 0) != static_cast<ssize_t>(sizeof token))
            return Error::from_errno("getrandom");
        char suffix[32];
        std::snprintf(suffix, sizeof suffix, ".%016llx.tmp",
                      static_cast<unsigned long long>(token));
        std::string temporary = path + suffix;
        const int fd =
            ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd >= 0)
            return std::pair{Fd(fd), std::move(temporary)};
        if (errno != EEXIST)
            return Error::from_errno("create ", quoted(temporary));
    }
    return Error::with_code(EEXIST, "create a temporary file next to ", quoted(path));
}

Result<void> fsync_directory_of(const std::string& path)
{
    const auto slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "."
                            : slash == 0               ? "/"
                                                       : path.substr(0, slash);
    auto fd = open_at(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY);
    if (!fd)
        return std::move(fd).error();
    if (::fsync(fd->get()) < 0)
        return Error::from_errno("fsync ", quoted(dir));
    return {};
}

// For a file that is not fsynced: when path exists, swaps the new file in with
// renameat2(RENAME_EXCHANGE) and unlinks the old one, instead of renaming over it. Readers see
// the same (old or new, never torn), but ext4 (auto_da_alloc, the default) starts writeback of
// the new file on every rename that replaces one, and the later unlink or truncation of that file
// then waits for the disk: 1-3 ms per container start on this project's hosts, whose /run is not
// a tmpfs (docs/BENCHMARKS.md, "Start time"). True if done; false if the caller should rename
// (no file at path yet, or a filesystem without RENAME_EXCHANGE).
Result<bool> exchange_into_place(const std::string& temporary, const std::string& path)
{
    // Only over a regular file: a directory in the way is never moved aside, even briefly (a
    // crash then would strand it under the temporary name); rename(2) refuses it as before.
    struct stat st {};
    if (::fstatat(AT_FDCWD, path.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
        return false;
    if (::renameat2(AT_FDCWD, temporary.c_str(), AT_FDCWD, path.c_str(), RENAME_EXCHANGE) < 0) {
        if (errno == ENOENT || errno == EINVAL || errno == ENOSYS)
            return false;
        auto error = Error::from_errno("rename ", quoted(temporary), " to ", quoted(path));
        ::unlink(temporary.c_str());
        return error;
    }
    if (::unlink(temporary.c_str()) == 0)
        return true;
    // What was at path is not a file (a directory): put it back and fail as rename(2) would.
    auto error = Error::from_errno("rename ", quoted(temporary), " to ", quoted(path));
    if (::renameat2(AT_FDCWD, temporary.c_str(), AT_FDCWD, path.c_str(), RENAME_EXCHANGE) == 0)
        ::unlink(temporary.c_str());
    return error;
}

Result<void> replace_file(const std::string& path, std::string_view value, unsigned mode,
                          bool durable)
{
    auto created = create_temporary(path, mode);
    if (!created)
        return std::move(created).error();
    auto& [fd, temporary] = *created;
    // fchmod: the mode is exact, whatever the caller's umask.
    if (::fchmod(fd.get(), mode) < 0) {
        auto error = Error::from_errno("chmod ", quoted(temporary));
        ::unlink(temporary.c_str());
        return error;
    }
    if (auto r = write_all(fd.get(), value); !r) {
        ::unlink(temporary.c_str());
        return std::move(r).error().wrap(quoted(temporary));
    }
    if (durable && ::fsync(fd.get()) < 0) {
        auto error = Error::from_errno("fsync ", quoted(temporary));
        ::unlink(temporary.c_str());
        return error;
    }
    fd.reset();
    if (!durable) {
        if (auto r = exchange_into_place(temporary, path); !r || *r)
            return r ? Result<void>{} : Result<void>(std::move(r).error());
    }
    if (::rename(temporary.c_str(), path.c_str()) < 0) {
        auto error = Error::from_errno("rename ", quoted(temporary), " to ", quoted(path));
        ::unlink(temporary.c_str());
        return error;
    }
    if (durable)
        return fsync_directory_of(path);
    return {};
}

} // namespace

Result<void> write_file_atomic(const std::string& path, std::string_view value, unsigned mode)
{
    return replace_file(path, value, mode, false);
}

Result<void> write_file_durable(const std::string& path, std::string_view value, unsigned mode)
{
    return replace_file(path, value, mode, true);
}

Result<void> make_directories(const std::string& path, unsigned mode)
{
    if (path.empty())
        return {};
    std::size_t position = 0;
    while (position != std::string::npos) {
        position = path.find('/', position + 1);
        const std::string prefix = path.substr(0, position);
        if (prefix.empty())
            continue;
        if (::mkdir(prefix.c_str(), mode) < 0 && errno != EEXIST)
            return Error::from_errno("mkdir ", quoted(prefix));
    }
    return {};
}

bool path_exists(const std::string& path)
{
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

} // namespace berth
