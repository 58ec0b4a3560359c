#define BOOST_TEST_MODULE image_tar
#include <iomanip>
#include <boost/test/unit_test.hpp>
#include "image/internal.hpp"
#include "tests/support/tar_builder.hpp"

using namespace berth;
using namespace berth::image;
using berth::test::TarBuilder;

namespace {

struct Recorder final : TarHandler {
    std::vector<TarEntry> entries;
    std::vector<std::string> bodies;
    Result<void> begin(const TarEntry& e) override
    {
        entries.push_back(e);
        bodies.emplace_back();
        return {};
    }
    Result<void> data_chunk(const char* b, std::size_t n)
    {
        bodies.back().append(b, n);
        return {};
    }
    Result<void> data(const char* b, std::size_t n) override { return data_chunk(b, n); }
    Result<void> end() override { return {}; }
    bool sparse_ok = false; // takes sparse files: their pieces land in pieces
    std::vector<std::pair<std::uint64_t, std::string>> pieces;
    bool accepts_sparse() const override { return sparse_ok; }
    Result<void> data_at(std::uint64_t offset, const char* b, std::size_t n) override
    {
        if (!pieces.empty() && pieces.back().first + pieces.back().second.size() == offset)
            pieces.back().second.append(b, n); // one piece however the stream was cut
        else
            pieces.emplace_back(offset, std::string(b, n));
        return {};
    }
};

// Feeds the stream in small odd-sized chunks: the parser must not care where reads split.
Result<void> feed_in_chunks(TarParser& p, const std::string& s, std::size_t chunk = 7)
{
    for (std::size_t i = 0; i < s.size(); i += chunk)
        if (auto r = p.feed(s.data() + i, std::min(chunk, s.size() - i)); !r)
            return r;
    return p.finish();
}

// The first header's checksum again, after a test changed its bytes.
void reseal(std::string& stream)
{
    std::fill_n(stream.begin() + 148, 8, ' ');
    unsigned sum = 0;
    for (std::size_t i = 0; i < 512; ++i)
        sum += static_cast<unsigned char>(stream[i]);
    stream.replace(148, 7, cat(std::oct, std::setw(6), std::setfill('0'), sum, '\0'));
}

using Pieces = std::vector<std::pair<std::uint64_t, std::string>>;
using Map = std::vector<std::pair<std::uint64_t, std::uint64_t>>;

// A PAX 1.0 sparse file as GNU tar --format=posix writes it: the map's decimal lines at the start
// of the data, padded to a block, then the segments' bytes.
std::string pax1_sparse(std::string_view name, std::uint64_t size, std::string_view map_lines,
                        std::string_view packed)
{
    std::string body(map_lines);
    body.append((512 - body.size() % 512) % 512, '\0');
    body += packed;
    return TarBuilder()
        .pax_key("GNU.sparse.major", "1")
        .pax_key("GNU.sparse.minor", "0")
        .pax_key("GNU.sparse.name", name)
        .pax_key("GNU.sparse.realsize", std::to_string(size))
        .file("./GNUSparseFile.7/" + std::string(name), body)
        .file("after", "next")
        .finish();
}

std::vector<SparseSegment> segments(const Map& map)
{
    std::vector<SparseSegment> out;
    out.reserve(map.size());
    for (const auto& [offset, length] : map)
        out.push_back({offset, length});
    return out;
}

// Parses stream with a handler taking sparse files; the first entry must be the sparse one.
void expect_sparse(const std::string& stream, const std::string& name, std::uint64_t size,
                   const Map& map, const Pieces& pieces)
{
    for (const std::size_t chunk : {std::size_t{7}, std::size_t{512}, stream.size()}) {
        Recorder rec;
        rec.sparse_ok = true;
        TarParser p(rec);
        auto r = feed_in_chunks(p, stream, chunk);
        BOOST_TEST_REQUIRE(r.has_value(), r.error().message());
        BOOST_TEST_REQUIRE(rec.entries.size() == 2u);
        BOOST_TEST(rec.entries[0].path == name);
        BOOST_TEST(rec.entries[0].type == '0');
        BOOST_TEST(rec.entries[0].sparse);
        BOOST_TEST(rec.entries[0].size == size);
        BOOST_TEST((rec.entries[0].sparse_map == segments(map)));
        BOOST_TEST((rec.pieces == pieces));
        BOOST_TEST(rec.bodies[0].empty()); // nothing through data()
        BOOST_TEST(rec.entries[1].path == "after");
        BOOST_TEST(!rec.entries[1].sparse);
        BOOST_TEST(rec.bodies[1] == "next");
    }
}

// The error a sparse-taking handler gets from stream (none: "").
std::string sparse_error(const std::string& stream)
{
    Recorder rec;
    rec.sparse_ok = true;
    TarParser p(rec);
    auto r = feed_in_chunks(p, stream, 100);
    if (r)
        return {};
    BOOST_TEST(r.error().code == EINVAL);
    return r.error().message();
}

} // namespace

BOOST_AUTO_TEST_SUITE(tar)

BOOST_AUTO_TEST_CASE(entries_come_out_in_order_with_their_data)
{
    const auto stream = TarBuilder()
                            .dir("etc", 0755)
                            .file("etc/hosts", "127.0.0.1 localhost\n", 0600, 10, 20)
                            .symlink("etc/link", "hosts")
                            .hardlink("etc/hard", "etc/hosts")
                            .finish();
    Recorder rec;
    TarParser p(rec);
    BOOST_TEST_REQUIRE(feed_in_chunks(p, stream).has_value());
    BOOST_TEST_REQUIRE(rec.entries.size() == 4u);
    BOOST_TEST(rec.entries[1].path == "etc/hosts");
    BOOST_TEST(rec.entries[1].mode == 0600u);
    BOOST_TEST(rec.entries[1].uid == 10u);
    BOOST_TEST(rec.bodies[1] == "127.0.0.1 localhost\n");
    BOOST_TEST(rec.entries[2].type == '2');
    BOOST_TEST(rec.entries[2].link == "hosts");
    BOOST_TEST(rec.entries[3].type == '1');
}

BOOST_AUTO_TEST_CASE(pax_long_names_and_xattrs_apply_to_the_next_entry)
{
    const std::string long_name = std::string(150, 'n') + "/" + std::string(120, 'f');
    const auto stream =
        TarBuilder().pax_xattr("user.test", "value").file(long_name, "x").file("b", "y").finish();
    Recorder rec;
    TarParser p(rec);
    BOOST_TEST_REQUIRE(feed_in_chunks(p, stream, 513).has_value());
    BOOST_TEST_REQUIRE(rec.entries.size() == 2u);
    BOOST_TEST(rec.entries[0].path == long_name);
    BOOST_TEST_REQUIRE(rec.entries[0].xattrs.size() == 1u);
    BOOST_TEST(rec.entries[0].xattrs[0].first == "user.test");
    BOOST_TEST(rec.entries[1].path == "b");
    BOOST_TEST(rec.entries[1].xattrs.empty());
}

// GNU tar's default format: names and link targets over 100 bytes in 'L' / 'K' entries before
// the entry they name, ids over 7 octal digits and sizes over 11 in base-256 (audit G10).
BOOST_AUTO_TEST_CASE(gnu_long_names_and_links_and_base_256_numbers_are_read)
{
    const std::string long_name = "usr/" + std::string(150, 'n') + "/file";
    const std::string long_target = "../" + std::string(130, 't');
    const std::uint64_t huge = (std::uint64_t{1} << 33) + 5; // over 11 octal digits
    const auto stream = TarBuilder()
                            .gnu_longname(long_name)
                            .file("stand-in", "data", 0644, 3000000, 4000000)
                            .gnu_longname(long_name + ".lnk")
                            .gnu_longlink(long_target)
                            .symlink("lnk", "t")
                            .gnu_longlink(long_name)
                            .hardlink("hard", "x")
                            .file("plain", "p")
                            .header_only("huge", huge)
                            .finish();
    Recorder rec;
    TarParser p(rec);
    auto r = feed_in_chunks(p, stream, 100);
    BOOST_TEST_REQUIRE(!r.has_value()); // the huge entry's data is not there
    BOOST_TEST(r.error().message().find("truncated") != std::string::npos, r.error().message());
    BOOST_TEST_REQUIRE(rec.entries.size() == 5u);
    BOOST_TEST(rec.entries[0].path == long_name);
    BOOST_TEST(rec.entries[0].uid == 3000000u);
    BOOST_TEST(rec.entries[0].gid == 4000000u);
    BOOST_TEST(rec.bodies[0] == "data");
    BOOST_TEST(rec.entries[1].path == long_name + ".lnk");
    BOOST_TEST(rec.entries[1].type == '2');
    BOOST_TEST(rec.entries[1].link == long_target);
    BOOST_TEST(rec.entries[2].path == "hard");
    BOOST_TEST(rec.entries[2].type == '1');
    BOOST_TEST(rec.entries[2].link == long_name);
    BOOST_TEST(rec.entries[3].path == "plain"); // the long names applied to one entry each
    BOOST_TEST(rec.entries[3].link.empty());
    BOOST_TEST(rec.entries[4].path == "huge");
    BOOST_TEST(rec.entries[4].size == huge);
}

BOOST_AUTO_TEST_CASE(a_negative_base_256_number_is_refused)
{
    auto stream = TarBuilder().file("a", "x", 0644, 3000000).finish();
    stream[108] = static_cast<char>(0xc0); // base-256 with the sign bit: negative
    reseal(stream);
    Recorder rec;
    TarParser p(rec);
    auto r = feed_in_chunks(p, stream);
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message().find("bad numeric field") != std::string::npos,
               r.error().message());
}

// Old-style regular files: type '\0' (pre-POSIX tar) and '7' (contiguous) are plain files, but
// for a '\0' entry named with a trailing '/'.
BOOST_AUTO_TEST_CASE(type_nul_and_7_entries_are_regular_files_or_a_slashed_directory)
{
    for (const char type : {'\0', '7'}) {
        auto stream = TarBuilder().file("a", "xy").finish();
        stream[156] = type;
        reseal(stream);
        Recorder rec;
        TarParser p(rec);
        auto r = feed_in_chunks(p, stream);
        BOOST_TEST_REQUIRE(r.has_value(), r.error().message());
        BOOST_TEST_REQUIRE(rec.entries.size() == 1u);
        BOOST_TEST(rec.entries[0].type == '0');
        BOOST_TEST(rec.bodies[0] == "xy");
    }
    auto dir = TarBuilder().dir("d/").finish();
    dir[156] = '\0';
    reseal(dir);
    Recorder rec;
    TarParser p(rec);
    BOOST_TEST_REQUIRE(feed_in_chunks(p, dir).has_value());
    BOOST_TEST_REQUIRE(rec.entries.size() == 1u);
    BOOST_TEST(rec.entries[0].type == '5'); // pre-POSIX: a directory by its trailing '/'
}

BOOST_AUTO_TEST_CASE(a_corrupt_header_checksum_is_refused)
{
    auto stream = TarBuilder().file("a", "x").finish();
    stream[0] = 'b';
    Recorder rec;
    TarParser p(rec);
    auto r = feed_in_chunks(p, stream);
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message().find("checksum") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_stream_cut_inside_an_entry_is_truncated)
{
    const auto stream = TarBuilder().file("a", std::string(2000, 'x')).finish();
    Recorder rec;
    TarParser p(rec);
    BOOST_TEST_REQUIRE(p.feed(stream.data(), 1000).has_value());
    auto r = p.finish();
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message().find("truncated") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(gzip_and_zstd_inflate_to_the_same_bytes)
{
    std::string data;
    for (int i = 0; i < 200000; ++i)
        data += std::to_string(i);
    for (auto [kind, packed] : {std::pair{Compression::Gzip, test::gzip_bytes(data)},
                                std::pair{Compression::Zstd, test::zstd_bytes(data)}}) {
        auto d = Decompressor::create(kind);
        std::string out;
        for (std::size_t i = 0; i < packed.size(); i += 4096) {
            auto r = d->feed(packed.data() + i, std::min<std::size_t>(4096, packed.size() - i),
                             [&](const char* b, std::size_t n) -> Result<void> {
                                 out.append(b, n);
                                 return {};
                             });
            BOOST_TEST_REQUIRE(r.has_value());
        }
        BOOST_TEST(d->finish().has_value());
        BOOST_TEST(sha256_digest(out) == sha256_digest(data));
    }
}

BOOST_AUTO_TEST_CASE(truncated_or_corrupt_compressed_streams_are_errors)
{
    const auto packed = test::gzip_bytes(std::string(100000, 'a') + "tail");
    auto sink = [](const char*, std::size_t) -> Result<void> { return {}; };
    auto cut = Decompressor::create(Compression::Gzip);
    BOOST_TEST_REQUIRE(cut->feed(packed.data(), packed.size() / 2, sink).has_value());
    BOOST_TEST(!cut->finish().has_value());
    auto bad = Decompressor::create(Compression::Gzip);
    std::string garbage = packed;
    garbage[0] = 'Z';
    BOOST_TEST(!bad->feed(garbage.data(), garbage.size(), sink).has_value());
    const auto z = test::zstd_bytes("hello");
    auto zcut = Decompressor::create(Compression::Zstd);
    BOOST_TEST_REQUIRE(zcut->feed(z.data(), z.size() - 3, sink).has_value());
    BOOST_TEST(!zcut->finish().has_value());
}

// A layer's decompressor leaves zstd's frame checksum to the diffID the pull checks; every other
// (an archive's envelope) still checks it.
BOOST_AUTO_TEST_CASE(a_zstd_frame_checksum_is_checked_unless_the_caller_hashes_the_output)
{
    const std::string data(100000, 'q');
    auto packed = test::zstd_bytes(data); // zstd(1) writes the checksum: the last 4 bytes
    packed.back() = static_cast<char>(packed.back() ^ 0x5a);
    std::string out;
    auto sink = [&](const char* b, std::size_t n) -> Result<void> {
        out.append(b, n);
        return {};
    };
    auto checked = Decompressor::create(Compression::Zstd);
    auto r = checked->feed(packed.data(), packed.size(), sink);
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message().find("zstd stream is corrupt") != std::string::npos,
               r.error().message());
    out.clear();
    auto hashed = Decompressor::create(Compression::Zstd, /*output_hashed=*/true);
    BOOST_TEST_REQUIRE(hashed->feed(packed.data(), packed.size(), sink).has_value());
    BOOST_TEST(hashed->finish().has_value());
    BOOST_TEST(out == data);
}

// Issue 15 (G3): as it stands, a PAX sparse entry is its map and packed data under a made-up name.
BOOST_AUTO_TEST_CASE(a_pax_sparse_file_is_refused_by_name_not_unpacked_wrong)
{
    const auto stream = TarBuilder()
                            .pax_key("GNU.sparse.major", "1")
                            .pax_key("GNU.sparse.minor", "0")
                            .pax_key("GNU.sparse.name", "data/disk.img")
                            .pax_key("GNU.sparse.realsize", "1048576")
                            .file("data/GNUSparseFile.0/disk.img", "1\n0\n5\n")
                            .finish();
    Recorder rec;
    TarParser p(rec);
    auto r = feed_in_chunks(p, stream);
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().code == EINVAL);
    BOOST_TEST(r.error().message().find("data/disk.img") != std::string::npos, r.error().message());
    BOOST_TEST(r.error().message().find("sparse") != std::string::npos, r.error().message());
    BOOST_TEST(rec.entries.empty());
}

BOOST_AUTO_TEST_CASE(pax_1_0_sparse_files_come_out_as_segments_at_their_offsets)
{
    // Two segments, a hole between and after them; the last line pair is GNU tar's end marker.
    const std::string packed = "abc" + std::string(600, 'x') + "de";
    expect_sparse(
        pax1_sparse("data/disk.img", 1 << 20, "3\n100\n603\n5000\n2\n1048576\n0\n", packed),
        "data/disk.img", 1 << 20, {{100, 603}, {5000, 2}, {1048576, 0}},
        {{100, "abc" + std::string(600, 'x')}, {5000, "de"}});
    // A map of over one block, and a file all hole.
    constexpr auto many_size = std::uint64_t{200} * 4096;
    std::string lines = "200\n";
    Map map;
    Pieces pieces;
    std::string bytes;
    for (std::uint64_t i = 0; i < 200; ++i) {
        lines += std::to_string(i * 4096) + "\n1\n";
        map.emplace_back(i * 4096, 1);
        pieces.emplace_back(i * 4096, std::string(1, static_cast<char>('a' + i % 26)));
        bytes += pieces.back().second;
    }
    expect_sparse(pax1_sparse("many", many_size, lines, bytes), "many", many_size, map, pieces);
    expect_sparse(pax1_sparse("hole", 4096, "1\n4096\n0\n", ""), "hole", 4096, {{4096, 0}}, {});
}

BOOST_AUTO_TEST_CASE(pax_0_x_sparse_maps_come_from_the_pax_records)
{
    const auto v01 = TarBuilder()
                         .pax_key("GNU.sparse.size", "10000")
                         .pax_key("GNU.sparse.numblocks", "2")
                         .pax_key("GNU.sparse.name", "f01")
                         .pax_key("GNU.sparse.map", "10,2,9000,3")
                         .file("GNUSparseFile.1/f01", "hello")
                         .file("after", "next")
                         .finish();
    expect_sparse(v01, "f01", 10000, {{10, 2}, {9000, 3}}, {{10, "he"}, {9000, "llo"}});
    const auto v00 = TarBuilder()
                         .pax_key("GNU.sparse.size", "10000")
                         .pax_key("GNU.sparse.numblocks", "2")
                         .pax_key("GNU.sparse.offset", "0")
                         .pax_key("GNU.sparse.numbytes", "1")
                         .pax_key("GNU.sparse.offset", "9999")
                         .pax_key("GNU.sparse.numbytes", "1")
                         .file("f00", "ab")
                         .file("after", "next")
                         .finish();
    expect_sparse(v00, "f00", 10000, {{0, 1}, {9999, 1}}, {{0, "a"}, {9999, "b"}});
}

BOOST_AUTO_TEST_CASE(old_gnu_sparse_files_and_their_extension_blocks_are_read)
{
    const auto small = TarBuilder()
                           .gnu_sparse("s", 8192, {{0, 2}, {4096, 2}, {8192, 0}}, "abcd")
                           .file("after", "next")
                           .finish();
    expect_sparse(small, "s", 8192, {{0, 2}, {4096, 2}, {8192, 0}}, {{0, "ab"}, {4096, "cd"}});
    Map map; // 4 in the header, 21 in a first extension block, 5 in a second
    Pieces pieces;
    std::string bytes;
    for (std::uint64_t i = 0; i < 30; ++i) {
        map.emplace_back(i * 1000 + 7, 3);
        pieces.emplace_back(i * 1000 + 7, std::to_string(100 + i));
        bytes += pieces.back().second;
    }
    const auto big = TarBuilder()
                         .gnu_longname(std::string(120, 'g'))
                         .gnu_sparse("short", 30000, map, bytes)
                         .file("after", "next")
                         .finish();
    expect_sparse(big, std::string(120, 'g'), 30000, map, pieces);
}

BOOST_AUTO_TEST_CASE(malformed_sparse_maps_are_refused_with_what_is_wrong)
{
    const auto pax1 = [](std::string_view lines, std::string_view packed) {
        return pax1_sparse("f", 10000, lines, packed);
    };
    const std::vector<std::pair<std::string, std::string>> cases{
        {pax1("2\n100\n2\n101\n2\n", "abcd"), "overlaps"},
        {pax1("2\n500\n2\n100\n2\n", "abcd"), "overlaps or precedes"},
        {pax1("1\n9999\n2\n", "ab"), "past the file's size"},
        {pax1("1\n18446744073709551615\n2\n", "ab"), "past the file's size"},
        {pax1("1\n100\n3\n", "ab"), "the entry holds"},
        {pax1("1\n100\n2\n", "abcd"), "the entry holds"},
        {pax1("1\n1x0\n2\n", "ab"), "bad number"},
        {pax1("2\n100\n2\n", ""), "cut short"},
        {pax1("99999999\n", ""), "segments (limit"},
        {TarBuilder()
             .pax_key("GNU.sparse.major", "2")
             .pax_key("GNU.sparse.minor", "0")
             .pax_key("GNU.sparse.realsize", "10")
             .file("f", "1\n0\n0\n")
             .finish(),
         "GNU sparse format 2.0"},
        {TarBuilder().pax_key("GNU.sparse.map", "1,2").file("f", "ab").finish(),
         "without GNU.sparse.realsize"},
        {TarBuilder()
             .pax_key("GNU.sparse.size", "10")
             .pax_key("GNU.sparse.map", "1,2,3")
             .file("f", "ab")
             .finish(),
         "GNU.sparse.map of 3 numbers"},
        {TarBuilder()
             .pax_key("GNU.sparse.size", "10")
             .pax_key("GNU.sparse.numblocks", "2")
             .pax_key("GNU.sparse.map", "1,2")
             .file("f", "ab")
             .finish(),
         "numblocks says 2"},
        {TarBuilder()
             .pax_key("GNU.sparse.size", "10")
             .pax_key("GNU.sparse.numbytes", "2")
             .file("f", "ab")
             .finish(),
         "unexpected GNU.sparse.numbytes"},
        {TarBuilder()
             .pax_key("GNU.sparse.size", "10")
             .pax_key("GNU.sparse.bogus", "2")
             .file("f", "ab")
             .finish(),
         "unexpected GNU.sparse.bogus"},
        {TarBuilder()
             .pax_key("GNU.sparse.size", "10")
             .pax_key("GNU.sparse.map", "0,2")
             .dir("d")
             .finish(),
         "on a type"},
        {TarBuilder().gnu_sparse("s", 100, {{50, 2}, {10, 2}}, "abcd").finish(),
         "overlaps or precedes"},
        {TarBuilder().gnu_sparse("s", 100, {{99, 2}}, "ab").finish(), "past the file's size"},
    };
    for (const auto& [stream, want] : cases) {
        const auto message = sparse_error(stream);
        BOOST_TEST(message.find(want) != std::string::npos, "want " << want << ", got " << message);
    }
}

// PAX 0.1 maps in a run of extended headers add up to one map: the segment limit holds for the
// sum, not for each header (else each header under 1 MiB would add 4 MiB of segments, forever).
BOOST_AUTO_TEST_CASE(pax_sparse_maps_in_a_run_of_extended_headers_are_bounded_together)
{
    std::string map;
    for (int i = 0; i < 100000; ++i)
        map += "0,0,";
    map.pop_back();
    // One extended header holding the map, without the entry TarBuilder writes after it.
    const auto extended = [&] {
        const auto one = TarBuilder().pax_key("GNU.sparse.map", map).file("f", "").bytes();
        return one.substr(0, one.size() - 512);
    }();
    std::string stream;
    for (int i = 0; i < 3; ++i) // 300,000 segments: over the 262,144 a map may have
        stream += extended;
    stream += TarBuilder().pax_key("GNU.sparse.size", "10").file("f", "").finish();
    const auto message = sparse_error(stream);
    BOOST_TEST(message.find("GNU.sparse.map of 200000 numbers (after 200000 segments)") !=
                   std::string::npos,
               message);
}

BOOST_AUTO_TEST_CASE(old_gnu_sparse_files_are_refused_by_handlers_that_take_none)
{
    const auto stream = TarBuilder().gnu_sparse("s", 8192, {{0, 2}}, "ab").finish();
    Recorder rec; // like the image archive stager
    TarParser p(rec);
    auto r = feed_in_chunks(p, stream);
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().code == EINVAL);
    BOOST_TEST(r.error().message().find("'s': GNU sparse files are not supported") !=
                   std::string::npos,
               r.error().message());
    BOOST_TEST(rec.entries.empty());
}

BOOST_AUTO_TEST_CASE(layer_paths_are_cleaned_and_dotdot_refused)
{
    BOOST_TEST(*clean_layer_path("./a//b/") == "a/b");
    BOOST_TEST(*clean_layer_path("/etc/passwd") == "etc/passwd");
    BOOST_TEST(!clean_layer_path("a/../../etc").has_value());
    BOOST_TEST(!clean_layer_path("..").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
