#define BOOST_TEST_MODULE image_pull
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>
#include <boost/test/unit_test.hpp>
#include "base/fd.hpp"
#include "base/files.hpp"
#include "base/strings.hpp"
#include "image/internal.hpp"
#include "tests/root/image_support.hpp"
#include "tests/support/privileges.hpp"

using namespace berth;
using namespace berth::test;
namespace utf = boost::unit_test;

BOOST_TEST_GLOBAL_FIXTURE(PrivateNamespaces);

namespace {

// A registry on 127.0.0.1:5000 over its own storage, and an empty store.
struct Fixture : RegistryStoreFixture {
    Fixture() : RegistryStoreFixture("berth-image") {}

    // Pulls one layer of 1 MiB of random bytes through the proxy in `mode` on `port`, with three
    // attempts, checks its content and returns the proxy's log.
    std::string pull_big_layer_through(const std::string& mode, const std::string& port,
                                       unsigned seed)
    {
        const auto big = random_bytes(1 << 20, seed); // incompressible: the blob is over 64 KiB
        std::vector<Layer> layers{{TarBuilder().file("big", big).finish()}};
        push_image(registry, "test/" + mode, "1", layers);
        auto proxy = start_peer({"proxy", port, "5000", mode});
        auto options = quick_options();
        options.attempts = 3;
        auto record = store.pull(
            *image::parse_reference("127.0.0.1:" + port + "/test/" + mode + ":1"), options);
        BOOST_TEST_REQUIRE(record.has_value(), why(record));
        BOOST_TEST(read_all(store.snapshot_path(record->chain[0]) + "/big") == big);
        return proxy->out();
    }
};

std::string base_layer()
{
    return TarBuilder()
        .dir("etc")
        .file("etc/os-release", "NAME=berth-test\n")
        .file("etc/gone", "removed by the next layer\n")
        .dir("opt/app")
        .file("opt/app/old", "hidden by an opaque dir\n")
        .file("bin/tool", "#!/bin/sh\n", 04755, 0, 0)
        .symlink("bin/link", "tool")
        .hardlink("bin/hard", "bin/tool")
        .fifo("run/fifo")
        .finish();
}

std::string top_layer()
{
    return TarBuilder()
        .file("etc/.wh.gone", "")
        .dir("opt/app")
        .file("opt/app/.wh..wh..opq", "")
        .file("opt/app/new", "top\n")
        .pax_xattr("user.berth", "yes")
        .file("etc/motd", "hello\n", 0640, 1000, 1000)
        .finish();
}

// A 64 MiB file of holes but for a few bytes (one run across a block boundary, one at the end).
void make_sparse_file(const std::string& path)
{
    const Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    BOOST_TEST_REQUIRE(::ftruncate(fd.get(), off_t{64} << 20) == 0);
    for (const off_t at :
         {off_t{0}, (off_t{10} << 20) + 4093, off_t{40} << 20, (off_t{64} << 20) - 5})
        BOOST_TEST_REQUIRE(::pwrite(fd.get(), "bytes", 5, at) == 5);
}

image::Reference ref(const Registry& r, const std::string& name)
{
    return *image::parse_reference(r.host() + "/" + name);
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(pull, Fixture, *utf::label("root") * utf::precondition(is_root))

BOOST_AUTO_TEST_CASE(anonymous_pull_of_gzip_and_zstd_layers_makes_snapshots_and_a_rootfs)
{
    std::vector<Layer> layers{{base_layer()},
                              {top_layer(), "application/vnd.oci.image.layer.v1.tar+zstd"}};
    const auto manifest = push_image(registry, "test/app", "v1", layers);
    auto record = store.pull(ref(registry, "test/app:v1"), quick_options());
    BOOST_TEST_REQUIRE(record.has_value(), why(record));
    BOOST_TEST(record->reference == registry.host() + "/test/app:v1");
    BOOST_TEST(record->manifest_digest == manifest);
    BOOST_TEST_REQUIRE(record->chain.size() == 2u);
    for (const auto& l : record->layers)
        BOOST_TEST(store.has_blob(l));
    const auto base = store.snapshot_path(record->chain[0]);
    BOOST_TEST(read_all(base + "/etc/os-release") == "NAME=berth-test\n");
    struct stat st {};
    BOOST_TEST_REQUIRE(::lstat((base + "/bin/tool").c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 07777) == 04755u);
    BOOST_TEST(st.st_nlink == 2u); // bin/hard
    BOOST_TEST_REQUIRE(::lstat((base + "/run/fifo").c_str(), &st) == 0);
    BOOST_TEST(S_ISFIFO(st.st_mode));
    const auto top = store.snapshot_path(record->chain[1]);
    BOOST_TEST_REQUIRE(::lstat((top + "/etc/gone").c_str(), &st) == 0);
    BOOST_TEST((S_ISCHR(st.st_mode) && st.st_rdev == 0)); // an overlay whiteout
    BOOST_TEST_REQUIRE(::lstat((top + "/etc/motd").c_str(), &st) == 0);
    BOOST_TEST(st.st_uid == 1000u);
    BOOST_TEST((st.st_mode & 07777) == 0640u);
    char xattr[8] = {};
    BOOST_TEST(::lgetxattr((top + "/etc/motd").c_str(), "user.berth", xattr, sizeof xattr) == 3);
    BOOST_TEST(std::string(xattr) == "yes");
    for (const char* path : {"/etc/os-release", "/etc", "/bin/link"}) { // TarBuilder's mtime
        BOOST_TEST_REQUIRE(::lstat((base + path).c_str(), &st) == 0);
        BOOST_TEST(st.st_mtime == 1700000000, path);
    }
    BOOST_TEST(list_dir(dir.path() + "/store/ingest").empty());

    auto rootfs = image::Rootfs::mount(store, *record, "c1");
    BOOST_TEST_REQUIRE(rootfs.has_value(), why(rootfs));
    const auto& root = rootfs->path();
    BOOST_TEST(read_all(root + "/etc/os-release") == "NAME=berth-test\n");
    BOOST_TEST(read_all(root + "/etc/motd") == "hello\n");
    BOOST_TEST(!path_exists(root + "/etc/gone"));                               // whiteout
    BOOST_TEST(list_dir(root + "/opt/app") == std::vector<std::string>{"new"}); // opaque
    BOOST_TEST(read_all(root + "/bin/link") == "#!/bin/sh\n");
    std::ofstream(root + "/etc/written") << "x";
    BOOST_TEST(path_exists(dir.path() + "/store/containers/c1/upper/etc/written"));
    BOOST_TEST(!path_exists(base + "/etc/written"));
}

// chown clears security.capability (the kernel drops file capabilities on an owner change), so
// the writer must set xattrs after the owner: a setcap'd binary owned by a user keeps its caps.
BOOST_AUTO_TEST_CASE(a_file_capability_survives_its_owner_being_set)
{
    // vfs_cap_data revision 2, effective, permitted = CAP_NET_BIND_SERVICE (bit 10).
    const std::string cap("\x01\x00\x00\x02\x00\x04\x00\x00\x00\x00\x00\x00"
                          "\x00\x00\x00\x00\x00\x00\x00\x00",
                          20);
    push_one("test/caps", TarBuilder()
                              .pax_xattr("security.capability", cap)
                              .file("bin/server", "#!/bin/sh\n", 0750, 1000, 1000)
                              .finish());
    auto record = pull("test/caps:1");
    BOOST_TEST_REQUIRE(record.has_value(), why(record));
    const auto path = store.snapshot_path(record->chain[0]) + "/bin/server";
    struct stat st {};
    BOOST_TEST_REQUIRE(::lstat(path.c_str(), &st) == 0);
    BOOST_TEST(st.st_uid == 1000u);
    BOOST_TEST((st.st_mode & 07777) == 0750u);
    std::string got(64, '\0');
    const auto n = ::lgetxattr(path.c_str(), "security.capability", got.data(), got.size());
    BOOST_TEST_REQUIRE(n == 20);
    got.resize(20);
    BOOST_TEST(got == cap);
}

BOOST_AUTO_TEST_CASE(a_rootfs_of_many_layers_mounts_past_the_option_length_limit)
{
    std::vector<Layer> layers;
    layers.reserve(60);
    for (int i = 0; i < 60; ++i) // 60 x ~95-byte paths: over one page of mount options
        layers.emplace_back(
            TarBuilder().file("layer" + std::to_string(i), std::to_string(i)).finish(),
            "application/vnd.oci.image.layer.v1.tar");
    push_image(registry, "test/many", "1", layers);
    auto options = quick_options();
    options.parallel_layers = 8;
    auto record = store.pull(ref(registry, "test/many:1"), options);
    BOOST_TEST_REQUIRE(record.has_value(), why(record));
    auto rootfs = image::Rootfs::mount(store, *record, "many");
    BOOST_TEST_REQUIRE(rootfs.has_value(), why(rootfs));
    BOOST_TEST(read_all(rootfs->path() + "/layer0") == "0");
    BOOST_TEST(read_all(rootfs->path() + "/layer59") == "59");
}

// Kernels before 6.8 (Debian 12, Amazon Linux 2 and 2023): one mount(2) option string, where
// about 35 absolute snapshot paths fill the page; short relative links take Docker's 128 layers.
BOOST_AUTO_TEST_CASE(a_rootfs_of_128_layers_mounts_through_the_legacy_mount_too)
{
    std::vector<Layer> layers;
    layers.reserve(128);
    for (int i = 0; i < 128; ++i)
        layers.emplace_back(
            TarBuilder().file("layer" + std::to_string(i), std::to_string(i)).finish(),
            "application/vnd.oci.image.layer.v1.tar");
    push_image(registry, "test/many", "1", layers);
    auto options = quick_options();
    options.parallel_layers = 8;
    auto record = store.pull(ref(registry, "test/many:1"), options);
    BOOST_TEST_REQUIRE(record.has_value(), why(record));
    struct Legacy { // the path of kernels without "lowerdir+", on this one
        Legacy() { image::force_legacy_overlay(true); }
        ~Legacy() { image::force_legacy_overlay(false); }
    } legacy;
    const auto dir = store.root() + "/containers/old";
    {
        auto rootfs = image::Rootfs::mount(store, *record, "old");
        BOOST_TEST_REQUIRE(rootfs.has_value(), why(rootfs));
        const auto lowers =
            image::overlay_lowerdirs(read_all("/proc/self/mountinfo"), dir + "/merged");
        BOOST_TEST(lowers.size() == 128u);
        BOOST_TEST(lowers.front() == "127"); // the links' names: the mount(2) path was taken
        BOOST_TEST(read_all(rootfs->path() + "/layer0") == "0");
        BOOST_TEST(read_all(rootfs->path() + "/layer127") == "127");
        BOOST_TEST(!path_exists(dir + "/lower")); // the mount holds the layers, not the links
        rootfs->keep();
    }
    // A kill between linking and mounting leaves the links: removal takes them, not the layers.
    BOOST_TEST_REQUIRE(::mkdir((dir + "/lower").c_str(), 0700) == 0);
    const auto base = store.snapshot_path(record->chain[0]);
    BOOST_TEST_REQUIRE(::symlink(base.c_str(), (dir + "/lower/0").c_str()) == 0);
    auto removed = image::Rootfs::remove(store, "old");
    BOOST_TEST_REQUIRE(removed.has_value(), why(removed));
    BOOST_TEST(!path_exists(dir));
    BOOST_TEST(image::overlay_lowerdirs(read_all("/proc/self/mountinfo"), dir + "/merged").empty());
    BOOST_TEST(read_all(base + "/layer0") == "0");
    auto big = *record; // past overlayfs' stack: refused up front, nothing left
    big.chain.assign(501, record->chain[0]);
    auto refused = image::Rootfs::mount(store, big, "big");
    BOOST_TEST_REQUIRE(!refused.has_value());
    BOOST_TEST(refused.error().code == E2BIG);
    BOOST_TEST(refused.error().message().find("501 layers") != std::string::npos);
    BOOST_TEST(refused.error().message().find("at most 500") != std::string::npos);
    BOOST_TEST(!path_exists(store.root() + "/containers/big"));
}

// Issue 15 (G3): GNU tar's three sparse formats, unpacked with their holes.
BOOST_AUTO_TEST_CASE(sparse_files_from_gnu_tar_unpack_with_their_content_and_holes)
{
    const std::vector<std::pair<std::string, std::vector<std::string>>> formats{
        {"pax10.img", {"--format=posix"}}, // PAX 1.0: GNU tar's default sparse version
        {"pax01.img", {"--format=posix", "--sparse-version=0.1"}},
        {"gnu.img", {"--format=gnu"}}, // old GNU 'S'
    };
    const auto src = dir.path() + "/sparse";
    BOOST_TEST_REQUIRE(::mkdir(src.c_str(), 0755) == 0);
    std::vector<Layer> layers;
    for (const auto& [name, flags] : formats) {
        make_sparse_file(cat(src, "/", name));
        std::vector<std::string> argv{"tar", "--sparse", "-C", src, "-cf", "-"};
        argv.insert(argv.begin() + 2, flags.begin(), flags.end());
        argv.push_back(name);
        auto tar = run_command(argv);
        BOOST_TEST_REQUIRE(tar.status == 0, tar.err);
        layers.emplace_back(tar.out, "application/vnd.oci.image.layer.v1.tar");
    }
    push_image(registry, "test/sparse", "1", layers);
    auto record = store.pull(ref(registry, "test/sparse:1"), quick_options());
    BOOST_TEST_REQUIRE(record.has_value(), why(record));
    BOOST_TEST_REQUIRE(record->chain.size() == formats.size());
    for (std::size_t i = 0; i < formats.size(); ++i) {
        const auto& name = formats[i].first;
        const auto path = cat(store.snapshot_path(record->chain[i]), "/", name);
        const auto source = cat(src, "/", name);
        struct stat st {};
        struct stat orig {};
        BOOST_TEST_REQUIRE(::stat(path.c_str(), &st) == 0, name);
        BOOST_TEST_REQUIRE(::stat(source.c_str(), &orig) == 0, name);
        BOOST_TEST(st.st_size == off_t{64} << 20, name);
        BOOST_TEST(st.st_blocks < 512, name << ": " << st.st_blocks << " blocks"); // < 256 KiB
        BOOST_TEST(st.st_mtime == orig.st_mtime, name);
        BOOST_TEST((read_all(path) == read_all(source)), name);
    }
}

// A few bytes of stream could otherwise make a file of any size: the layer's limit applies.
BOOST_AUTO_TEST_CASE(a_sparse_file_over_the_layer_size_limit_is_refused)
{
    const std::uint64_t tib = std::uint64_t{1} << 40;
    std::vector<Layer> layers{{TarBuilder().gnu_sparse("big", tib, {{tib - 1, 1}}, "x").finish()}};
    push_image(registry, "test/sparse-big", "1", layers);
    auto record = store.pull(ref(registry, "test/sparse-big:1"), quick_options()); // 64 GiB
    BOOST_TEST_REQUIRE(!record.has_value());
    BOOST_TEST(record.error().code == EFBIG);
    BOOST_TEST(record.error().message().find("'big': sparse file of 1099511627776 bytes") !=
                   std::string::npos,
               record.error().message());
    // The limit holds for the layer's sparse files together: two of 40 GiB, each under it.
    const std::uint64_t forty = std::uint64_t{40} << 30;
    std::vector<Layer> two{{TarBuilder()
                                .gnu_sparse("a", forty, {{forty - 1, 1}}, "x")
                                .gnu_sparse("b", forty, {{forty - 1, 1}}, "x")
                                .finish()}};
    push_image(registry, "test/sparse-two", "1", two);
    auto both = store.pull(ref(registry, "test/sparse-two:1"), quick_options());
    BOOST_TEST_REQUIRE(!both.has_value());
    BOOST_TEST(both.error().code == EFBIG);
    BOOST_TEST(both.error().message().find("'b': sparse file of") != std::string::npos,
               both.error().message());
}

BOOST_AUTO_TEST_CASE(a_manifest_list_gives_the_requested_platform_or_a_clear_enoent)
{
    std::vector<Layer> amd{{TarBuilder().file("arch", "amd64").finish()}};
    std::vector<Layer> arm{{TarBuilder().file("arch", "arm64").finish()}};
    const auto a = push_image(registry, "test/multi", "amd", amd, "amd64");
    const auto b = push_image(registry, "test/multi", "arm", arm, "arm64");
    push_index(registry, "test/multi", "latest", {{a, "amd64"}, {b, "arm64"}});
    auto options = quick_options();
    options.platform = image::Platform{"linux", "arm64", ""};
    auto record = store.pull(ref(registry, "test/multi"), options);
    BOOST_TEST_REQUIRE(record.has_value(), why(record));
    BOOST_TEST(record->manifest_digest == b);
    BOOST_TEST(read_all(store.snapshot_path(record->chain[0]) + "/arch") == "arm64");
    auto host = store.pull(ref(registry, "test/multi"), quick_options());
    BOOST_TEST_REQUIRE(host.has_value(), why(host));
    BOOST_TEST(host->manifest_digest == a);
    options.platform = image::Platform{"linux", "s390x", ""};
    auto none = store.pull(ref(registry, "test/multi"), options);
    BOOST_TEST_REQUIRE(!none.has_value());
    BOOST_TEST(none.error().code == ENOENT);
    const auto message = none.error().message();
    BOOST_TEST(message.find("test/multi") != std::string::npos);
    BOOST_TEST(message.find("linux/s390x") != std::string::npos);
    BOOST_TEST(message.find("linux/arm64") != std::string::npos);
}

// Docker's schema 2 media types, as most of Docker Hub serves them: a manifest list of two
// platforms, each a Docker manifest with a Docker config and a gzip and an uncompressed layer.
BOOST_AUTO_TEST_CASE(a_docker_manifest_list_and_docker_manifests_pull_like_oci_ones)
{
    const auto docker = ManifestFormat::Docker;
    const std::string gzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    const std::string plain = "application/vnd.docker.image.rootfs.diff.tar";
    std::vector<Layer> amd{{TarBuilder().file("arch", "amd64").finish(), gzip},
                           {TarBuilder().file("etc/motd", "docker\n").finish(), plain}};
    std::vector<Layer> arm{{TarBuilder().file("arch", "arm64").finish(), gzip}};
    const auto a = push_image(registry, "test/docker", "amd", amd, "amd64", docker);
    const auto b = push_image(registry, "test/docker", "arm", arm, "arm64", docker);
    push_index(registry, "test/docker", "latest", {{a, "amd64"}, {b, "arm64"}}, docker);
    auto options = quick_options();
    options.platform = image::Platform{"linux", "amd64", ""};
    auto record = store.pull(ref(registry, "test/docker"), options);
    BOOST_TEST_REQUIRE(record.has_value(), why(record));
    BOOST_TEST(record->manifest_digest == a);
    BOOST_TEST_REQUIRE(record->chain.size() == 2u);
    BOOST_TEST(read_all(store.snapshot_path(record->chain[0]) + "/arch") == "amd64");
    BOOST_TEST(read_all(store.snapshot_path(record->chain[1]) + "/etc/motd") == "docker\n");
    options.platform = image::Platform{"linux", "arm64", ""};
    auto other = store.pull(ref(registry, "test/docker"), options);
    BOOST_TEST_REQUIRE(other.has_value(), why(other));
    BOOST_TEST(other->manifest_digest == b);
}

BOOST_AUTO_TEST_CASE(a_pull_by_digest_verifies_the_manifest)
{
    std::vector<Layer> layers{{TarBuilder().file("x", "y").finish()}};
    const auto digest = push_image(registry, "test/pinned", "1", layers);
    auto record = store.pull(ref(registry, "test/pinned@" + digest), quick_options());
    BOOST_TEST_REQUIRE(record.has_value(), why(record));
    BOOST_TEST(record->manifest_digest == digest);
    auto found = store.find(registry.host() + "/test/pinned@" + digest);
    BOOST_TEST(found.has_value());
}

BOOST_AUTO_TEST_CASE(concurrent_pulls_of_one_image_share_one_download_per_layer)
{
    const auto big = random_bytes(3 << 20);
    std::vector<Layer> layers{{TarBuilder().file("big", big).finish()},
                              {TarBuilder().file("small", "s").finish()}};
    push_image(registry, "test/shared", "1", layers);
    auto proxy = start_peer({"proxy", "5010", "5000", "count"});
    std::vector<std::thread> pulls;
    pulls.reserve(4);
    std::vector<Result<image::ImageRecord>> results(4, Error::invalid("not run"));
    for (int i = 0; i < 4; ++i)
        pulls.emplace_back([&, i] {
            auto s = image::Store::open(dir.path() + "/store"); // as separate users would
            results[i] =
                s->pull(*image::parse_reference("127.0.0.1:5010/test/shared:1"), quick_options());
        });
    for (auto& t : pulls)
        t.join();
    for (const auto& r : results)
        BOOST_TEST(r.has_value(), why(r));
    const auto log = proxy->out();
    const auto count = [&](const std::string& digest) {
        std::size_t n = 0;
        for (auto at = log.find("blobs/" + digest); at != std::string::npos;
             at = log.find("blobs/" + digest, at + 1))
            ++n;
        return n;
    };
    BOOST_TEST(count(results[0]->layers[0]) == 1u);
    BOOST_TEST(count(results[0]->layers[1]) == 1u);
}

// The same with processes, as the agent and the CLI share one store: three `berth pull`s of one
// image at once fetch each blob once (the store's file locks, not a lock in one process).
BOOST_AUTO_TEST_CASE(concurrent_berth_pull_processes_share_one_download_per_layer)
{
    const char* build = std::getenv("BERTH_BUILD_ROOT"); // NOLINT(concurrency-mt-unsafe)
    BOOST_TEST_REQUIRE(build != nullptr);
    std::vector<Layer> layers{{TarBuilder().file("big", random_bytes(3 << 20, 7)).finish()},
                              {TarBuilder().file("small", "s").finish()}};
    push_image(registry, "test/processes", "1", layers);
    auto proxy = start_peer({"proxy", "5013", "5000", "count"});
    const std::vector<std::string> argv{std::string(build) + "/agent/cli/berth", "--root",
                                        store_root, "pull", "127.0.0.1:5013/test/processes:1"};
    std::vector<Command> pulls;
    pulls.reserve(3);
    for (int i = 0; i < 3; ++i)
        pulls.push_back(Command::start(argv));
    for (auto& p : pulls) {
        auto done = p.wait(120s);
        BOOST_TEST(done.status == 0, done.err + done.out);
    }
    auto record = store.find("127.0.0.1:5013/test/processes:1");
    BOOST_TEST_REQUIRE(record.has_value(), why(record));
    const auto log = proxy->out();
    for (const auto& layer : record->layers) {
        std::size_t n = 0;
        for (auto at = log.find("blobs/" + layer); at != std::string::npos;
             at = log.find("blobs/" + layer, at + 1))
            ++n;
        BOOST_TEST(n == 1u, layer << " fetched " << n << " times");
    }
    BOOST_TEST(read_all(store.snapshot_path(record->chain[0]) + "/big").size() == (3u << 20));
}

// No per-file fsync: a pull of two layers of 300 files each makes a handful of fsync/fdatasync
// calls (the records), whatever the number of files, and syncs each snapshot with syncfs (the
// writer's final one per layer; a closing thread's periodic ones come only after 16 MiB).
BOOST_AUTO_TEST_CASE(a_pull_syncs_each_layer_once_and_never_a_file)
{
    const char* build = std::getenv("BERTH_BUILD_ROOT"); // NOLINT(concurrency-mt-unsafe)
    BOOST_TEST_REQUIRE(build != nullptr);
    std::vector<Layer> layers(2, Layer(""));
    for (std::size_t l = 0; l < layers.size(); ++l) {
        TarBuilder tar;
        tar.dir("d");
        for (int i = 0; i < 300; ++i)
            tar.file(cat("d/f", l, "-", i), "content\n");
        layers[l] = Layer(tar.finish());
    }
    push_image(registry, "test/syncs", "1", layers);
    const auto trace = dir.path() + "/syncs.trace";
    // LeakSanitizer cannot run under ptrace: off for the traced berth of the ASan tier.
    std::string asan = "ASAN_OPTIONS=";
    if (const char* o = std::getenv("ASAN_OPTIONS")) // NOLINT(concurrency-mt-unsafe)
        asan += std::string(o) + ":";
    asan += "detect_leaks=0";
    auto traced =
        run_command({"strace", "-f", "-qq", "-E", asan, "-e", "trace=fsync,fdatasync,syncfs", "-o",
                     trace, std::string(build) + "/agent/cli/berth", "--root", store_root, "pull",
                     registry.host() + "/test/syncs:1"},
                    120s);
    BOOST_TEST_REQUIRE(traced.status == 0, traced.err + traced.out);
    std::size_t file_syncs = 0, syncfs = 0;
    std::istringstream lines(read_all(trace));
    for (std::string line; std::getline(lines, line);) {
        if (line.find("syncfs(") != std::string::npos)
            ++syncfs;
        else if (line.find("fsync(") != std::string::npos ||
                 line.find("fdatasync(") != std::string::npos)
            ++file_syncs;
    }
    BOOST_TEST_MESSAGE(syncfs << " syncfs, " << file_syncs << " fsync/fdatasync");
    BOOST_TEST(syncfs == layers.size(), read_all(trace));
    BOOST_TEST(file_syncs < 20u, read_all(trace)); // 600 files: one each would be 600
}

BOOST_AUTO_TEST_CASE(one_pull_reuses_one_connection_for_its_manifest_config_and_layers)
{
    std::vector<Layer> layers;
    layers.reserve(4);
    for (int i = 0; i < 4; ++i)
        layers.emplace_back(
            TarBuilder().file("f" + std::to_string(i), random_bytes(1 << 16)).finish());
    push_image(registry, "test/keepalive", "1", layers);
    auto proxy = start_peer({"proxy", "5012", "5000", "count"});
    auto options = quick_options();
    options.parallel_layers = 1; // one transfer at a time: one connection is enough
    auto record = store.pull(*image::parse_reference("127.0.0.1:5012/test/keepalive:1"), options);
    BOOST_TEST_REQUIRE(record.has_value(), why(record));
    const auto log = proxy->out();
    const auto count = [&](std::string_view what) {
        std::size_t n = 0;
        for (auto at = log.find(what); at != std::string::npos; at = log.find(what, at + 1))
            ++n;
        return n;
    };
    BOOST_TEST(count("request GET") >= 6u, log); // manifest, config, four layers
    BOOST_TEST(count("connection") == 1u, log);
}

BOOST_AUTO_TEST_CASE(a_blob_cut_mid_transfer_is_resumed_with_a_range_request)
{
    const auto log = pull_big_layer_through("cut", "5011", 1u << 20);
    BOOST_TEST(log.find("cut after") != std::string::npos, log);
    BOOST_TEST(log.find("Range: bytes=") != std::string::npos, log);
}

// A registry that ignores Range: the resumed request is answered 200 with the whole blob, and
// the pull skips what it already had rather than take it twice.
BOOST_AUTO_TEST_CASE(a_resume_the_registry_answers_with_the_whole_blob_is_still_byte_exact)
{
    const auto log = pull_big_layer_through("norange", "5014", 11);
    BOOST_TEST(log.find("cut after") != std::string::npos, log);
    BOOST_TEST(log.find("range dropped") != std::string::npos, log);
}

// 503s are retried with a growing wait, up to `attempts`; one more 503 than attempts allow is
// an error that names the blob, the status and how many attempts were made.
BOOST_AUTO_TEST_CASE(a_busy_registry_is_retried_with_backoff_up_to_the_attempts)
{
    std::vector<Layer> layers{{TarBuilder().file("x", "busy").finish()}};
    const auto manifest = push_image(registry, "test/busy", "1", layers);
    {
        auto proxy = start_peer({"proxy", "5015", "5000", "busy"});
        auto options = quick_options();
        options.attempts = 2;
        auto failed = store.pull(*image::parse_reference("127.0.0.1:5015/test/busy:1"), options);
        BOOST_TEST_REQUIRE(!failed.has_value());
        BOOST_TEST(failed.error().code == EIO);
        const auto message = failed.error().message();
        BOOST_TEST(message.find("HTTP 503") != std::string::npos, message);
        BOOST_TEST(message.find("2 attempts") != std::string::npos, message);
        BOOST_TEST(message.find("/blobs/") != std::string::npos, message);
    }
    auto proxy = start_peer({"proxy", "5015", "5000", "busy"});
    auto options = quick_options();
    options.attempts = 3;
    auto record = store.pull(*image::parse_reference("127.0.0.1:5015/test/busy:1"), options);
    BOOST_TEST_REQUIRE(record.has_value(), why(record));
    BOOST_TEST(record->manifest_digest == manifest);
    // The request times of the blob that met the 503s (the first one asked for, the config):
    // three GETs, the waits between them growing (100 ms doubled per attempt: 200, then 400 ms).
    std::map<std::string, std::vector<double>> times;
    std::istringstream lines(proxy->out());
    for (std::string line; std::getline(lines, line);)
        if (const auto blob = line.find("/blobs/"); blob != std::string::npos)
            times[line.substr(blob + 7, line.find(' ', blob) - blob - 7)].push_back(
                std::stod(line.substr(line.rfind("at ") + 3)));
    BOOST_TEST_REQUIRE(times.size() == 2u, proxy->out());
    const auto& at = times[record->config_digest].size() == 3 ? times[record->config_digest]
                                                              : times[record->layers[0]];
    BOOST_TEST_REQUIRE(at.size() == 3u, proxy->out());
    BOOST_TEST(at[1] - at[0] >= 0.15, proxy->out());
    BOOST_TEST(at[2] - at[1] > at[1] - at[0], proxy->out());
}

BOOST_AUTO_TEST_CASE(images_are_listed_found_and_removed)
{
    std::vector<Layer> layers{{TarBuilder().file("x", "1").finish()}};
    push_image(registry, "test/list", "a", layers);
    BOOST_TEST_REQUIRE(store.pull(ref(registry, "test/list:a"), quick_options()).has_value());
    auto all = store.list();
    BOOST_TEST_REQUIRE(all.has_value());
    BOOST_TEST(all->size() == 1u);
    BOOST_TEST(store.find(registry.host() + "/test/list:a").has_value());
    BOOST_TEST(store.remove(registry.host() + "/test/list:a").has_value());
    auto gone = store.find(registry.host() + "/test/list:a");
    BOOST_TEST_REQUIRE(!gone.has_value());
    BOOST_TEST(gone.error().code == ENOENT);
}

BOOST_AUTO_TEST_SUITE_END()
