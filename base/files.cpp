#include "base/files.hpp"
#include <fcntl.h>
#include <sys/stat.h>
#include <cerrno>

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

Result<void> write_file_atomic(const std::string& path, std::string_view value, unsigned mode)
{
    const std::string temporary = path + ".tmp";
    auto fd = open_at(AT_FDCWD, temporary, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (!fd)
        return std::move(fd).error();
    if (auto r = write_all(fd->get(), value); !r) {
        ::unlink(temporary.c_str());
        return std::move(r).error().wrap(quoted(temporary));
    }
    if (::fsync(fd->get()) < 0) {
        auto error = Error::from_errno("fsync ", quoted(temporary));
        ::unlink(temporary.c_str());
        return error;
    }
    fd->reset();
    if (::rename(temporary.c_str(), path.c_str()) < 0) {
        auto error = Error::from_errno("rename ", quoted(temporary), " to ", quoted(path));
        ::unlink(temporary.c_str());
        return error;
    }
    return {};
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
