// image/tar_sparse.cpp — see tar_sparse.hpp.
#include "image/tar_sparse.hpp"
#include "base/strings.hpp"

namespace berth::image {
namespace {

constexpr std::size_t max_map_text = std::size_t{1} << 20;
// Each segment costs at least 4 bytes of map text ("0\n0\n") or 24 of an old GNU header.
constexpr std::uint64_t max_segments = max_map_text / 4;

Result<std::uint64_t> sparse_number(std::string_view key, std::string_view value)
{
    const auto v = parse_int<std::uint64_t>(value);
    if (!v)
        return Error::invalid("tar PAX header: bad ", key, " ", quoted(value.substr(0, 32)));
    return *v;
}

} // namespace

Result<void> add_sparse_record(SparseHeader& s, std::string_view key, std::string_view value)
{
    s.seen = true;
    if (key == "GNU.sparse.name") {
        s.name = std::string(value);
        return {};
    }
    if (key == "GNU.sparse.map") { // PAX 0.1: "offset,numbytes,offset,numbytes..."
        const auto parts = split(value, ',');
        // Bounded with what earlier PAX headers already collected: a run of extended headers
        // with no entry between them adds to one map.
        if (parts.size() % 2 != 0 || s.map.size() + parts.size() / 2 > max_segments)
            return Error::invalid("tar PAX header: GNU.sparse.map of ", parts.size(),
                                  " numbers (after ", s.map.size(), " segments)");
        for (std::size_t i = 0; i + 1 < parts.size(); i += 2) {
            auto offset = sparse_number(key, parts[i]), length = sparse_number(key, parts[i + 1]);
            if (!offset || !length)
                return !offset ? std::move(offset).error() : std::move(length).error();
            s.map.push_back({*offset, *length});
        }
        return {};
    }
    auto v = sparse_number(key, value);
    if (!v)
        return std::move(v).error();
    if (key == "GNU.sparse.major")
        s.major = *v;
    else if (key == "GNU.sparse.minor")
        s.minor = *v;
    else if (key == "GNU.sparse.realsize" || key == "GNU.sparse.size")
        s.realsize = *v;
    else if (key == "GNU.sparse.numblocks")
        s.numblocks = *v;
    else if (key == "GNU.sparse.offset" && !s.offset) // PAX 0.0: pairs of records
        s.offset = *v;
    else if (key == "GNU.sparse.numbytes" && s.offset && s.map.size() < max_segments) {
        s.map.push_back({*s.offset, *v});
        s.offset.reset();
    } else
        return Error::invalid("tar PAX header: unexpected ", key, " record (sparse map)");
    return {};
}

Result<void> check_sparse_version(const SparseHeader& s)
{
    if (s.major && (*s.major != 1 || s.minor.value_or(0) != 0))
        return Error::invalid("GNU sparse format ", *s.major, ".", s.minor.value_or(0),
                              " (1.0, 0.1 and 0.0 are read)");
    if (!s.realsize)
        return Error::invalid("GNU sparse file without GNU.sparse.realsize or .size");
    if (s.major && (!s.map.empty() || s.numblocks))
        return Error::invalid("GNU sparse 1.0 file with a map in its PAX header");
    if (s.offset)
        return Error::invalid("GNU.sparse.offset without its GNU.sparse.numbytes");
    if (s.numblocks && *s.numblocks != s.map.size())
        return Error::invalid("GNU.sparse.numblocks says ", *s.numblocks, " segments, the map has ",
                              s.map.size());
    return {};
}

Result<bool> parse_sparse_lines(SparseHeader& s)
{
    const std::string_view text(s.text);
    while (!s.count || s.numbers.size() < 2 * *s.count) {
        const auto newline = text.find('\n', s.parsed);
        if (newline == std::string_view::npos)
            return false; // the rest comes with the next block
        const auto line = text.substr(s.parsed, newline - s.parsed);
        const auto v = parse_int<std::uint64_t>(line);
        if (!v)
            return Error::invalid("sparse map: bad number ", quoted(line.substr(0, 32)));
        s.parsed = newline + 1;
        if (!s.count) {
            if (*v > max_segments)
                return Error::invalid("sparse map of ", *v, " segments (limit ", max_segments, ")");
            s.count = *v;
        } else {
            s.numbers.push_back(*v);
        }
    }
    for (std::size_t i = 0; i < s.numbers.size(); i += 2)
        s.map.push_back({s.numbers[i], s.numbers[i + 1]});
    s.numbers.clear();
    s.text.clear();
    return true;
}

Result<bool> old_gnu_segments(const char* block, std::size_t at, std::size_t count,
                              std::vector<SparseSegment>& map)
{
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t entry = at + 24 * i;
        if (block[entry] == '\0')
            break; // an unused slot: the list ends
        const auto offset = tar_number(block, entry, 12),
                   length = tar_number(block, entry + 12, 12);
        if (!offset || !length)
            return Error::invalid("GNU sparse header: bad segment number");
        if (map.size() >= max_segments)
            return Error::invalid("GNU sparse header: over ", max_segments, " segments");
        map.push_back({*offset, *length});
    }
    return block[at + 24 * count] != '\0'; // isextended
}

Result<void> check_sparse_map(const std::vector<SparseSegment>& map, std::uint64_t realsize,
                              std::uint64_t stored)
{
    std::uint64_t end = 0, sum = 0;
    for (const auto& s : map) {
        if (s.offset < end)
            return Error::invalid("sparse map: segment at ", s.offset,
                                  " overlaps or precedes the one ending at ", end);
        if (s.length > realsize || s.offset > realsize - s.length)
            return Error::invalid("sparse map: segment of ", s.length, " bytes at ", s.offset,
                                  " ends past the file's size of ", realsize);
        end = s.offset + s.length;
        sum += s.length; // <= realsize: the segments are apart and inside it
    }
    if (sum != stored)
        return Error::invalid("sparse map: segments of ", sum, " bytes, the entry holds ", stored);
    return {};
}

} // namespace berth::image
