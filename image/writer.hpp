// image/writer.hpp — writes a tar stream's entries into one snapshot directory, confined: every
// parent is resolved with openat2(RESOLVE_IN_ROOT) from the snapshot's fd (symlinks in the layer
// resolve inside it), final components are created fd-relative with O_NOFOLLOW/O_EXCL, and any
// ".." component refuses the layer. Whiteouts become overlayfs whiteouts (0/0 character
// devices), opaque markers the trusted.overlay.opaque xattr. Runs as root on the host.
// Internal to image/.
#pragma once
#include <string>
#include <vector>
#include "base/fd.hpp"
#include "image/tar.hpp"

namespace berth::image {

class LayerWriter final : public TarHandler {
public:
    explicit LayerWriter(Fd root) : root_(std::move(root)) {}
    Result<void> begin(const TarEntry& entry) override;
    Result<void> data(const char* bytes, std::size_t size) override;
    Result<void> end() override;
    // Directory times (set last: creating children changes them), then one syncfs.
    Result<void> finish();

private:
    Result<int> parent_of(const std::string& dir_path); // cached; creates missing parents
    Result<void> create(const TarEntry& e, int parent, const std::string& name);
    Result<void> whiteout(int parent, const std::string& name, const std::string& path);
    Result<void> metadata(int fd, const TarEntry& e);
    Result<void> hardlink(const TarEntry& e, int parent, const std::string& name);

    Fd root_;
    std::string cached_path_ = "\x01"; // never a real path
    Fd cached_parent_;
    Fd file_; // the regular file being written
    TarEntry current_;
    struct DirTime {
        std::string path;
        std::int64_t mtime;
    };
    std::vector<DirTime> dir_times_;
};

// "./a//b/" -> "a/b"; leading '/' dropped (contained); a ".." component is an error.
Result<std::string> clean_layer_path(std::string_view path);

} // namespace berth::image
