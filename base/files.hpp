// base/files.hpp — reading and writing small files (proc, sysfs, cgroupfs, state, config) with a
// size cap, so a hostile or corrupt file cannot make a root daemon allocate without bound.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include "base/fd.hpp"
#include "base/result.hpp"

namespace berth {

inline constexpr std::size_t default_read_cap = std::size_t{16} * 1024 * 1024;

// Opens with O_CLOEXEC; path relative to dir (AT_FDCWD for the cwd) — errors name the path.
Result<Fd> open_at(int dir, const std::string& path, int flags, unsigned mode = 0);
// Reads the whole file; a file longer than cap is an error (EFBIG), not a truncation.
Result<std::string> read_file(const std::string& path, std::size_t cap = default_read_cap);
Result<std::string> read_file_at(int dir, const std::string& path,
                                 std::size_t cap = default_read_cap);
Result<std::string> read_fd(int fd, std::size_t cap = default_read_cap);
// One write() of the whole value, as cgroupfs and procfs need (they parse per write call).
Result<void> write_file(const std::string& path, std::string_view value);
Result<void> write_file_at(int dir, const std::string& path, std::string_view value);
// write() loop until all bytes are out; EINTR retried.
Result<void> write_all(int fd, std::string_view bytes);
// Writes to a temporary file in the same directory and renames it over path, so readers see the
// old or the new content, never a torn file. The temporary name is unpredictable and created
// with O_EXCL|O_NOFOLLOW (as runc does): safe in a directory berth does not own (a --pid-file
// path), where a planted symlink must not make root write through it. Not durable: for /run.
Result<void> write_file_atomic(const std::string& path, std::string_view value,
                               unsigned mode = 0600);
// write_file_atomic that also survives power loss: fsyncs the file before the rename and the
// directory after it. For state on disk (not tmpfs), where the cost of two fsyncs is worth it.
Result<void> write_file_durable(const std::string& path, std::string_view value,
                                unsigned mode = 0600);
// mkdir -p; existing directories are fine.
Result<void> make_directories(const std::string& path, unsigned mode = 0755);
bool path_exists(const std::string& path);

} // namespace berth
