// image/tar_sparse.hpp — GNU sparse files in tar streams: the three ways GNU tar writes a file's
// data segments (old GNU type 'S' with the map in its header blocks; PAX 0.0/0.1 with the map in
// GNU.sparse.* records; PAX 1.0 with the map in decimal lines at the start of the data), parsed
// and checked before any byte is written: segments in increasing order, apart, inside the file's
// size, and adding up to the data the entry holds. Hostile input: every number is bounded, the
// map is capped (1 MiB of text). Used by TarParser only. Internal to image/.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include "image/tar.hpp"

namespace berth::image {

// What the PAX records (or an old GNU 'S' header) said about the next entry's segments.
struct SparseHeader {
    bool seen = false; // any GNU.sparse.* record
    std::string name;  // GNU.sparse.name: the file's real name (the header names a stand-in)
    std::optional<std::uint64_t> major, minor, realsize, numblocks;
    std::optional<std::uint64_t> offset; // PAX 0.0: a GNU.sparse.offset awaiting its numbytes
    std::vector<SparseSegment> map;
    // PAX 1.0: the map's decimal lines, read from the data block by block.
    std::string text;
    std::size_t parsed = 0;             // text before this is parsed
    std::optional<std::uint64_t> count; // the first line: how many segments follow
    std::vector<std::uint64_t> numbers; // the segments' numbers so far
    std::uint64_t map_bytes = 0;        // data bytes read as the map (blocks, with padding)
    bool map_in_data() const { return major.has_value(); } // PAX 1.0 (checked: the only major)
};

// A header's numeric field: octal, or GNU base-256 (tar.cpp).
std::optional<std::uint64_t> tar_number(const char* b, std::size_t offset, std::size_t length);

// One GNU.sparse.* record; an unknown key or a bad number is an error.
Result<void> add_sparse_record(SparseHeader& s, std::string_view key, std::string_view value);
// Whether the PAX records describe a version this reads (0.0, 0.1, 1.0) and give a size.
Result<void> check_sparse_version(const SparseHeader& s);
// PAX 1.0: parses the complete lines of s.text. True once the whole map is read.
Result<bool> parse_sparse_lines(SparseHeader& s);
// Old GNU: the segments of a header (4 at byte 386) or an extension block (21 at byte 0);
// whether another extension block follows.
Result<bool> old_gnu_segments(const char* block, std::size_t at, std::size_t count,
                              std::vector<SparseSegment>& map);
// The checks every map passes (see above); stored: the data bytes the entry holds.
Result<void> check_sparse_map(const std::vector<SparseSegment>& map, std::uint64_t realsize,
                              std::uint64_t stored);

} // namespace berth::image
