#define BOOST_TEST_MODULE image_interop
// Images the field's own tools made: built by umoci, pushed by skopeo to the real registry, pulled
// by berth. The rootfs berth mounts must be the tree umoci itself unpacks from the same image.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <boost/test/unit_test.hpp>
#include "base/fd.hpp"
#include "base/files.hpp"
#include "base/strings.hpp"
#include "image/internal.hpp"
#include "tests/root/image_support.hpp"
#include "tests/support/privileges.hpp"
#include "tests/support/process.hpp"

using namespace berth;
using namespace berth::test;
namespace fs = std::filesystem;

BOOST_TEST_GLOBAL_FIXTURE(PrivateNamespaces);

namespace {

void run(const std::vector<std::string>& argv)
{
    auto r = run_command(argv, std::chrono::seconds(120));
    BOOST_TEST_REQUIRE(r.status == 0, join_argv(argv) << ": " << r.err);
}

void write(const std::string& path, const std::string& bytes, mode_t mode = 0644)
{
    std::ofstream(path) << bytes;
    BOOST_TEST_REQUIRE(::chmod(path.c_str(), mode) == 0);
}

// Every entry under root, one line each: type, mode, owner, and what makes it what it is
// (bytes, link target, device number, user.* xattrs, the link count of files, mtime of all but
// directories, whose times overlayfs and umoci each keep their own way).
std::map<std::string, std::string> describe(const std::string& root)
{
    std::map<std::string, std::string> out;
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
        const auto path = entry.path().string();
        struct stat st {};
        BOOST_TEST_REQUIRE(::lstat(path.c_str(), &st) == 0, path);
        std::string d =
            cat(st.st_mode & S_IFMT, ' ', st.st_mode & 07777, ' ', st.st_uid, ':', st.st_gid);
        if (S_ISREG(st.st_mode))
            d += cat(" nlink ", st.st_nlink, " data ", quoted(read_all(path)));
        else if (S_ISLNK(st.st_mode))
            d += " -> " + fs::read_symlink(entry.path()).string();
        else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
            d += cat(" dev ", major(st.st_rdev), ',', minor(st.st_rdev));
        if (!S_ISDIR(st.st_mode))
            d += cat(" mtime ", st.st_mtime);
        if (!S_ISLNK(st.st_mode)) {
            char value[64] = {};
            const auto n = ::lgetxattr(path.c_str(), "user.berth", value, sizeof value);
            if (n >= 0)
                d += " user.berth=" + std::string(value, static_cast<std::size_t>(n));
        }
        out[path.substr(root.size())] = d;
    }
    return out;
}

// An image of two layers made the way image authors use umoci: unpack, change the tree, repack.
// The second layer deletes a file and replaces a directory's content (umoci writes the
// whiteouts), then the config gets a command, an environment and a working directory.
struct UmociImage {
    explicit UmociImage(const std::string& dir) : layout(dir + "/oci"), bundle(dir + "/bundle")
    {
        run({"umoci", "init", "--layout", layout});
        run({"umoci", "new", "--image", image()});
        run({"umoci", "unpack", "--image", image(), bundle});
        const auto r = bundle + "/rootfs";
        for (const char* sub : {"/etc", "/bin", "/opt", "/opt/app", "/run", "/dev", "/home"})
            BOOST_TEST_REQUIRE(::mkdir((r + sub).c_str(), 0755) == 0, sub);
        write(r + "/etc/os-release", "NAME=umoci-built\n");
        write(r + "/etc/gone", "removed by the second layer\n");
        write(r + "/opt/app/old", "replaced by the second layer\n");
        write(r + "/bin/tool", "#!/bin/sh\necho tool\n", 04755);
        BOOST_TEST_REQUIRE(::link((r + "/bin/tool").c_str(), (r + "/bin/hard").c_str()) == 0);
        BOOST_TEST_REQUIRE(::symlink("tool", (r + "/bin/link").c_str()) == 0);
        BOOST_TEST_REQUIRE(::mkfifo((r + "/run/fifo").c_str(), 0600) == 0);
        BOOST_TEST_REQUIRE(::mknod((r + "/dev/null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0);
        BOOST_TEST_REQUIRE(::mkdir((r + "/home/user").c_str(), 0700) == 0);
        write(r + "/home/user/notes", "mine\n", 0600);
        BOOST_TEST_REQUIRE(::lchown((r + "/home/user").c_str(), 1000, 1000) == 0);
        BOOST_TEST_REQUIRE(::lchown((r + "/home/user/notes").c_str(), 1000, 1001) == 0);
        BOOST_TEST_REQUIRE(
            ::lsetxattr((r + "/etc/os-release").c_str(), "user.berth", "yes", 3, 0) == 0);
        run({"umoci", "repack", "--image", image(), bundle});
        fs::remove_all(bundle);

        run({"umoci", "unpack", "--image", image(), bundle});
        BOOST_TEST_REQUIRE(::unlink((r + "/etc/gone").c_str()) == 0);
        fs::remove_all(r + "/opt/app");
        BOOST_TEST_REQUIRE(::mkdir((r + "/opt/app").c_str(), 0750) == 0);
        write(r + "/opt/app/new", "from the second layer\n");
        write(r + "/etc/motd", "hello from umoci\n", 0640);
        run({"umoci", "repack", "--image", image(), bundle});
        fs::remove_all(bundle);
        run({"umoci", "config", "--image", image(), "--config.cmd", "/bin/tool", "--config.env",
             "GREETING=hello", "--config.workingdir", "/opt/app"});
        // What umoci itself makes of the finished image: the tree berth's rootfs must equal.
        run({"umoci", "unpack", "--image", image(), bundle});
    }
    std::string image() const { return layout + ":app"; }
    std::string rootfs() const { return bundle + "/rootfs"; }
    std::string layout, bundle;
};

struct Fixture : RegistryStoreFixture {
    Fixture() : RegistryStoreFixture("berth-interop") {}
    UmociImage built{dir.path()};

    // skopeo pushes the umoci layout as peer/umoci:tag with its layers in `compression`. skopeo
    // keeps compressed layers as they are, so for zstd it first writes them out uncompressed
    // (a dir: copy), and compresses them as asked on the way to the registry.
    void push(const std::string& tag, const std::string& compression)
    {
        // skopeo remembers which compressed blobs a registry holds for an uncompressed layer
        // (its blob-info cache, /var/lib/containers/cache for root) and pushes the gzip blob
        // again in place of compressing to zstd. Each push gets an empty cache: a tmpfs over it
        // in this test's mount namespace (the directory is the one skopeo itself creates).
        const std::string cache = "/var/lib/containers/cache";
        fs::create_directories(cache);
        BOOST_TEST_REQUIRE(::mount("tmpfs", cache.c_str(), "tmpfs", 0, "mode=0700") == 0);
        auto source = "oci:" + built.image();
        if (compression != "gzip") {
            const auto plain = dir.path() + "/plain";
            run({"skopeo", "--insecure-policy", "copy", "--quiet", "--dest-decompress", source,
                 "dir:" + plain});
            source = "dir:" + plain;
        }
        run({"skopeo", "--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false",
             "--dest-compress-format", compression, source,
             "docker://" + registry.host() + "/peer/umoci:" + tag});
    }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(interop, Fixture)

BOOST_AUTO_TEST_CASE(an_image_umoci_built_and_skopeo_pushed_pulls_into_the_tree_umoci_unpacks)
{
    const auto expected = describe(built.rootfs());
    BOOST_TEST_REQUIRE(expected.count("/bin/hard") == 1u); // the build above made its tree
    BOOST_TEST_REQUIRE(expected.count("/etc/gone") == 0u);
    std::vector<std::string> chain; // the gzip image's; the zstd one has the same content
    for (const std::string compression : {"gzip", "zstd"}) {
        BOOST_TEST_CONTEXT(compression)
        {
            push(compression, compression);
            auto record = pull("peer/umoci:" + compression);
            BOOST_TEST_REQUIRE(record.has_value(), why(record));
            BOOST_TEST_REQUIRE(record->layers.size() == 2u);
            // The zstd image reuses the gzip image's snapshots (same diffIDs, same chain) but
            // still gets its own blobs: the store holds every image it lists whole.
            if (chain.empty())
                chain = record->chain;
            BOOST_TEST(record->chain == chain, boost::test_tools::per_element());
            for (const auto& layer : record->layers)
                BOOST_TEST(store.has_blob(layer));

            // The layers skopeo pushed are the compression asked for (zstd's magic 28 b5 2f fd).
            const auto blob = read_all(store.blob_path(record->layers[0]));
            const bool zstd = blob.starts_with("\x28\xb5\x2f\xfd");
            BOOST_TEST(zstd == (compression == "zstd"));

            const auto config =
                nlohmann::json::parse(read_all(store.blob_path(record->config_digest)));
            BOOST_TEST(config["config"]["Cmd"] == nlohmann::json::array({"/bin/tool"}));
            BOOST_TEST(config["config"]["WorkingDir"] == "/opt/app");
            BOOST_TEST(config["config"]["Env"].dump().find("GREETING=hello") != std::string::npos);

            auto rootfs = image::Rootfs::mount(store, *record, "c-" + compression);
            BOOST_TEST_REQUIRE(rootfs.has_value(), why(rootfs));
            const auto got = describe(rootfs->path());
            for (const auto& [path, what] : expected) {
                const auto it = got.find(path);
                const auto found = it == got.end() ? std::string("missing") : it->second;
                BOOST_TEST(found == what, path << ": berth " << found << ", umoci " << what);
            }
            for (const auto& [path, what] : got)
                BOOST_TEST(expected.count(path) == 1u, path << " is extra: " << what);
        }
    }
    // Both images are whole: an air-gapped save of them finds every blob.
    const Fd out(::open((dir.path() + "/saved.tar").c_str(),
                        O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    auto saved = store.save(
        {registry.host() + "/peer/umoci:gzip", registry.host() + "/peer/umoci:zstd"}, out.get());
    BOOST_TEST(saved.has_value(), why(saved));
}

BOOST_AUTO_TEST_SUITE_END()
