#define BOOST_TEST_MODULE image_hostile
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <fstream>
#include <boost/test/unit_test.hpp>
#include "base/files.hpp"
#include "tests/root/image_support.hpp"
#include "tests/support/privileges.hpp"

using namespace berth;
using namespace berth::test;
namespace utf = boost::unit_test;

BOOST_TEST_GLOBAL_FIXTURE(PrivateNamespaces);

namespace {

// Hostile layers aim at `outside`, a directory next to the store holding files they must not
// touch. Each layer is pushed to a real registry and pulled like any image.
struct Fixture : RegistryStoreFixture {
    std::string outside = dir.path() + "/outside";
    int n = 0;

    Fixture() : RegistryStoreFixture("berth-image-hostile")
    {
        BOOST_TEST_REQUIRE(make_directories(outside).has_value());
        std::ofstream(outside + "/victim") << "keep";
        std::ofstream(outside + "/target") << "keep";
    }
    Result<image::ImageRecord> pull_layer(const std::string& tar)
    {
        const auto repo = "hostile/l" + std::to_string(++n);
        push_one(repo, tar);
        return pull(repo + ":1");
    }
    std::string snapshot(const image::ImageRecord& r) const
    {
        return store.snapshot_path(r.chain[0]);
    }
    void check_outside_untouched()
    {
        BOOST_TEST(list_dir(outside) == (std::vector<std::string>{"target", "victim"}));
        BOOST_TEST(read_all(outside + "/victim") == "keep");
        BOOST_TEST(read_all(outside + "/target") == "keep");
        BOOST_TEST(list_dir(store_root + "/ingest").empty());
        BOOST_TEST(list_dir(dir.path()) ==
                   (std::vector<std::string>{"outside", "registry", "store"}));
    }
};

bool refused_with(const Result<image::ImageRecord>& r, const std::string& part)
{
    return !r && r.error().message().find(part) != std::string::npos;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(hostile, Fixture, *utf::label("root") * utf::precondition(is_root))

BOOST_AUTO_TEST_CASE(dotdot_paths_are_refused)
{
    auto r = pull_layer(TarBuilder().file("../../outside/victim", "pwned").finish());
    BOOST_TEST(refused_with(r, "climbs out"), why(r));
    auto deep = pull_layer(TarBuilder().dir("a").file("a/../../../x", "pwned").finish());
    BOOST_TEST(refused_with(deep, "climbs out"), why(deep));
    check_outside_untouched();
}

BOOST_AUTO_TEST_CASE(absolute_paths_stay_inside_the_snapshot)
{
    auto r = pull_layer(TarBuilder().file(outside + "/victim", "pwned").finish());
    BOOST_TEST_REQUIRE(r.has_value(), why(r));
    BOOST_TEST(read_all(snapshot(*r) + outside + "/victim") == "pwned");
    check_outside_untouched();
}

BOOST_AUTO_TEST_CASE(files_written_through_symlinks_land_inside_the_snapshot)
{
    auto r = pull_layer(TarBuilder()
                            .dir(outside) // the symlinks' targets exist inside the layer too
                            .symlink("abs", outside)
                            .file("abs/pwned", "x")
                            .symlink("rel", "../../../../../../../../.." + outside)
                            .file("rel/pwned2", "x")
                            .symlink("a", "b")
                            .symlink("b", outside)
                            .file("a/pwned3", "x")
                            .finish());
    BOOST_TEST_REQUIRE(r.has_value(), why(r));
    BOOST_TEST(read_all(snapshot(*r) + outside + "/pwned") == "x");
    BOOST_TEST(read_all(snapshot(*r) + outside + "/pwned3") == "x");
    check_outside_untouched();
}

BOOST_AUTO_TEST_CASE(a_symlink_to_a_directory_missing_in_the_layer_is_refused)
{
    auto r = pull_layer(TarBuilder().symlink("abs", outside).file("abs/pwned", "x").finish());
    BOOST_TEST(refused_with(r, "layer entry 'abs/pwned'"), why(r));
    check_outside_untouched();
}

BOOST_AUTO_TEST_CASE(a_file_replacing_a_symlink_does_not_write_through_it)
{
    auto r = pull_layer(
        TarBuilder().symlink("link", outside + "/target").file("link", "pwned").finish());
    BOOST_TEST_REQUIRE(r.has_value(), why(r));
    struct stat st {};
    BOOST_TEST_REQUIRE(::lstat((snapshot(*r) + "/link").c_str(), &st) == 0);
    BOOST_TEST(S_ISREG(st.st_mode));
    check_outside_untouched();
}

BOOST_AUTO_TEST_CASE(hardlinks_to_outside_are_refused)
{
    struct stat before {};
    BOOST_TEST_REQUIRE(::stat((outside + "/victim").c_str(), &before) == 0);
    auto up = pull_layer(TarBuilder().hardlink("h", "../../outside/victim").finish());
    BOOST_TEST(refused_with(up, "climbs out"), why(up));
    auto abs = pull_layer(TarBuilder().hardlink("h", outside + "/victim").finish());
    BOOST_TEST(!abs.has_value(), "absolute hardlink target resolved outside the layer");
    auto via = pull_layer(TarBuilder().symlink("s", outside).hardlink("h", "s/victim").finish());
    BOOST_TEST(!via.has_value(), "hardlink through a symlink resolved outside the layer");
    struct stat after {};
    BOOST_TEST_REQUIRE(::stat((outside + "/victim").c_str(), &after) == 0);
    BOOST_TEST(after.st_nlink == before.st_nlink);
    check_outside_untouched();
}

BOOST_AUTO_TEST_CASE(whiteouts_cannot_climb_out_or_follow_symlinks_out)
{
    auto dots = pull_layer(TarBuilder().dir("d").file("d/.wh..", "").finish());
    BOOST_TEST(refused_with(dots, "whiteout"), why(dots));
    auto up = pull_layer(TarBuilder().file("../.wh.victim", "").finish());
    BOOST_TEST(refused_with(up, "climbs out"), why(up));
    auto via = pull_layer(
        TarBuilder().dir(outside).symlink("d", outside).file("d/.wh.victim", "").finish());
    BOOST_TEST_REQUIRE(via.has_value(), why(via));
    struct stat st {};
    BOOST_TEST(::lstat((snapshot(*via) + outside + "/victim").c_str(), &st) == 0);
    check_outside_untouched();
}

BOOST_AUTO_TEST_CASE(absurd_sizes_and_device_nodes_are_refused_or_contained)
{
    auto huge = pull_layer(TarBuilder().header_only("huge", std::uint64_t{1} << 40).finish());
    BOOST_TEST(refused_with(huge, "truncated"), why(huge));
    // Device nodes are made as the layer says (images carry /dev/null and friends); what
    // contains them is the container's devices cgroup, not the unpack.
    auto dev =
        pull_layer(TarBuilder().chardev("dev/kmsg", 1, 11).blockdev("dev/sda", 8, 0).finish());
    BOOST_TEST_REQUIRE(dev.has_value(), why(dev));
    struct stat st {};
    BOOST_TEST_REQUIRE(::lstat((snapshot(*dev) + "/dev/kmsg").c_str(), &st) == 0);
    BOOST_TEST(S_ISCHR(st.st_mode));
    BOOST_TEST(st.st_rdev == ::makedev(1, 11));
    BOOST_TEST_REQUIRE(::lstat((snapshot(*dev) + "/dev/sda").c_str(), &st) == 0);
    BOOST_TEST(S_ISBLK(st.st_mode));
    BOOST_TEST(st.st_rdev == ::makedev(8, 0));
    BOOST_TEST((st.st_mode & 07777) == 0660u);
    check_outside_untouched();
}

BOOST_AUTO_TEST_CASE(a_layer_cannot_forge_overlay_xattrs)
{
    auto r = pull_layer(
        TarBuilder().pax_xattr("trusted.overlay.opaque", "y").dir("d").file("d/f", "1").finish());
    BOOST_TEST_REQUIRE(r.has_value(), why(r));
    char value[8];
    BOOST_TEST(::lgetxattr((snapshot(*r) + "/d").c_str(), "trusted.overlay.opaque", value,
                           sizeof value) < 0);
}

// The writer skips fchown and fchmod where the kernel already gave a new file the layer's owner
// and mode (issue 15, speed): it must still get them right under any umask and in set-group-ID
// directories, where a new file takes the directory's group, not the creator's.
BOOST_AUTO_TEST_CASE(owners_and_modes_match_the_layer_under_any_umask_and_set_group_id_dirs)
{
    struct Want {
        const char* path;
        unsigned mode, uid, gid;
    };
    const Want want[] = {{"g", 02775, 0, 1234},      {"g/same", 0644, 0, 1234},
                         {"g/root", 0644, 0, 0},     {"g/exec", 0775, 0, 1234},
                         {"user", 0755, 1000, 1001}, {"setuid", 04755, 0, 0},
                         {"private", 0600, 0, 0},    {"open", 0666, 0, 0}};
    for (const mode_t mask : {mode_t{077}, mode_t{0}, mode_t{022}}) {
        const auto tar = TarBuilder()
                             .file("umask", std::to_string(mask)) // a layer of its own
                             .dir("g", 02775, 0, 1234)
                             .file("g/same", "1", 0644, 0, 1234)
                             .file("g/root", "2", 0644, 0, 0)
                             .file("g/exec", "3", 0775, 0, 1234)
                             .file("user", "4", 0755, 1000, 1001)
                             .file("setuid", "5", 04755)
                             .file("private", "6", 0600)
                             .file("open", "7", 0666)
                             .finish();
        const mode_t old = ::umask(mask);
        auto r = pull_layer(tar);
        ::umask(old);
        BOOST_TEST_REQUIRE(r.has_value(), why(r));
        for (const auto& w : want) {
            struct stat st {};
            BOOST_TEST_REQUIRE(::lstat((snapshot(*r) + "/" + w.path).c_str(), &st) == 0);
            BOOST_TEST((st.st_mode & 07777) == w.mode, w.path << " under umask " << mask);
            BOOST_TEST(st.st_uid == w.uid, w.path << " under umask " << mask);
            BOOST_TEST(st.st_gid == w.gid, w.path << " under umask " << mask);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
