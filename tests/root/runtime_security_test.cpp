// tests/root/runtime_security_test.cpp — the CVE-2019-5736 class through the CLI: while a
// container is in the created state its init is still a copy of berth-runtime, so what its
// /proc/<pid>/exe reaches must be unwritable (a detached read-only bind mount of the binary, or
// a sealed memfd), also once the init is gone. Needs root.
#define BOOST_TEST_MODULE runtime_security
#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <cerrno>
#include <climits>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <nlohmann/json.hpp>
#include "base/fd.hpp"
#include "tests/support/bundle.hpp"
#include "tests/support/privileges.hpp"
#include "tests/support/runner.hpp"

using namespace berth::test;
namespace utf = boost::unit_test;

namespace {

std::string exe_link(pid_t pid)
{
    char target[PATH_MAX] = {};
    const auto path = "/proc/" + std::to_string(pid) + "/exe";
    const ssize_t n = ::readlink(path.c_str(), target, sizeof target - 1);
    return n > 0 ? std::string(target, static_cast<std::size_t>(n)) : std::string();
}

// A write through fd (a reopen of /proc/<pid>/exe) must fail: EROFS from the read-only mount,
// EPERM from F_SEAL_WRITE (a sealed memfd opens for writing, its writes fail), ETXTBSY while a
// process still runs it.
void expect_unwritable(int path_fd)
{
    const auto path = "/proc/self/fd/" + std::to_string(path_fd);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    const int saved = errno;
    if (fd >= 0) {
        BOOST_TEST(::write(fd, "x", 1) < 0, "write to the runtime copy succeeded");
        ::close(fd);
    } else {
        BOOST_TEST((saved == EROFS || saved == EPERM || saved == ETXTBSY || saved == EACCES),
                   "unexpected errno " << saved);
    }
}

std::string built_berth_runtime()
{
    const auto binary = berth_runtime_path();
    BOOST_TEST_REQUIRE(binary.has_value(), "berth-runtime is not built");
    return *binary;
}

// A container made by `berth-runtime create` from a bundle running `true`: its init waits in
// the created state.
struct CreatedInit {
    std::string binary = built_berth_runtime();
    Runtime berth{"berth-runtime", binary};
    Bundle bundle;
    std::string id;
    pid_t pid = -1;

    explicit CreatedInit(const std::string& hint) : id(berth.new_id(hint))
    {
        bundle.set_args({"true"});
        bundle.write();
        const auto created = berth.cli({"create", "--bundle", bundle.dir(), id});
        BOOST_TEST_REQUIRE(created.status == 0, "create failed: " << created.err);
        const auto state = nlohmann::json::parse(berth.cli({"state", id}).out, nullptr, false);
        BOOST_TEST_REQUIRE(state.is_object());
        pid = state.value("pid", 0);
        BOOST_TEST_REQUIRE(pid > 0);
    }
};

} // namespace

BOOST_AUTO_TEST_CASE(created_init_runs_from_a_binary_nothing_can_write_not_the_host_file,
                     *utf::precondition(is_root))
{
    CreatedInit created("sealed");
    const pid_t pid = created.pid;

    const auto link = exe_link(pid);
    BOOST_TEST_MESSAGE("created init's /proc/<pid>/exe -> " << link);
    BOOST_TEST(link != created.binary);
    // What an attacker in the container would hold: an O_PATH fd on the init's exe, reopened for
    // writing now and again once every runtime process has exited.
    const std::string exe = "/proc/" + std::to_string(pid) + "/exe";
    const int held = ::open(exe.c_str(), O_PATH | O_CLOEXEC);
    BOOST_TEST_REQUIRE(held >= 0);
    struct statvfs vfs {};
    const bool readonly = ::fstatvfs(held, &vfs) == 0 && (vfs.f_flag & ST_RDONLY);
    const berth::Fd readable(::open(exe.c_str(), O_RDONLY | O_CLOEXEC));
    const int seals = ::fcntl(readable.get(), F_GET_SEALS); // EINVAL unless a memfd
    BOOST_TEST((readonly || (seals >= 0 && (seals & F_SEAL_WRITE))),
               "the init's binary is neither on a read-only mount nor a sealed memfd");
    expect_unwritable(held);
    BOOST_TEST(created.berth.cli({"delete", "--force", created.id}).status == 0);
    created.berth.forget(created.id);
    for (int i = 0; i < 200 && ::kill(pid, 0) == 0; ++i)
        ::usleep(10 * 1000); // the init is killed and reaped by its adopter
    expect_unwritable(held);
    ::close(held);
}

// Issue 14: berth-runtime protects itself without a second exec where it can (exe_remap.cpp):
// its mappings are moved onto the read-only bind. Whichever way, no mapping of the created
// init may reach the binary through a writable mount (/proc/<pid>/map_files/ is another way
// in), and the host's file itself must not be one of them.
BOOST_AUTO_TEST_CASE(created_init_maps_nothing_of_the_binary_from_a_writable_mount,
                     *utf::precondition(is_root))
{
    CreatedInit created("mapped");
    const std::string dir = "/proc/" + std::to_string(created.pid) + "/map_files";
    struct stat host {};
    BOOST_TEST_REQUIRE(::stat(created.binary.c_str(), &host) == 0);
    int of_binary = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        const berth::Fd held(::open(entry.path().c_str(), O_PATH | O_CLOEXEC));
        BOOST_TEST_REQUIRE(held.valid(), entry.path());
        struct stat st {};
        BOOST_TEST_REQUIRE(::fstat(held.get(), &st) == 0);
        if (st.st_ino != host.st_ino || st.st_dev != host.st_dev)
            continue;
        ++of_binary;
        struct statvfs vfs {};
        BOOST_TEST((::fstatvfs(held.get(), &vfs) == 0 && (vfs.f_flag & ST_RDONLY)),
                   entry.path() << " maps the binary from a writable mount");
    }
    BOOST_TEST_MESSAGE("mappings of the binary: " << of_binary);
    BOOST_TEST(created.berth.cli({"delete", "--force", created.id}).status == 0);
    created.berth.forget(created.id);
}

// Issue 14: the init joins its cgroup without a move by pid (clone3 CLONE_INTO_CGROUP for v2, a
// self-move through each v1 hierarchy's tasks file). Every hierarchy must show it there.
BOOST_AUTO_TEST_CASE(created_init_is_in_the_container_cgroup_in_every_hierarchy,
                     *utf::precondition(is_root))
{
    CreatedInit created("cgjoin");
    const pid_t pid = created.pid;

    std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
    std::string line;
    int lines = 0;
    while (std::getline(in, line)) {
        // "<id>:<controllers>:<path>"; the path may not contain ':'.
        const auto path = line.substr(line.rfind(':') + 1);
        BOOST_TEST(path == created.bundle.cgroups_path(), "hierarchy line '" << line << "'");
        ++lines;
    }
    BOOST_TEST(lines > 0);
    BOOST_TEST(created.berth.cli({"delete", "--force", created.id}).status == 0);
    created.berth.forget(created.id);
}
