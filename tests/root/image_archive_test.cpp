#define BOOST_TEST_MODULE image_archive
#include <fcntl.h>
#include <cstdio>
#include <functional>
#include <boost/test/unit_test.hpp>
#include "base/files.hpp"
#include "tests/root/image_archive_support.hpp"
#include "tests/root/image_support.hpp"
#include "tests/support/privileges.hpp"

using namespace berth;
using namespace berth::test;
namespace utf = boost::unit_test;

BOOST_TEST_GLOBAL_FIXTURE(PrivateNamespaces);

namespace {

std::string app_layer()
{
    return TarBuilder()
        .dir("etc")
        .file("etc/os-release", "NAME=berth-archive\n")
        .file("bin/tool", "#!/bin/sh\n", 0755)
        .symlink("bin/link", "tool")
        .finish();
}

std::string top_layer()
{
    return TarBuilder().file("etc/motd", "loaded\n", 0640, 1000, 1000).finish();
}

struct Fixture {
    TempDir dir{"berth-archive"};
    image::Store store = *image::Store::open(dir.path() + "/store");
    Fixture() { BOOST_TEST_REQUIRE(store.gc().has_value()); } // locks/gc.lock exists from here

    std::string write(const std::string& bytes, const std::string& name = "in.tar") const
    {
        auto path = dir.path() + "/" + name;
        BOOST_TEST_REQUIRE(write_file_atomic(path, bytes).has_value());
        return path;
    }
    Result<std::vector<image::ImageRecord>> load(const std::string& bytes,
                                                 const image::LoadOptions& o = {})
    {
        const Fd fd(::open(write(bytes).c_str(), O_RDONLY | O_CLOEXEC));
        return store.load(fd.get(), o);
    }
    // Everything under the store but containers/: what "untouched" means.
    std::vector<std::string> state() const
    {
        std::vector<std::string> out;
        for (const char* sub : {"blobs/sha256", "snapshots", "images", "ingest", "leases", "locks"})
            for (const auto& name : list_dir(dir.path() + "/store/" + sub))
                out.push_back(std::string(sub) + "/" + name);
        return out;
    }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(archives, Fixture, *utf::label("root") * utf::precondition(is_root))

BOOST_AUTO_TEST_CASE(a_gzipped_oci_layout_archive_loads_and_its_layers_unpack)
{
    const ArchiveImage image{"berth.local/app:1", {app_layer(), top_layer()}};
    const auto built = build_image(image);
    auto records = load(gzip_bytes(tar_of(oci_members({image}))));
    BOOST_TEST_REQUIRE(records.has_value(), why(records));
    BOOST_TEST_REQUIRE(records->size() == 1u);
    const auto& r = records->front();
    BOOST_TEST(r.reference == "berth.local/app:1");
    BOOST_TEST(r.manifest_digest == built.manifest);
    BOOST_TEST(store.has_blob(built.manifest));
    BOOST_TEST(store.has_blob(built.config));
    BOOST_TEST(read_all(store.snapshot_path(r.chain[0]) + "/etc/os-release") ==
               "NAME=berth-archive\n");
    BOOST_TEST(read_all(store.snapshot_path(r.chain[1]) + "/etc/motd") == "loaded\n");
    BOOST_TEST(store.find("berth.local/app:1").has_value());
    BOOST_TEST(list_dir(dir.path() + "/store/ingest").empty());
    BOOST_TEST(list_dir(dir.path() + "/store/leases").empty());
}

BOOST_AUTO_TEST_CASE(a_legacy_docker_save_archive_loads_with_a_symlinked_duplicate_layer)
{
    const ArchiveImage image{"busybox:legacy", {app_layer(), top_layer(), app_layer()}};
    auto records = load(gzip_bytes(tar_of(docker_legacy_members({image}))));
    BOOST_TEST_REQUIRE(records.has_value(), why(records));
    const auto& r = records->front();
    BOOST_TEST(r.reference == "docker.io/library/busybox:legacy");
    BOOST_TEST_REQUIRE(r.chain.size() == 3u);
    BOOST_TEST(read_all(store.snapshot_path(r.chain[2]) + "/etc/os-release") ==
               "NAME=berth-archive\n");
    // The manifest berth wrote for it is stored and describes the uncompressed layers.
    auto manifest = image::parse_manifest(read_all(store.blob_path(r.manifest_digest)));
    BOOST_TEST_REQUIRE(manifest.has_value(), why(manifest));
    BOOST_TEST(manifest->layers[0].media_type == "application/vnd.docker.image.rootfs.diff.tar");
}

BOOST_AUTO_TEST_CASE(a_docker_25_archive_loads_through_its_index_json)
{
    const ArchiveImage image{"docker.io/library/new:25", {app_layer()}, false};
    auto records = load(tar_of(oci_members({image}, true)));
    BOOST_TEST_REQUIRE(records.has_value(), why(records));
    BOOST_TEST(records->front().manifest_digest == build_image(image).manifest);
}

BOOST_AUTO_TEST_CASE(unnamed_images_take_the_name_given_and_bare_tags_need_one)
{
    auto unnamed = load(tar_of(oci_members({{"", {app_layer()}}})));
    BOOST_TEST_REQUIRE(!unnamed.has_value());
    BOOST_TEST(unnamed.error().message().find("--name") != std::string::npos);
    image::LoadOptions o;
    o.name = "berth.local/given:2";
    auto named = load(tar_of(oci_members({{"", {app_layer()}}})), o);
    BOOST_TEST_REQUIRE(named.has_value(), why(named));
    BOOST_TEST(named->front().reference == "berth.local/given:2");
    o.name = "berth.local/repo";
    auto tagged = load(tar_of(oci_members({{"v3", {app_layer()}}})), o);
    BOOST_TEST_REQUIRE(tagged.has_value(), why(tagged));
    BOOST_TEST(tagged->front().reference == "berth.local/repo:v3");
}

BOOST_AUTO_TEST_CASE(save_then_load_into_a_fresh_store_round_trips)
{
    const ArchiveImage a{"berth.local/a:1", {app_layer(), top_layer()}};
    const ArchiveImage b{"berth.local/b:1", {app_layer()}}; // shares a's base layer
    auto first = load(tar_of(oci_members({a, b})));
    BOOST_TEST_REQUIRE(first.has_value(), why(first));
    const auto out = dir.path() + "/saved.tar";
    {
        const Fd fd(::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        auto r = store.save({"berth.local/a:1", "berth.local/b:1"}, fd.get());
        BOOST_TEST_REQUIRE(r.has_value(), why(r));
    }
    auto other = image::Store::open(dir.path() + "/other");
    const Fd in(::open(out.c_str(), O_RDONLY | O_CLOEXEC));
    auto records = other->load(in.get());
    BOOST_TEST_REQUIRE(records.has_value(), why(records));
    BOOST_TEST_REQUIRE(records->size() == 2u);
    BOOST_TEST((*records)[0].manifest_digest == build_image(a).manifest);
    BOOST_TEST((*records)[1].manifest_digest == build_image(b).manifest);
    BOOST_TEST(read_all(other->snapshot_path((*records)[0].chain[1]) + "/etc/motd") == "loaded\n");
    // Saving again gives the same bytes.
    const auto again = dir.path() + "/again.tar";
    {
        const Fd fd(::open(again.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        BOOST_TEST_REQUIRE(
            store.save({"berth.local/a:1", "berth.local/b:1"}, fd.get()).has_value());
    }
    BOOST_TEST((read_all(out) == read_all(again)));
}

// The saved tar also holds a `docker save` manifest.json over the same blobs, as Docker 25+
// writes: with the OCI layout's files taken out it still loads, through that file alone.
BOOST_AUTO_TEST_CASE(a_saved_archive_also_loads_as_a_docker_save_archive)
{
    const ArchiveImage a{"berth.local/a:1", {app_layer(), top_layer()}};
    auto first = load(tar_of(oci_members({a})));
    BOOST_TEST_REQUIRE(first.has_value(), why(first));
    const auto out = dir.path() + "/saved.tar";
    {
        const Fd fd(::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        BOOST_TEST_REQUIRE(store.save({"berth.local/a:1"}, fd.get()).has_value());
    }
    auto manifest_json = run_command({"tar", "-xOf", out, "manifest.json"});
    BOOST_TEST_REQUIRE(manifest_json.status == 0, manifest_json.err);
    auto images = image::parse_docker_manifest(manifest_json.out);
    BOOST_TEST_REQUIRE(images.has_value(), why(images));
    BOOST_TEST_REQUIRE(images->size() == 1u);
    const auto& record = first->front();
    const auto& entry = images->front();
    BOOST_TEST(entry.config == "blobs/sha256/" + image::digest_hex(record.config_digest));
    BOOST_TEST_REQUIRE(entry.layers.size() == 2u);
    BOOST_TEST(entry.layers[1] == "blobs/sha256/" + image::digest_hex(record.layers[1]));
    BOOST_TEST_REQUIRE(entry.repo_tags.size() == 1u);
    BOOST_TEST(entry.repo_tags[0] == "berth.local/a:1");

    auto strip = run_command({"tar", "--delete", "-f", out, "index.json", "oci-layout"});
    BOOST_TEST_REQUIRE(strip.status == 0, strip.err);
    // skopeo's docker-archive: reader knows only manifest.json; it finds the tag and the layers.
    auto copy = run_command({"skopeo", "--insecure-policy", "copy", "docker-archive:" + out,
                             "oci:" + dir.path() + "/from-docker:a"},
                            60s);
    BOOST_TEST(copy.status == 0, copy.err);
    auto other = image::Store::open(dir.path() + "/other");
    const Fd in(::open(out.c_str(), O_RDONLY | O_CLOEXEC));
    auto records = other->load(in.get());
    BOOST_TEST_REQUIRE(records.has_value(), why(records));
    BOOST_TEST(records->front().reference == "berth.local/a:1");
    BOOST_TEST(records->front().config_digest == record.config_digest);
    BOOST_TEST(records->front().chain == record.chain, boost::test_tools::per_element());
    BOOST_TEST(read_all(other->snapshot_path(records->front().chain[1]) + "/etc/motd") ==
               "loaded\n");
}

BOOST_AUTO_TEST_CASE(skopeo_reads_what_berth_saves_and_berth_loads_what_skopeo_writes)
{
    const ArchiveImage image{"berth.local/peer:1", {app_layer(), top_layer()}};
    BOOST_TEST_REQUIRE(load(tar_of(oci_members({image}))).has_value());
    const auto saved = dir.path() + "/saved.tar";
    {
        const Fd fd(::open(saved.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        BOOST_TEST_REQUIRE(store.save({"berth.local/peer:1"}, fd.get()).has_value());
    }
    // skopeo finds the image by the name berth wrote, and converts it to a docker save archive.
    const auto docker = dir.path() + "/docker.tar";
    auto copy = run_command({"skopeo", "--insecure-policy", "copy",
                             "oci-archive:" + saved + ":berth.local/peer:1",
                             "docker-archive:" + docker + ":berth.local/peer:from-skopeo"},
                            60s);
    BOOST_TEST_REQUIRE(copy.status == 0, copy.err);
    auto other = image::Store::open(dir.path() + "/other");
    const Fd in(::open(docker.c_str(), O_RDONLY | O_CLOEXEC));
    auto records = other->load(in.get());
    BOOST_TEST_REQUIRE(records.has_value(), why(records));
    BOOST_TEST(records->front().reference == "berth.local/peer:from-skopeo");
    BOOST_TEST(read_all(other->snapshot_path(records->front().chain[1]) + "/etc/motd") ==
               "loaded\n");
    BOOST_TEST(records->front().config_digest == build_image(image).config);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

struct Hostile {
    const char* what;
    std::function<std::string()> archive;
    const char* says;
};

Members valid_members()
{
    return oci_members({{"berth.local/victim:1", {app_layer(), top_layer()}}});
}

std::string without_end(const std::string& tar)
{
    return tar.substr(0, tar.size() - 1024);
}

std::vector<Hostile> hostile_cases()
{
    const auto built = build_image({"x", {app_layer(), top_layer()}});
    return {
        {"a member climbing out",
         [] {
             auto m = valid_members();
             m.emplace_back("../evil", "x");
             return tar_of(m);
         },
         "'../evil': path climbs out"},
        {"an absolute member",
         [] {
             auto m = valid_members();
             m.emplace_back("/etc/evil", "x");
             return tar_of(m);
         },
         "absolute path"},
        {"a symlinked blob",
         [built] {
             auto m = valid_members();
             for (auto& [name, bytes] : m)
                 if (name == blob_name(built.layer_digests[0])) {
                     name.insert(0, "symlink:");
                     bytes = "/etc/shadow";
                 }
             return tar_of(m);
         },
         "symlinked blob"},
        {"a blob that is not what its name says",
         [built] {
             auto m = valid_members();
             for (auto& [name, bytes] : m)
                 if (name == blob_name(built.layer_digests[1]))
                     bytes = gzip_bytes(TarBuilder().file("etc/motd", "evil\n").finish());
             return tar_of(m);
         },
         "(digest mismatch)"},
        {"a layer the config does not describe",
         [] {
             ArchiveImage i{"berth.local/victim:1", {app_layer()}};
             i.claimed_diff_ids = {image::sha256_digest("something else")};
             return tar_of(oci_members({i}));
         },
         "the config says"},
        {"a layer that climbs out of its snapshot",
         [] {
             return tar_of(oci_members(
                 {{"berth.local/victim:1", {TarBuilder().file("../../escape", "x").finish()}}}));
         },
         "climbs out"},
        {"a missing layer",
         [built] {
             auto m = valid_members();
             std::erase_if(m,
                           [&](auto& e) { return e.first == blob_name(built.layer_digests[1]); });
             return tar_of(m);
         },
         "is not in the archive"},
        {"a hardlink member",
         [] {
             auto m = valid_members();
             m.emplace_back("hardlink:x", "index.json");
             return tar_of(m);
         },
         "entry type '1'"},
        {"a tar cut inside a member",
         [] {
             auto t = tar_of(valid_members());
             return t.substr(0, t.size() / 2);
         },
         "truncated"},
        {"a tar without its end blocks", [] { return without_end(tar_of(valid_members())); },
         "truncated"},
        {"a gzip stream cut short",
         [] {
             auto g = gzip_bytes(tar_of(valid_members()));
             return g.substr(0, g.size() - 100);
         },
         "truncated"},
        {"no index at all",
         [] {
             return tar_of({{"hello", "world"}});
         },
         "neither index.json"},
        {"a bare tag and no --name",
         [] {
             return tar_of(oci_members({{"latest", {app_layer()}}}));
         },
         "only by the tag"},
        {"a docker save layer linked out of the archive",
         [] {
             auto m = docker_legacy_members({{"busybox:evil", {app_layer(), app_layer()}}});
             for (auto& [name, bytes] : m)
                 if (name.rfind("symlink:", 0) == 0)
                     bytes = "../../../etc/passwd";
             return tar_of(m);
         },
         "leaves the archive"},
    };
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(hostile_archives, Fixture,
                         *utf::label("root") * utf::precondition(is_root))

BOOST_AUTO_TEST_CASE(each_hostile_archive_is_refused_by_name_and_leaves_the_store_untouched)
{
    // Something already in the store that a failed load must not disturb.
    BOOST_TEST_REQUIRE(
        load(tar_of(oci_members({{"berth.local/kept:1", {top_layer()}}}))).has_value());
    const auto before = state();
    for (const auto& h : hostile_cases()) {
        BOOST_TEST_CONTEXT(h.what)
        {
            auto r = load(h.archive());
            BOOST_TEST_REQUIRE(!r.has_value());
            BOOST_TEST(r.error().message().find(h.says) != std::string::npos, r.error().message());
            BOOST_TEST(state() == before, boost::test_tools::per_element());
        }
    }
    BOOST_TEST(!path_exists("/escape"));
    BOOST_TEST(!path_exists(dir.path() + "/evil"));
    // And the store still loads what is honest.
    BOOST_TEST(load(tar_of(valid_members())).has_value());
}

// A tar holding one member that declares `size` bytes but carries one block.
std::string lying_size_tar(std::uint64_t size)
{
    auto tar = TarBuilder().file("blobs/sha256/" + std::string(64, 'a'), "x").finish();
    char field[12];
    std::snprintf(field, sizeof field, "%011llo", static_cast<unsigned long long>(size));
    tar.replace(124, 12, field, 12); // with its NUL
    tar.replace(148, 8, "        ");
    unsigned sum = 0;
    for (int i = 0; i < 512; ++i)
        sum += static_cast<unsigned char>(tar[static_cast<std::size_t>(i)]);
    std::snprintf(field, sizeof field, "%06o", sum);
    tar.replace(148, 7, field, 7);
    return tar;
}

BOOST_AUTO_TEST_CASE(archives_over_the_total_size_or_member_count_are_refused_and_leave_nothing)
{
    BOOST_TEST_REQUIRE(
        load(tar_of(oci_members({{"berth.local/kept:1", {top_layer()}}}))).has_value());
    const auto before = state();
    const auto valid = tar_of(valid_members());
    image::LoadOptions small;
    small.max_archive_bytes = valid.size() + (64 << 10);
    small.max_members = 12;
    struct Case {
        const char* what;
        std::string archive;
        const char* says;
    };
    Members many = valid_members();
    for (int i = 0; i < 12; ++i)
        many.emplace_back("extra/f" + std::to_string(i), "");
    const std::vector<Case> cases = {
        {"more members than the limit", tar_of(many), "members (the limit)"},
        {"a member declaring 64 GiB", lying_size_tar(std::uint64_t{64} << 30),
         "would take the archive over its limit"},
        {"zeros after the end blocks, gzipped",
         gzip_bytes(valid + std::string(std::size_t{4} << 20, '\0')),
         "once decompressed (the limit)"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.what)
        {
            auto r = load(c.archive, small);
            BOOST_TEST_REQUIRE(!r.has_value());
            BOOST_TEST(r.error().code == EFBIG);
            BOOST_TEST(r.error().message().find(c.says) != std::string::npos, r.error().message());
            BOOST_TEST(state() == before, boost::test_tools::per_element());
        }
    }
    BOOST_TEST(valid_members().size() < 12u);
    BOOST_TEST(load(valid, small).has_value()); // under both limits it loads
}

BOOST_AUTO_TEST_SUITE_END()
