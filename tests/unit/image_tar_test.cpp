#define BOOST_TEST_MODULE image_tar
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
};

// Feeds the stream in small odd-sized chunks: the parser must not care where reads split.
Result<void> feed_in_chunks(TarParser& p, const std::string& s, std::size_t chunk = 7)
{
    for (std::size_t i = 0; i < s.size(); i += chunk)
        if (auto r = p.feed(s.data() + i, std::min(chunk, s.size() - i)); !r)
            return r;
    return p.finish();
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

BOOST_AUTO_TEST_CASE(layer_paths_are_cleaned_and_dotdot_refused)
{
    BOOST_TEST(*clean_layer_path("./a//b/") == "a/b");
    BOOST_TEST(*clean_layer_path("/etc/passwd") == "etc/passwd");
    BOOST_TEST(!clean_layer_path("a/../../etc").has_value());
    BOOST_TEST(!clean_layer_path("..").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
