// image/tar.hpp — a push parser for tar streams (ustar, PAX extended headers, GNU long names):
// bytes go in as they are inflated, entries come out to a handler. Hostile input: header
// checksums are checked, numeric fields bounded, extended headers capped at 1 MiB, GNU sparse
// files (type 'S' and PAX GNU.sparse.*) and unknown entry types refused. Internal to image/.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>
#include "base/result.hpp"

namespace berth::image {

struct TarEntry {
    char type = '0'; // '0' file, '1' hardlink, '2' symlink, '3' char, '4' block, '5' dir, '6' fifo
    std::string path, link;
    std::uint64_t size = 0;
    std::uint32_t mode = 0, uid = 0, gid = 0, dev_major = 0, dev_minor = 0;
    std::int64_t mtime = 0;
    long mtime_nsec = 0;
    std::vector<std::pair<std::string, std::string>> xattrs; // PAX SCHILY.xattr.*
};

class TarHandler {
public:
    virtual ~TarHandler() = default;
    virtual Result<void> begin(const TarEntry& entry) = 0;
    virtual Result<void> data(const char* bytes, std::size_t size) = 0;
    virtual Result<void> end() = 0;
};

class TarParser {
public:
    explicit TarParser(TarHandler& handler) : handler_(handler) {}
    Result<void> feed(const char* data, std::size_t size);
    Result<void> finish() const; // the stream must have ended on an entry boundary
    std::uint64_t entries() const { return entries_; }
    bool ended() const { return state_ == State::End; } // saw the end-of-archive blocks

private:
    enum class State { Header, Data, Padding, Extended, End };
    Result<void> on_header();
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
    bool pax_sparse_ = false; // GNU.sparse.* keys: a sparse file, refused
    std::string sparse_name_; // GNU.sparse.name: the file's real name
    int zero_blocks_ = 0;
    std::uint64_t entries_ = 0;
};

} // namespace berth::image
