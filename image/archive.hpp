// image/archive.hpp — image archives for air-gapped hosts: the parsers of an archive's index
// files (OCI image layout index.json and oci-layout, `docker save` manifest.json), the streaming
// stager that reads the outer tar into verified files, and the tar writer behind save. The input
// is hostile: sizes capped, every field checked, no exceptions. Internal to image/.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>
#include "base/fd.hpp"
#include "image/image.hpp"
#include "image/tar.hpp"

namespace berth::image {

// One entry of an OCI layout's index.json: a manifest or an index, and the names it carries
// (io.containerd.image.name first, then org.opencontainers.image.ref.name).
struct LayoutEntry {
    Descriptor descriptor;
    std::string name; // empty when unnamed
};
Result<std::vector<LayoutEntry>> parse_layout_index(std::string_view index_json);
Result<void> check_oci_layout(std::string_view oci_layout); // imageLayoutVersion 1.x

// One image of a `docker save` manifest.json: paths inside the archive.
struct DockerArchiveImage {
    std::string config;
    std::vector<std::string> layers;
    std::vector<std::string> repo_tags;
};
Result<std::vector<DockerArchiveImage>> parse_docker_manifest(std::string_view manifest_json);

// An archive member path made canonical ("./a//b" -> "a/b"); absolute paths and ".." refused.
Result<std::string> archive_path(std::string_view path);
// A symlink's target resolved against its own directory, inside the archive; "" if it escapes.
std::string resolve_link(std::string_view link_path, std::string_view target);

struct StagedFile {
    std::string digest; // sha256 of its bytes, computed while streaming
    std::uint64_t size = 0;
};

// Receives the outer tar: every regular file streams into <dir>/<hex of its sha256> (an
// O_TMPFILE linked once complete), so no member is ever held in memory. blobs/sha256/<hex>
// members must hash to their name. Symlinks are kept as aliases (legacy docker save links
// duplicate layer.tar files) but never for blobs/; hardlinks, devices and fifos are refused.
// Limits: max_member bytes per member, max_total bytes of the decompressed stream (checked by
// stage_archive; a member declaring more than what is left is refused at its header), and
// max_members entries of any type; member paths are at most 1024 bytes.
class ArchiveStager final : public TarHandler {
public:
    ArchiveStager(std::string dir, std::uint64_t max_member,
                  std::uint64_t max_total = std::uint64_t{256} << 30,
                  std::size_t max_members = 65536)
        : dir_(std::move(dir)), max_(max_member), max_total_(max_total), max_members_(max_members)
    {
    }
    std::uint64_t max_total() const { return max_total_; }
    Result<void> begin(const TarEntry& entry) override;
    Result<void> data(const char* bytes, std::size_t size) override;
    Result<void> end() override;
    // The member at path (following aliases); ENOENT names the path.
    Result<StagedFile> find(std::string_view path) const;
    bool has(std::string_view path) const { return files_.count(std::string(path)) != 0; }
    // The staged file of a digest, if some member had those bytes.
    std::string file_of(std::string_view digest) const;
    bool has_digest(std::string_view digest) const;
    std::string current_member() const; // the member being received, or ""

private:
    std::string dir_;
    std::uint64_t max_, max_total_;
    std::size_t max_members_, members_ = 0;
    std::uint64_t staged_ = 0; // member bytes declared so far
    std::map<std::string, StagedFile> files_;
    std::map<std::string, std::string> aliases_;   // symlink path -> resolved target path
    std::map<std::string, std::uint64_t> digests_; // staged digests -> size
    struct Current;
    std::shared_ptr<Current> current_;
};

// Reads fd to the end (gzip, zstd or plain, by magic) into the stager. A truncated or corrupt
// archive is EINVAL; the tar stream must end with its end-of-archive blocks.
Result<void> stage_archive(int fd, ArchiveStager& stager);

// Writes ustar members (names under 100 bytes: berth writes only its own short names).
class TarWriter {
public:
    explicit TarWriter(int fd) : fd_(fd) {}
    Result<void> directory(std::string_view name);
    Result<void> file(std::string_view name, std::string_view bytes);
    // Copies size bytes from src, hashing them: EBADMSG if they no longer match digest.
    Result<void> file_from(std::string_view name, int src, std::uint64_t size,
                           std::string_view digest);
    Result<void> finish(); // the two zero blocks

private:
    Result<void> header(std::string_view name, char type, std::uint64_t size, unsigned mode);
    Result<void> pad(std::uint64_t size);
    int fd_;
};

} // namespace berth::image
