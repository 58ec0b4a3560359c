// image/store_fs.hpp — the store's file primitives: anonymous temp files (O_TMPFILE) linked into
// place only after verification (a crash leaves nothing behind), per-key flock locks shared by
// threads and processes, and tree removal that never follows symlinks. Internal to image/.
#pragma once
#include <string>
#include <string_view>
#include <vector>
#include "base/fd.hpp"
#include "base/result.hpp"

namespace berth::image {

Result<Fd> open_tmpfile(const std::string& dir);
// Gives the O_TMPFILE file its name; an existing name (someone else verified it first) is fine.
Result<void> link_tmpfile(const Fd& fd, const std::string& path);
// Writes bytes to dir as an O_TMPFILE and links it as path.
Result<void> write_verified(const std::string& dir, const std::string& path,
                            std::string_view bytes);
// Replaces path atomically (a unique temp name, fsync, rename): for records that change. The
// temp file, "<path>.<pid>.<tid>.tmp", is flocked by its writer from creation to rename.
Result<void> replace_file(const std::string& path, std::string_view bytes);
// Removes the replace_file temp files in dir whose writer was killed: the pid in the name is not
// alive here AND nobody holds the flock. Both, because the agent and the CLI share the store:
// a writer in another pid namespace shows as a dead pid but holds its flock, and a writer of a
// berth from before the flock shows only by its pid. Safe beside live writers.
void remove_stale_temps(const std::string& dir);
// Blocks until this process holds an exclusive flock on path (created if missing). Lock files
// may be removed (gc), but only by whoever holds their flock, and a locker checks after flock
// that the path still names its file (else it locks the new one): so a removal never splits a
// lock between the old file and a new one.
Result<Fd> lock_exclusive(const std::string& path);
// The lock if it exists and nobody holds it: ENOENT, EWOULDBLOCK otherwise.
Result<Fd> try_lock_exclusive(const std::string& path);
// Removes the lock file fd holds (an flock from lock_exclusive or try_lock_exclusive).
void unlink_held_lock(const Fd& fd, const std::string& path);
// rm -rf that stays on one filesystem and never follows a symlink; ENOENT is fine.
Result<void> remove_tree(const std::string& path);
// The names in dir (no "." or ".."); none when it is missing or unreadable.
std::vector<std::string> dir_names(const std::string& dir);
// "sha256:abc" -> "abc"
std::string digest_hex(std::string_view digest);

} // namespace berth::image
