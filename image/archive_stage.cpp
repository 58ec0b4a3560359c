// image/archive_stage.cpp — ArchiveStager and stage_archive (archive.hpp): the outer archive is
// read once, as a stream, and each member lands in a staging file named by its own sha256.
#include <fcntl.h>
#include <unistd.h>
#include <vector>
#include "base/files.hpp"
#include "image/archive.hpp"
#include "image/decompress.hpp"
#include "image/digest.hpp"
#include "image/store_fs.hpp"

namespace berth::image {
namespace {

constexpr std::size_t max_member_path = 1024; // berth's and docker's paths are under 100

} // namespace

struct ArchiveStager::Current {
    std::string path;     // canonical member path
    std::string expected; // "sha256:<hex>" for blobs/sha256/<hex>
    Fd fd;
    Sha256 sha;
    std::uint64_t size = 0;
};

Result<void> ArchiveStager::begin(const TarEntry& entry)
{
    if (++members_ > max_members_)
        return Error::with_code(EFBIG, "archive: more than ", max_members_, " members (the limit)");
    if (entry.path.size() > max_member_path)
        return Error::invalid("archive member path of ", entry.path.size(), " bytes (over ",
                              max_member_path, ")");
    auto path = archive_path(entry.path);
    if (!path)
        return std::move(path).error();
    const bool blob = path->starts_with("blobs/");
    const auto what = cat("archive member ", quoted(*path));
    switch (entry.type) {
    case '5': return {}; // directories carry nothing we need
    case '2': {
        if (blob)
            return Error::invalid(what, ": a symlinked blob (blobs must be regular files)");
        const auto target = resolve_link(*path, entry.link);
        if (target.empty())
            return Error::invalid(what, ": symlink ", quoted(entry.link), " leaves the archive");
        aliases_[*path] = target;
        return {};
    }
    case '0': break;
    default:
        return Error::invalid(what, ": entry type ", quoted(std::string_view(&entry.type, 1)),
                              " (only files, directories and symlinks belong in an image archive)");
    }
    if (files_.count(*path) || aliases_.count(*path))
        return Error::invalid(what, ": appears twice");
    if (entry.size > max_)
        return Error::with_code(EFBIG, what, ": ", entry.size, " bytes, over the limit of ", max_);
    if (entry.size > max_total_ - staged_)
        return Error::with_code(EFBIG, what, ": ", entry.size,
                                " bytes would take the archive over ", "its limit of ", max_total_,
                                " bytes");
    staged_ += entry.size;
    auto c = std::make_shared<Current>();
    c->path = *path;
    if (blob) {
        const auto hex = path->substr(std::string_view("blobs/sha256/").size());
        if (!path->starts_with("blobs/sha256/") || !is_valid_digest("sha256:" + hex))
            return Error::invalid(what, ": not blobs/sha256/<64 lowercase hex>");
        c->expected = "sha256:" + hex;
    }
    auto fd = open_tmpfile(dir_);
    if (!fd)
        return std::move(fd).error().wrap(what);
    c->fd = std::move(*fd);
    current_ = std::move(c);
    return {};
}

Result<void> ArchiveStager::data(const char* bytes, std::size_t size)
{
    if (!current_)
        return {};
    current_->sha.update(bytes, size);
    current_->size += size;
    if (auto r = write_all(current_->fd.get(), std::string_view(bytes, size)); !r)
        return std::move(r).error().wrap(cat("stage archive member ", quoted(current_->path)));
    return {};
}

Result<void> ArchiveStager::end()
{
    if (!current_)
        return {};
    auto c = std::move(current_);
    const auto digest = c->sha.digest();
    if (!c->expected.empty() && digest != c->expected)
        return Error::with_code(EBADMSG, "archive member ", quoted(c->path),
                                ": content has digest ", digest, " (digest mismatch)");
    if (!digests_.count(digest))
        if (auto r = link_tmpfile(c->fd, cat(dir_, "/", digest_hex(digest))); !r)
            return r;
    digests_[digest] = c->size;
    files_[c->path] = {digest, c->size};
    return {};
}

Result<StagedFile> ArchiveStager::find(std::string_view path) const
{
    auto canonical = archive_path(path);
    if (!canonical)
        return std::move(canonical).error();
    std::string p = *canonical;
    for (int hops = 0; hops < 8; ++hops) {
        if (const auto f = files_.find(p); f != files_.end())
            return f->second;
        const auto a = aliases_.find(p);
        if (a == aliases_.end())
            break;
        p = a->second;
    }
    return Error::with_code(ENOENT, "archive member ", quoted(path), " is missing");
}

std::string ArchiveStager::file_of(std::string_view digest) const
{
    return cat(dir_, "/", digest_hex(digest));
}

bool ArchiveStager::has_digest(std::string_view digest) const
{
    return digests_.count(std::string(digest)) != 0;
}

std::string ArchiveStager::current_member() const
{
    return current_ ? current_->path : std::string();
}

Result<void> stage_archive(int fd, ArchiveStager& stager)
{
    TarParser tar(stager);
    std::unique_ptr<Decompressor> inflater;
    std::vector<char> buffer(std::size_t{1} << 20);
    std::uint64_t unpacked = 0;
    const ByteSink to_tar = [&](const char* d, std::size_t n) -> Result<void> {
        unpacked += n;
        if (unpacked > stager.max_total()) // a bomb of headers or padding, not only of members
            return Error::with_code(EFBIG, "archive: more than ", stager.max_total(),
                                    " bytes once decompressed (the limit)");
        return tar.feed(d, n);
    };
    std::uint64_t total = 0;
    for (;;) {
        const auto n = ::read(fd, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return Error::from_errno("read the archive");
        if (n == 0)
            break;
        if (!inflater) { // the first bytes tell the compression
            const auto* b = reinterpret_cast<const unsigned char*>(buffer.data());
            const bool gzip = n >= 2 && b[0] == 0x1f && b[1] == 0x8b;
            const bool zstd =
                n >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd;
            inflater = Decompressor::create(gzip   ? Compression::Gzip
                                            : zstd ? Compression::Zstd
                                                   : Compression::None);
        }
        total += static_cast<std::uint64_t>(n);
        if (auto r = inflater->feed(buffer.data(), static_cast<std::size_t>(n), to_tar); !r)
            return std::move(r).error().wrap(cat("archive at byte ", total));
    }
    if (!inflater)
        return Error::invalid("the archive is empty");
    if (auto r = inflater->finish(); !r) // only an unfinished stream fails here
        return Error::invalid("the archive is truncated: its compressed stream ends early");
    if (auto r = tar.finish(); !r) {
        const auto member = stager.current_member();
        return Error::invalid("the archive is truncated: it ends inside ",
                              member.empty() ? std::string("a tar header")
                                             : cat("member ", quoted(member)));
    }
    if (!tar.ended())
        return Error::invalid("archive: the tar stream ends without its end-of-archive blocks "
                              "(truncated)");
    return {};
}

} // namespace berth::image
