// image/writer.hpp — writes a tar stream's entries into one snapshot directory, confined: every
// parent is resolved with openat2(RESOLVE_IN_ROOT) from the snapshot's fd (symlinks in the layer
// resolve inside it), final components are created fd-relative with O_NOFOLLOW/O_EXCL, and any
// ".." component refuses the layer. Whiteouts become overlayfs whiteouts (0/0 character
// devices), opaque markers the trusted.overlay.opaque xattr. Runs as root on the host.
// Internal to image/.
#pragma once
#include <cstdint>
#include <string>
#include <vector>
#include "base/fd.hpp"
#include "image/dir_cache.hpp"
#include "image/file_closer.hpp"
#include "image/tar.hpp"

namespace berth::image {

class LayerWriter final : public TarHandler {
public:
    // max_file_size: the most its sparse files may add up to (the layer's size limit: a sparse
    // file's size is not bounded by the stream's).
    explicit LayerWriter(Fd root, std::uint64_t max_file_size = UINT64_MAX);
    Result<void> begin(const TarEntry& entry) override;
    Result<void> data(const char* bytes, std::size_t size) override;
    Result<void> end() override;
    // Sparse files: each segment written at its offset, the holes left unwritten, then the size
    // set (ftruncate): the file takes only its segments' blocks.
    bool accepts_sparse() const override { return true; }
    Result<void> data_at(std::uint64_t offset, const char* bytes, std::size_t size) override;
    // Directory times (set last: creating children changes them), then one syncfs.
    Result<void> finish();

private:
    Result<CachedDir*> parent_of(const std::string& dir_path); // creates missing parents
    Result<void> create(const TarEntry& e, CachedDir& parent, const std::string& name);
    Result<void> create_dir(const TarEntry& e, CachedDir& parent, const std::string& name);
    Result<void> create_file(const TarEntry& e, const CachedDir& parent, const std::string& name);
    Result<void> whiteout(int parent, const std::string& name, const std::string& path);
    Result<void> metadata(int fd, const TarEntry& e, bool chown = true, bool chmod = true);
    Result<void> hardlink(const TarEntry& e, int parent, const std::string& name);
    void remove_existing(int parent, const std::string& name);

    Fd root_;
    std::uint64_t max_file_size_;
    std::uint64_t sparse_bytes_ = 0; // the sizes of the sparse files made so far
    DirCache dirs_;
    bool dirs_stale_ = false;        // something was removed: clear the cache before the next entry
    Fd file_;                        // the regular file being written
    FileCloser closer_{root_.get()}; // closes file_ once written
    bool file_chown_ = true, file_chmod_ = true; // what end() still has to set on file_
    TarEntry current_;
    // What a new file gets from the kernel without fchown/fchmod: owner euid_, group egid_ (or
    // the directory's if set-group-ID), mode & ~umask_. umask_ is read once (procfs), ~0u if
    // unknown; any default ACL (it overrides the umask) turns the shortcut off.
    uid_t euid_;
    gid_t egid_;
    unsigned umask_ = ~0u;
    bool default_acl_ = true;
    struct DirTime {
        std::string path;
        std::int64_t mtime;
    };
    std::vector<DirTime> dir_times_;
};

// "./a//b/" -> "a/b"; leading '/' dropped (contained); a ".." component is an error.
Result<std::string> clean_layer_path(std::string_view path);

} // namespace berth::image
