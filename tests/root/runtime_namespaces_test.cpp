// tests/root/runtime_namespaces_test.cpp — the runtime library's API driven directly (no CLI), as
// root: namespaces: joining by path, wrong or missing paths, user namespace mappings. Shared
// fixture and helpers: tests/root/runtime_fixture.hpp.
#define BOOST_TEST_MODULE runtime_namespaces
#include <sys/prctl.h>
#include "tests/root/runtime_fixture.hpp"

using namespace berth::test;

BOOST_AUTO_TEST_SUITE(runtime_namespaces,
                      *utf::label("root") * utf::precondition(berth::test::is_root))

BOOST_FIXTURE_TEST_CASE(unknown_namespace_path_fails_naming_it, RuntimeFixture)
{
    remove_namespace(bundle.config, "network");
    bundle.config["linux"]["namespaces"].push_back(
        {{"type", "network"}, {"path", "/tmp/berth-no-such-netns"}});
    auto r = run({"true"});
    BOOST_TEST(!r.ok());
    BOOST_TEST(r.error.find("namespace network") != std::string::npos, r.error);
    BOOST_TEST(r.error.find("/tmp/berth-no-such-netns") != std::string::npos, r.error);
    BOOST_TEST(berth::test::list_dir(options.root).empty());
    BOOST_TEST(!berth::test::cgroup_exists(bundle.cgroups_path()));
}

BOOST_FIXTURE_TEST_CASE(joins_a_network_namespace_by_path, RuntimeFixture)
{
    NamespaceHolder netns(CLONE_NEWNET);
    remove_namespace(bundle.config, "network");
    bundle.config["linux"]["namespaces"].push_back(
        {{"type", "network"}, {"path", netns.path("net")}});
    const auto out = sh("readlink /proc/self/ns/net");
    BOOST_TEST(out == "net:[" + std::to_string(netns.inode("net")) + "]\n");
}

// setns(CLONE_NEWTIME) refuses a task that shares its memory (EUSERS): a stage that joins one
// forks instead of sharing the caller's memory.
BOOST_FIXTURE_TEST_CASE(joins_a_time_namespace_by_path, RuntimeFixture)
{
    NamespaceHolder timens(CLONE_NEWTIME); // unshare: the holder's children would be in it
    bundle.config["linux"]["namespaces"].push_back(
        {{"type", "time"}, {"path", timens.path("time_for_children")}});
    const auto out = sh("readlink /proc/self/ns/time");
    BOOST_TEST(out == "time:[" + std::to_string(timens.inode("time_for_children")) + "]\n");
}

// A container in a user namespace: the caller's memory is non-dumpable only while the stage
// shares it (spawn.cpp), so the init is never dumpable; the caller gets its own flag back after.
namespace {

// The bundle's container in a new user namespace, its ids 0..65535 mapped from host 100000.
void in_a_user_namespace(berth::test::Bundle& bundle)
{
    // mkdtemp made the bundle 0700: the container's root (host uid 100000) must pass through.
    fs::permissions(bundle.dir(),
                    fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    bundle.config["linux"]["namespaces"].push_back({{"type", "user"}});
    for (const char* key : {"uidMappings", "gidMappings"})
        bundle.config["linux"][key] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
}

} // namespace

BOOST_FIXTURE_TEST_CASE(a_user_namespace_container_leaves_the_caller_dumpable, RuntimeFixture)
{
    in_a_user_namespace(bundle);
    BOOST_TEST_REQUIRE(::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1);
    BOOST_TEST(sh("echo ok") == "ok\n");
    BOOST_TEST(::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1);
}

BOOST_FIXTURE_TEST_CASE(user_namespace_container_sees_its_mappings, RuntimeFixture)
{
    in_a_user_namespace(bundle);
    const auto out = sh("cat /proc/self/uid_map /proc/self/gid_map; id -u; cat /dev/null; "
                        "grep CapEff /proc/self/status");
    BOOST_TEST(out.find("0     100000      65536") != std::string::npos, out);
    BOOST_TEST(out.find("\n0\n") != std::string::npos, out);
    BOOST_TEST(out.find("CapEff:\t0000000020000420") != std::string::npos, out);
}

// Without a user namespace, create makes the new network namespace ahead on a thread and the
// stage joins it (runtime/netns.hpp): it is the container's own, lo up, not the caller's.
BOOST_FIXTURE_TEST_CASE(a_new_network_namespace_made_ahead_is_the_containers_own, RuntimeFixture)
{
    const auto ours = fs::read_symlink("/proc/self/ns/net").string();
    const auto out = sh("readlink /proc/self/ns/net; cat /sys/class/net/lo/flags");
    BOOST_TEST(out.find("net:[") == 0, out);
    BOOST_TEST(out.find(ours) == std::string::npos, out);
    BOOST_TEST(out.find("\n0x9\n") != std::string::npos, out);          // IFF_UP | IFF_LOOPBACK
    BOOST_TEST(fs::read_symlink("/proc/self/ns/net").string() == ours); // our thread's is ours
}

// With a user namespace the network namespace is still made by the clone, owned by the
// container's user namespace: its root may configure it (not so in one owned by the host's).
BOOST_FIXTURE_TEST_CASE(a_user_namespace_container_owns_its_network_namespace, RuntimeFixture)
{
    in_a_user_namespace(bundle);
    for (const char* set : {"bounding", "effective", "permitted"})
        bundle.config["process"]["capabilities"][set].push_back("CAP_NET_ADMIN");
    const auto out =
        sh("ip link set lo mtu 1400 && cat /sys/class/net/lo/mtu /sys/class/net/lo/flags");
    BOOST_TEST(out == "1400\n0x9\n", out);
}

BOOST_FIXTURE_TEST_CASE(namespace_path_of_the_wrong_type_fails_naming_it, RuntimeFixture)
{
    NamespaceHolder netns(CLONE_NEWNET);
    remove_namespace(bundle.config, "ipc");
    bundle.config["linux"]["namespaces"].push_back({{"type", "ipc"}, {"path", netns.path("net")}});
    auto r = run({"true"});
    BOOST_TEST(!r.ok());
    BOOST_TEST(r.error.find("join namespace '" + netns.path("net") + "': Invalid argument") !=
                   std::string::npos,
               r.error);
    BOOST_TEST(berth::test::list_dir(options.root).empty());
    BOOST_TEST(!berth::test::cgroup_exists(bundle.cgroups_path()));
}

BOOST_AUTO_TEST_SUITE_END()
