// tests/root/runtime_mounts_test.cpp — the runtime library's API driven directly (no CLI), as root:
// the root filesystem: masked and read-only paths, mount flags, symlink escapes, no pivot, sysctl
// and devices. Shared fixture and helpers: tests/root/runtime_fixture.hpp.
#define BOOST_TEST_MODULE runtime_mounts
#include "tests/root/runtime_fixture.hpp"

using namespace berth::test;

BOOST_AUTO_TEST_SUITE(runtime_mounts, *utf::label("root") * utf::precondition(berth::test::is_root))

BOOST_FIXTURE_TEST_CASE(masked_paths_are_unreadable_and_readonly_paths_are_read_only,
                        RuntimeFixture)
{
    const auto out = sh("cat /proc/kcore | wc -c; ls /sys/firmware | wc -l; "
                        "echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null || echo ro-sys; "
                        "touch /newfile 2>/dev/null || echo ro-root");
    BOOST_TEST(out == "0\n0\nro-sys\nro-root\n");
}

BOOST_FIXTURE_TEST_CASE(mount_flags_show_in_mountinfo, RuntimeFixture)
{
    const auto out = sh("cat /proc/self/mountinfo");
    auto line_of = [&](const std::string& point) {
        std::istringstream lines(out);
        std::string line;
        while (std::getline(lines, line))
            if (line.find(" " + point + " ") != std::string::npos)
                return line;
        return std::string();
    };
    BOOST_TEST(line_of("/").find(" ro,") != std::string::npos, line_of("/"));
    BOOST_TEST(line_of("/sys").find("ro,nosuid,nodev,noexec") != std::string::npos,
               line_of("/sys"));
    BOOST_TEST(line_of("/dev/shm").find("nosuid,nodev,noexec") != std::string::npos);
    BOOST_TEST(line_of("/proc/sys").find(" ro,") != std::string::npos, line_of("/proc/sys"));
    // Hybrid host: a read-only tmpfs holding one read-only bind per v1 hierarchy.
    BOOST_TEST(line_of("/sys/fs/cgroup").find(" ro,") != std::string::npos, out);
    BOOST_TEST(line_of("/sys/fs/cgroup/memory").find(" ro,") != std::string::npos, out);
}

BOOST_FIXTURE_TEST_CASE(missing_rootfs_fails_naming_it_and_leaves_nothing, RuntimeFixture)
{
    bundle.config["root"]["path"] = "no-such-rootfs";
    auto r = run({"true"});
    BOOST_TEST(!r.ok());
    BOOST_TEST(r.error.find("rootfs") != std::string::npos, r.error);
    BOOST_TEST(r.error.find("No such file") != std::string::npos, r.error);
    BOOST_TEST(berth::test::list_dir(options.root).empty());
}

BOOST_FIXTURE_TEST_CASE(symlink_in_rootfs_cannot_redirect_a_mount_to_the_host, RuntimeFixture)
{
    // Both an absolute and a climbing symlink must resolve inside the rootfs.
    fs::create_directories(bundle.rootfs() + "/etc");
    fs::create_symlink("/etc", bundle.rootfs() + "/abs-escape");
    fs::create_symlink("../../../../../../../etc", bundle.rootfs() + "/rel-escape");
    bundle.add_mount({{"destination", "/abs-escape/berth-escape-a"},
                      {"type", "tmpfs"},
                      {"source", "tmpfs"},
                      {"options", {"size=64k"}}});
    bundle.add_mount({{"destination", "/rel-escape/berth-escape-b"},
                      {"type", "bind"},
                      {"source", "/bin"},
                      {"options", {"rbind", "ro"}}});
    const auto out = sh("grep berth-escape /proc/self/mountinfo | wc -l");
    BOOST_TEST(out == "2\n");
    BOOST_TEST(!fs::exists("/etc/berth-escape-a"));
    BOOST_TEST(!fs::exists("/etc/berth-escape-b"));
    BOOST_TEST(fs::exists(bundle.rootfs() + "/etc/berth-escape-a"));
    BOOST_TEST(fs::exists(bundle.rootfs() + "/etc/berth-escape-b"));
}

BOOST_FIXTURE_TEST_CASE(sysctl_devices_oom_umask_domainname_and_cgroup_namespace_apply,
                        RuntimeFixture)
{
    bundle.config["domainname"] = "berth.test";
    bundle.config["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}};
    bundle.config["linux"]["devices"] = {{{"path", "/dev/berth-null"},
                                          {"type", "c"},
                                          {"major", 1},
                                          {"minor", 3},
                                          {"fileMode", 0600}}};
    bundle.config["linux"]["namespaces"].push_back({{"type", "cgroup"}});
    bundle.config["process"]["oomScoreAdj"] = 500;
    bundle.config["process"]["user"]["umask"] = 027;
    const auto out = sh("cat /proc/sys/net/ipv4/ip_forward; echo x > /dev/berth-null && "
                        "stat -c %a /dev/berth-null; cat /proc/self/oom_score_adj; umask; "
                        "cat /proc/sys/kernel/domainname; grep -c ':/$' /proc/self/cgroup");
    std::istringstream lines(out);
    std::string forward, mode, oom, umask, domain, cgroup_lines;
    lines >> forward >> mode >> oom >> umask >> domain >> cgroup_lines;
    BOOST_TEST(forward == "1", out);
    BOOST_TEST(mode == "600", out);
    BOOST_TEST(oom == "500", out);
    BOOST_TEST(umask == "0027", out);
    BOOST_TEST(domain == "berth.test", out);
    BOOST_TEST(std::stoi(cgroup_lines) > 0, out); // the container's cgroup is its root
}

BOOST_FIXTURE_TEST_CASE(no_pivot_moves_the_root_instead_and_still_runs, RuntimeFixture)
{
    bundle.set_args({"sh", "-c", "test -x /bin/busybox && ! test -e /etc/berth-host-marker"});
    bundle.write();
    auto co = create_options(new_id("nopivot"));
    co.no_pivot = true;
    auto r = rt::run(options, co, false);
    ::close(co.stdin_fd);
    BOOST_TEST_REQUIRE(r.has_value(), why(r));
    BOOST_TEST(*r == 0, read_all(err.get()));
}

BOOST_FIXTURE_TEST_CASE(failing_mount_names_its_destination_and_leaves_nothing, RuntimeFixture)
{
    bundle.add_mount({{"destination", "/mnt/odd"}, {"type", "berthnosuchfs"}, {"source", "x"}});
    auto r = run({"true"});
    BOOST_TEST(!r.ok());
    BOOST_TEST(r.error.find("mount '/mnt/odd': No such device") != std::string::npos, r.error);
    BOOST_TEST(berth::test::list_dir(options.root).empty());
    BOOST_TEST(!berth::test::has_mounts_under(bundle.rootfs()));
}

BOOST_AUTO_TEST_SUITE_END()
