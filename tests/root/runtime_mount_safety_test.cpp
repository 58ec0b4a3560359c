// tests/root/runtime_mount_safety_test.cpp — the class of runc's CVE-2025-31133 and CVE-2025-52881
// (issue 13): masked paths are covered from a verified null device held by fd, never from
// whatever the image put at /dev/null; sysctls are written through a verified procfs, never by
// path through the container's /proc; only an allow-list of mounts may land on /proc. Root on
// this host; each test leaves nothing behind (RuntimeFixture checks).
#define BOOST_TEST_MODULE runtime_mount_safety
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <filesystem>
#include "tests/root/runtime_fixture.hpp"
#include "tests/support/privileges.hpp"

namespace utf = boost::unit_test;
namespace fs = std::filesystem;
using namespace berth::test;

namespace {

// The image brings its own /dev (no tmpfs from the config): what it put at dev/null stays.
// A masked file holds a secret; the planted /dev/null leads to a file the container may write.
struct PlantedDevNull : RuntimeFixture {
    std::string masked, target;
    PlantedDevNull()
    {
        remove_mount(bundle.config, "/dev");
        masked = bundle.rootfs() + "/etc/berth-masked";
        target = bundle.rootfs() + "/etc/berth-target";
        write_text(masked, "secret\n");
        write_text(target, "target\n");
        bundle.config["linux"]["maskedPaths"] = {"/etc/berth-masked"};
        bundle.config["root"]["readonly"] = false;
    }
    void expect_refused()
    {
        // The old code bound the planted file over the masked one: the container then read
        // "target" there (and could write through it).
        auto r = run({"cat", "/etc/berth-masked"});
        BOOST_TEST(!r.ok(), "ran and printed: " << r.out);
        BOOST_TEST(r.error.find("verify /dev/null") != std::string::npos, r.error);
        BOOST_TEST(read_text(target) == "target\n");
        BOOST_TEST(!has_mounts_under(bundle.dir()));
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(runtime_mounts, *utf::label("root") * utf::precondition(berth::test::is_root))

BOOST_FIXTURE_TEST_CASE(masked_path_is_not_covered_through_a_dev_null_symlink, PlantedDevNull)
{
    fs::create_directories(bundle.rootfs() + "/dev");
    fs::create_symlink("/etc/berth-target", bundle.rootfs() + "/dev/null");
    expect_refused();
}

BOOST_FIXTURE_TEST_CASE(masked_path_is_not_covered_by_a_regular_file_at_dev_null, PlantedDevNull)
{
    fs::create_directories(bundle.rootfs() + "/dev");
    write_text(bundle.rootfs() + "/dev/null", "not a device\n");
    expect_refused();
}

BOOST_FIXTURE_TEST_CASE(masked_files_read_empty_and_masked_directories_are_empty_read_only,
                        RuntimeFixture)
{
    write_text(bundle.rootfs() + "/etc/berth-masked", "secret\n");
    fs::create_directories(bundle.rootfs() + "/opt/hidden");
    write_text(bundle.rootfs() + "/opt/hidden/file", "secret\n");
    bundle.config["linux"]["maskedPaths"] = {"/etc/berth-masked", "/opt/hidden", "/proc/kcore"};
    const auto out = sh("cat /etc/berth-masked | wc -c; ls /opt/hidden | wc -l; "
                        "stat -c %t:%T /etc/berth-masked; "
                        "touch /opt/hidden/x 2>/dev/null || echo ro; cat /proc/kcore | wc -c");
    BOOST_TEST(out == "0\n0\n1:3\nro\n0\n", out);
}

// The image's /proc/sys is a symlink to a directory of its own: a write by path would follow it
// (O_NOFOLLOW only guards the last component) and land in the image's file.
BOOST_FIXTURE_TEST_CASE(sysctl_is_not_written_through_a_symlink_in_the_containers_proc,
                        RuntimeFixture)
{
    remove_mount(bundle.config, "/proc");
    bundle.config["linux"]["maskedPaths"] = nlohmann::json::array();
    bundle.config["linux"]["readonlyPaths"] = nlohmann::json::array();
    const auto fake = bundle.rootfs() + "/fake-sys";
    fs::create_directories(fake + "/net/ipv4");
    write_text(fake + "/net/ipv4/ip_forward", "planted\n");
    fs::remove_all(bundle.rootfs() + "/proc");
    fs::create_directories(bundle.rootfs() + "/proc");
    fs::create_symlink("/fake-sys", bundle.rootfs() + "/proc/sys");
    bundle.config["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}};
    auto r = run({"cat", "/fake-sys/net/ipv4/ip_forward"});
    BOOST_TEST(read_text(fake + "/net/ipv4/ip_forward") == "planted\n");
    BOOST_TEST(r.ok(), r.error); // the write went to the real procfs, in the container's netns
    BOOST_TEST(r.out == "planted\n");
}

BOOST_FIXTURE_TEST_CASE(sysctl_reaches_the_containers_namespace_and_not_ours, RuntimeFixture)
{
    const auto ours = read_text("/proc/sys/net/ipv4/conf/lo/forwarding");
    bundle.config["linux"]["sysctl"] = {{"net.ipv4.conf.lo.forwarding", ours == "1\n" ? "0" : "1"}};
    const auto out = sh("cat /proc/sys/net/ipv4/conf/lo/forwarding");
    BOOST_TEST(out == (ours == "1\n" ? "0\n" : "1\n"));
    BOOST_TEST(read_text("/proc/sys/net/ipv4/conf/lo/forwarding") == ours);
}

BOOST_FIXTURE_TEST_CASE(bind_inside_proc_is_refused_naming_it, RuntimeFixture)
{
    write_text(bundle.dir() + "/pattern", "|/tmp/evil\n");
    bundle.add_mount({{"destination", "/proc/sys/kernel/core_pattern"},
                      {"type", "bind"},
                      {"source", bundle.dir() + "/pattern"},
                      {"options", {"bind"}}});
    auto r = run({"true"});
    BOOST_TEST(r.error.find("'/proc/sys/kernel/core_pattern'") != std::string::npos, r.error);
    BOOST_TEST(r.error.find("cannot be mounted inside /proc") != std::string::npos, r.error);
}

BOOST_FIXTURE_TEST_CASE(only_a_proc_filesystem_may_be_mounted_on_proc, RuntimeFixture)
{
    remove_mount(bundle.config, "/proc");
    bundle.add_mount({{"destination", "/proc"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
    auto r = run({"true"});
    BOOST_TEST(r.error.find("only a proc filesystem may be mounted on /proc") != std::string::npos,
               r.error);
}

// A symlink in the image routes a mount into /proc under another name: caught on the resolved
// target in the child.
BOOST_FIXTURE_TEST_CASE(mount_routed_into_proc_by_a_symlink_is_refused, RuntimeFixture)
{
    fs::create_symlink("/proc/sys", bundle.rootfs() + "/sysctl-link");
    bundle.add_mount(
        {{"destination", "/sysctl-link/kernel"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
    auto r = run({"true"});
    BOOST_TEST(!r.ok());
    BOOST_TEST(r.error.find("mount lands on /proc") != std::string::npos, r.error);
    BOOST_TEST(r.error.find("'/sysctl-link/kernel'") != std::string::npos, r.error);
    BOOST_TEST(!has_mounts_under(bundle.dir()));
}

// What lxcfs does is allowed: a bind over one of the files it emulates.
BOOST_FIXTURE_TEST_CASE(bind_over_an_emulated_proc_file_is_allowed, RuntimeFixture)
{
    write_text(bundle.dir() + "/meminfo", "MemTotal: 42 kB\n");
    bundle.add_mount({{"destination", "/proc/meminfo"},
                      {"type", "bind"},
                      {"source", bundle.dir() + "/meminfo"},
                      {"options", {"bind", "ro"}}});
    BOOST_TEST(sh("cat /proc/meminfo") == "MemTotal: 42 kB\n");
}

BOOST_AUTO_TEST_SUITE_END()
