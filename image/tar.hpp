// image/tar.hpp — a push parser for tar streams (ustar, PAX extended headers, GNU long names,
// GNU sparse files): bytes go in as they are inflated, entries come out to a handler. Hostile
// input: header checksums are checked, numeric fields bounded, extended headers and sparse maps
// capped at 1 MiB, sparse maps checked (tar_sparse.hpp), unknown entry types refused.
// Internal to image/.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>
#include "base/result.hpp"

namespace berth::image {

struct SparseSegment {
    std::uint64_t offset = 0, length = 0;
    bool operator==(const SparseSegment&) const = default;
};

struct TarEntry {
    char type = '0'; // '0' file, '1' hardlink, '2' symlink, '3' char, '4' block, '5' dir, '6' fifo
    std::string path, link;
    std::uint64_t size = 0;
    std::uint32_t mode = 0, uid = 0, gid = 0, dev_major = 0, dev_minor = 0;
    std::int64_t mtime = 0;
    long mtime_nsec = 0;
    std::vector<std::pair<std::string, std::string>> xattrs; // PAX SCHILY.xattr.*
    // A GNU sparse file (a regular file): size is its whole size; its data comes through
    // data_at, segment by segment of sparse_map (checked: in order, apart, inside size).
    bool sparse = false;
    std::vector<SparseSegment> sparse_map;
};

class TarHandler {
public:
    virtual ~TarHandler() = default;
    virtual Result<void> begin(const TarEntry& entry) = 0;
    virtual Result<void> data(const char* bytes, std::size_t size) = 0;
    virtual Result<void> end() = 0;
    // Sparse files go only to handlers that take them; the parser refuses them (EINVAL) for the
    // others, before begin(). A sparse file's bytes at offset: increasing, within entry.size.
    virtual bool accepts_sparse() const { return false; }
    virtual Result<void> data_at(std::uint64_t /*offset*/, const char* /*bytes*/,
                                 std::size_t /*size*/)
    {
        return Error::invalid("tar handler takes no sparse files");
    }
};

struct SparseHeader; // tar_sparse.hpp

class TarParser {
public:
    explicit TarParser(TarHandler& handler);
    ~TarParser();
    TarParser(const TarParser&) = delete;
    TarParser& operator=(const TarParser&) = delete;
    Result<void> feed(const char* data, std::size_t size);
    Result<void> finish() const; // the stream must have ended on an entry boundary
    std::uint64_t entries() const { return entries_; }
    bool ended() const { return state_ == State::End; } // saw the end-of-archive blocks

private:
    // SparseMap: a PAX 1.0 sparse file's map at the start of its data; SparseExtension: an old
    // GNU sparse header's extension blocks.
    enum class State { Header, Data, Padding, Extended, SparseMap, SparseExtension, End };
    Result<void> on_header();
    Result<void> on_sparse_header(TarEntry e, char type, std::uint64_t data_size);
    Result<void> on_sparse_map();
    Result<void> on_sparse_extension();
    Result<void> start_entry(const TarEntry& e, std::uint64_t data_size);
    Result<void> start_sparse(std::uint64_t stored);
    Result<void> sparse_data(const char* data, std::size_t size);
    Result<void> on_extended();
    Result<void> apply_pax(std::string_view records);

    TarHandler& handler_;
    State state_ = State::Header;
    char block_[512] = {};
    std::size_t have_ = 0;        // bytes of the current header block
    std::uint64_t remaining_ = 0; // data (or extended header) bytes left
    std::uint64_t padding_ = 0;
    char extended_type_ = 0; // 'x', 'g', 'L', 'K'
    std::string extended_;
    TarEntry pending_; // what PAX / GNU headers said about the next entry
    bool pending_size_ = false, pax_uid_ = false, pax_gid_ = false, pax_mtime_ = false;
    std::unique_ptr<SparseHeader> sparse_; // made by GNU.sparse.* records or an 'S' header
    TarEntry sparse_entry_;                // a sparse file waiting for the rest of its map
    std::vector<SparseSegment> segments_;  // the sparse file being delivered
    std::size_t segment_ = 0;              // its segment the data is in
    std::uint64_t segment_done_ = 0;       // bytes of that segment delivered
    int zero_blocks_ = 0;
    std::uint64_t entries_ = 0;
};

} // namespace berth::image
