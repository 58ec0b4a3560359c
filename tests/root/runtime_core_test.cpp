// tests/root/runtime_core_test.cpp — the runtime library's API driven directly (no CLI), as
// root on this host: busybox bundles in mkdtemp directories, a mkdtemp state root, cgroups under
// "/berth-test-<pid>-<n>". Each check looks from inside the container (its /proc/self/status,
// mountinfo, fds) and each test verifies that nothing is left behind.
#define BOOST_TEST_MODULE runtime_core
#include <fcntl.h>
#include <algorithm>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <boost/test/unit_test.hpp>
#include "runtime/runtime.hpp"
#include "tests/support/bundle.hpp"
#include "tests/support/console.hpp"
#include "tests/support/privileges.hpp"
#include "tests/support/runner.hpp"

namespace utf = boost::unit_test;
namespace fs = std::filesystem;
namespace rt = berth::runtime;
using berth::test::Bundle;
using berth::test::TempDir;
using namespace std::chrono_literals;

namespace {

std::string read_all(int fd)
{
    std::string data;
    char buffer[8192];
    off_t offset = 0;
    for (;;) {
        const ssize_t n = ::pread(fd, buffer, sizeof buffer, offset);
        if (n <= 0)
            return data;
        data.append(buffer, static_cast<std::size_t>(n));
        offset += n;
    }
}

// The error text of a failed Result, "" for a success (Boost evaluates messages eagerly).
template <class R>
std::string why(const R& r)
{
    return r ? std::string() : r.error().message();
}

struct Ran {
    int status = -1;
    std::string out, err, error; // error: the Result's message when it failed
    bool ok() const { return error.empty(); }
};

// A state root and a counter of ids; every container is force-deleted at the end and the
// state root must then be empty.
struct Fixture {
    TempDir state{"berth-core-state"};
    rt::Options options;
    Bundle bundle;
    std::vector<std::string> ids;
    std::string last_err;
    berth::Fd out{::memfd_create("out", MFD_CLOEXEC)}, err{::memfd_create("err", MFD_CLOEXEC)};

    Fixture()
    {
        options.root = state.path() + "/root";
        options.cgroups_outside_root = true; // the test cgroups are top-level "/berth-test-..."
        bundle.config["process"]["noNewPrivileges"] = true;
    }
    ~Fixture()
    {
        for (const auto& id : ids)
            (void)rt::remove(options, id, true);
        BOOST_TEST(berth::test::list_dir(options.root).empty());
        BOOST_TEST(!berth::test::cgroup_exists(bundle.cgroups_path()));
    }
    std::string new_id(const std::string& hint)
    {
        ids.push_back(hint + "-" + std::to_string(::getpid()) + "-" + std::to_string(ids.size()));
        return ids.back();
    }
    rt::CreateOptions create_options(const std::string& id)
    {
        rt::CreateOptions co;
        co.id = id;
        co.bundle = bundle.dir();
        co.stdin_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        co.stdout_fd = out.get();
        co.stderr_fd = err.get();
        return co;
    }
    std::string output() const { return read_all(out.get()); }
    // Runs args in the foreground, returning status and output.
    Ran run(const std::vector<std::string>& args)
    {
        bundle.set_args(args);
        bundle.write();
        ::ftruncate(out.get(), 0);
        ::ftruncate(err.get(), 0);
        auto co = create_options(new_id("run"));
        auto r = rt::run(options, co, false);
        ::close(co.stdin_fd);
        Ran ran;
        if (r)
            ran.status = *r;
        else
            ran.error = r.error().message();
        ran.out = read_all(out.get());
        ran.err = read_all(err.get());
        last_err = ran.err;
        return ran;
    }
    // sh -c script; the test fails with the runtime's error if it did not run.
    std::string sh(const std::string& script)
    {
        auto r = run({"sh", "-c", script});
        BOOST_TEST_REQUIRE(r.ok(), r.error);
        BOOST_TEST(r.status == 0, "exit " << r.status << " stderr: " << r.err);
        return r.out;
    }
};

std::string status_line(const std::string& status, const std::string& key)
{
    const auto at = status.find(key + ":");
    if (at == std::string::npos)
        return "";
    const auto end = status.find('\n', at);
    auto value = status.substr(at + key.size() + 1, end - at - key.size() - 1);
    return std::string(berth::trim(value));
}

// Waits until the container's status is `want` (or the timeout passes).
bool wait_status(const rt::Options& options, const std::string& id, rt::Status want)
{
    for (int i = 0; i < 500; ++i) {
        auto s = rt::state(options, id);
        if (s && s->status == want)
            return true;
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

void remove_namespace(nlohmann::json& config, const std::string& type)
{
    auto& namespaces = config["linux"]["namespaces"];
    for (auto it = namespaces.begin(); it != namespaces.end(); ++it)
        if ((*it)["type"] == type) {
            namespaces.erase(it);
            return;
        }
}

// A process in a fresh network namespace, for joining that namespace by path. Killed and
// reaped by the destructor.
struct NetnsHolder {
    pid_t pid = -1;
    NetnsHolder()
    {
        int ready[2];
        BOOST_TEST_REQUIRE(::pipe(ready) == 0);
        pid = ::fork();
        if (pid == 0) {
            if (::unshare(CLONE_NEWNET) < 0)
                ::_exit(1);
            (void)!::write(ready[1], "x", 1);
            ::pause();
            ::_exit(0);
        }
        ::close(ready[1]);
        char c;
        BOOST_TEST_REQUIRE(::read(ready[0], &c, 1) == 1);
        ::close(ready[0]);
    }
    ~NetnsHolder()
    {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }
    std::string path() const { return "/proc/" + std::to_string(pid) + "/ns/net"; }
    ino_t inode() const
    {
        struct stat st {};
        ::stat(path().c_str(), &st);
        return st.st_ino;
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(runtime_core, *utf::label("root") * utf::precondition(berth::test::is_root))

BOOST_FIXTURE_TEST_CASE(run_echo_prints_and_returns_zero, Fixture)
{
    auto r = run({"echo", "hello from berth"});
    BOOST_TEST_REQUIRE(r.ok(), r.error);
    BOOST_TEST(r.status == 0);
    BOOST_TEST(r.out == "hello from berth\n");
}

BOOST_FIXTURE_TEST_CASE(run_returns_the_exit_code, Fixture)
{
    auto r = run({"sh", "-c", "exit 7"});
    BOOST_TEST_REQUIRE(r.ok(), r.error);
    BOOST_TEST(r.status == 7);
}

BOOST_FIXTURE_TEST_CASE(killed_process_reports_128_plus_signal, Fixture)
{
    // Without a pid namespace: a pid namespace's init ignores even SIGKILL from inside it.
    auto& namespaces = bundle.config["linux"]["namespaces"];
    for (auto it = namespaces.begin(); it != namespaces.end(); ++it)
        if ((*it)["type"] == "pid") {
            namespaces.erase(it);
            break;
        }
    auto r = run({"sh", "-c", "kill -9 $$"});
    BOOST_TEST_REQUIRE(r.ok(), r.error);
    BOOST_TEST(r.status == 128 + SIGKILL);
}

BOOST_FIXTURE_TEST_CASE(missing_binary_is_an_exec_error, Fixture)
{
    auto r = run({"/no/such/binary"});
    BOOST_TEST(!r.ok());
    BOOST_TEST(r.error.find("exec") != std::string::npos, r.error);
    BOOST_TEST(r.error.find("No such file") != std::string::npos, r.error);
}

BOOST_FIXTURE_TEST_CASE(process_sees_its_capabilities_no_new_privs_and_seccomp, Fixture)
{
    bundle.config["linux"]["seccomp"] = {
        {"defaultAction", "SCMP_ACT_ALLOW"},
        {"syscalls", {{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}}}}};
    const auto status = sh("cat /proc/self/status; mkdir /dev/shm/x || echo mkdir-blocked");
    // CAP_KILL (5), CAP_NET_BIND_SERVICE (10), CAP_AUDIT_WRITE (29) from the default config.
    BOOST_TEST(status_line(status, "CapEff") == "0000000020000420");
    BOOST_TEST(status_line(status, "CapBnd") == "0000000020000420");
    // Ambient needs inheritable, which the default config leaves empty (runc shows 0 as well).
    BOOST_TEST(status_line(status, "CapAmb") == "0000000000000000");
    BOOST_TEST(status_line(status, "NoNewPrivs") == "1");
    BOOST_TEST(status_line(status, "Seccomp") == "2");
    BOOST_TEST(status.find("mkdir-blocked") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(seccomp_without_no_new_privs_is_loaded_before_dropping_caps, Fixture)
{
    bundle.config["process"]["noNewPrivileges"] = false;
    bundle.config["linux"]["seccomp"] = {
        {"defaultAction", "SCMP_ACT_ALLOW"},
        {"syscalls", {{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}}}}};
    const auto status = sh("cat /proc/self/status; mkdir /dev/shm/x || echo mkdir-blocked");
    BOOST_TEST(status_line(status, "NoNewPrivs") == "0");
    BOOST_TEST(status_line(status, "Seccomp") == "2");
    BOOST_TEST(status.find("mkdir-blocked") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(hostname_rlimits_user_cwd_and_env_apply, Fixture)
{
    bundle.config["hostname"] = "berth-box";
    bundle.config["process"]["rlimits"] = {
        {{"type", "RLIMIT_NOFILE"}, {"soft", 321}, {"hard", 654}}};
    bundle.config["process"]["user"] = {{"uid", 1234}, {"gid", 5678}, {"additionalGids", {42}}};
    bundle.config["process"]["cwd"] = "/tmp";
    bundle.config["process"]["env"].push_back("GREETING=hi there");
    bundle.config["root"]["readonly"] = false;
    const auto out = sh("hostname; ulimit -n; ulimit -Hn; id -u; id -g; id -G; pwd; "
                        "echo \"$GREETING\"");
    BOOST_TEST(out == "berth-box\n321\n654\n1234\n5678\n5678 42\n/tmp\nhi there\n");
}

BOOST_FIXTURE_TEST_CASE(masked_paths_are_unreadable_and_readonly_paths_are_read_only, Fixture)
{
    const auto out = sh("cat /proc/kcore | wc -c; ls /sys/firmware | wc -l; "
                        "echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null || echo ro-sys; "
                        "touch /newfile 2>/dev/null || echo ro-root");
    BOOST_TEST(out == "0\n0\nro-sys\nro-root\n");
}

BOOST_FIXTURE_TEST_CASE(mount_flags_show_in_mountinfo, Fixture)
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

BOOST_FIXTURE_TEST_CASE(no_host_fd_leaks_into_the_container, Fixture)
{
    const int leaked = ::open("/etc/hostname", O_RDONLY); // deliberately without O_CLOEXEC
    BOOST_TEST_REQUIRE(leaked >= 0);
    // The shell's own fds, listed by a child it waits for (no pipe or redirection open).
    const auto out = sh("ls /proc/$$/fd; true");
    ::close(leaked);
    BOOST_TEST(out == "0\n1\n2\n", last_err);
}

BOOST_FIXTURE_TEST_CASE(lifecycle_goes_created_running_paused_stopped_and_delete_leaves_nothing,
                        Fixture)
{
    bundle.set_args({"sleep", "1000"});
    bundle.write();
    const auto id = new_id("life");
    auto co = create_options(id);
    auto created = rt::create(options, co);
    ::close(co.stdin_fd);
    BOOST_TEST_REQUIRE(created.has_value(), why(created));
    BOOST_TEST((created->status == rt::Status::Created));
    const pid_t pid = created->pid;
    BOOST_TEST(pid > 0);
    BOOST_TEST(fs::exists(options.root + "/" + id + "/exec.fifo"));
    auto s = rt::state(options, id);
    BOOST_TEST_REQUIRE(s.has_value());
    BOOST_TEST((s->status == rt::Status::Created));
    BOOST_TEST(rt::state_to_json(*s).find("\"status\":\"created\"") != std::string::npos);
    rt::ExecOptions early; // the init still runs our image until start: no exec yet
    early.process.args = {"true"};
    BOOST_TEST(!rt::exec(options, id, early).has_value());

    auto started = rt::start(options, id);
    BOOST_TEST_REQUIRE(started.has_value(), why(started));
    BOOST_TEST(wait_status(options, id, rt::Status::Running));
    BOOST_TEST(!rt::start(options, id).has_value()); // only once
    auto pids = rt::processes(options, id);
    BOOST_TEST_REQUIRE(pids.has_value(), why(pids));
    BOOST_TEST((std::find(pids->begin(), pids->end(), pid) != pids->end()));

    BOOST_TEST_REQUIRE(rt::pause(options, id).has_value());
    BOOST_TEST(wait_status(options, id, rt::Status::Paused));
    BOOST_TEST_REQUIRE(rt::resume(options, id).has_value());
    BOOST_TEST(wait_status(options, id, rt::Status::Running));

    auto stats = rt::stats(options, id);
    BOOST_TEST(stats.has_value(), why(stats));
    auto listed = rt::list(options);
    BOOST_TEST_REQUIRE(listed.has_value());
    BOOST_TEST(listed->size() == 1u);

    auto busy = rt::remove(options, id, false);
    BOOST_TEST(!busy.has_value()); // running: needs force
    BOOST_TEST_REQUIRE(rt::kill(options, id, SIGKILL, false).has_value());
    ::waitpid(pid, nullptr, 0); // the init is our child (CLONE_PARENT): reap it
    BOOST_TEST(wait_status(options, id, rt::Status::Stopped));
    auto removed = rt::remove(options, id, false);
    BOOST_TEST_REQUIRE(removed.has_value(), why(removed));
    BOOST_TEST(!fs::exists(options.root + "/" + id));
    BOOST_TEST(!berth::test::cgroup_exists(bundle.cgroups_path()));
    BOOST_TEST(!berth::test::has_mounts_under(bundle.rootfs()));
}

BOOST_FIXTURE_TEST_CASE(exec_runs_in_the_containers_namespaces, Fixture)
{
    bundle.config["hostname"] = "exec-box";
    bundle.set_args({"sleep", "1000"});
    bundle.write();
    const auto id = new_id("exec");
    auto co = create_options(id);
    auto created = rt::create(options, co);
    ::close(co.stdin_fd);
    BOOST_TEST_REQUIRE(created.has_value(), why(created));
    BOOST_TEST_REQUIRE(rt::start(options, id).has_value());
    rt::ExecOptions eo;
    eo.process.args = {"sh", "-c", "hostname; echo $$; cat /proc/self/status | grep NoNewPrivs"};
    eo.process.env = {"PATH=/bin"};
    eo.process.no_new_privileges = true;
    berth::Fd out(::memfd_create("exec-out", MFD_CLOEXEC));
    eo.stdout_fd = out.get();
    auto r = rt::exec(options, id, eo);
    BOOST_TEST_REQUIRE(r.has_value(), why(r));
    BOOST_TEST(*r == 0);
    const auto text = read_all(out.get());
    BOOST_TEST(text.find("exec-box\n") == 0u, text);
    BOOST_TEST(text.find("NoNewPrivs:\t1") != std::string::npos, text);
    // In the container's pid namespace: a small pid, not the host's.
    const auto second = text.substr(text.find('\n') + 1);
    BOOST_TEST(std::stoi(second) < 100, text);
    auto removed = rt::remove(options, id, true);
    BOOST_TEST(removed.has_value());
    ::waitpid(created->pid, nullptr, 0);
}

BOOST_FIXTURE_TEST_CASE(missing_rootfs_fails_naming_it_and_leaves_nothing, Fixture)
{
    bundle.config["root"]["path"] = "no-such-rootfs";
    auto r = run({"true"});
    BOOST_TEST(!r.ok());
    BOOST_TEST(r.error.find("rootfs") != std::string::npos, r.error);
    BOOST_TEST(r.error.find("No such file") != std::string::npos, r.error);
    BOOST_TEST(berth::test::list_dir(options.root).empty());
}

BOOST_FIXTURE_TEST_CASE(bad_cwd_fails_naming_it_and_leaves_nothing, Fixture)
{
    bundle.config["process"]["cwd"] = "/does/not/exist";
    auto r = run({"true"});
    BOOST_TEST(!r.ok());
    BOOST_TEST(r.error.find("chdir to cwd '/does/not/exist'") != std::string::npos, r.error);
    BOOST_TEST(berth::test::list_dir(options.root).empty());
    BOOST_TEST(!berth::test::cgroup_exists(bundle.cgroups_path()));
    BOOST_TEST(!berth::test::has_mounts_under(bundle.rootfs()));
}

BOOST_FIXTURE_TEST_CASE(unknown_namespace_path_fails_naming_it, Fixture)
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

BOOST_FIXTURE_TEST_CASE(joins_a_network_namespace_by_path, Fixture)
{
    NetnsHolder netns;
    remove_namespace(bundle.config, "network");
    bundle.config["linux"]["namespaces"].push_back({{"type", "network"}, {"path", netns.path()}});
    const auto out = sh("readlink /proc/self/ns/net");
    BOOST_TEST(out == "net:[" + std::to_string(netns.inode()) + "]\n");
}

BOOST_FIXTURE_TEST_CASE(symlink_in_rootfs_cannot_redirect_a_mount_to_the_host, Fixture)
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

BOOST_FIXTURE_TEST_CASE(user_namespace_container_sees_its_mappings, Fixture)
{
    // mkdtemp made the bundle 0700: the container's root (host uid 100000) must pass through.
    fs::permissions(bundle.dir(),
                    fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    bundle.config["linux"]["namespaces"].push_back({{"type", "user"}});
    bundle.config["linux"]["uidMappings"] = {
        {{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
    bundle.config["linux"]["gidMappings"] = {
        {{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
    const auto out = sh("cat /proc/self/uid_map /proc/self/gid_map; id -u; cat /dev/null; "
                        "grep CapEff /proc/self/status");
    BOOST_TEST(out.find("0     100000      65536") != std::string::npos, out);
    BOOST_TEST(out.find("\n0\n") != std::string::npos, out);
    BOOST_TEST(out.find("CapEff:\t0000000020000420") != std::string::npos, out);
}

BOOST_FIXTURE_TEST_CASE(terminal_sends_the_pty_master_to_the_console_socket, Fixture)
{
    berth::test::ConsoleSocket console;
    bundle.config["process"]["terminal"] = true;
    bundle.config["process"]["consoleSize"] = {{"height", 40}, {"width", 100}};
    bundle.set_args({"sh", "-c", "tty; stty size"});
    bundle.write();
    const auto id = new_id("tty");
    rt::CreateOptions co;
    co.id = id;
    co.bundle = bundle.dir();
    co.console_socket = console.path();
    auto created = rt::create(options, co);
    BOOST_TEST_REQUIRE(created.has_value(), why(created));
    auto master = console.receive(5s);
    BOOST_TEST_REQUIRE(master.valid());
    BOOST_TEST_REQUIRE(rt::start(options, id).has_value());
    const auto text = berth::test::read_until(master.get(), "40 100", 5s);
    BOOST_TEST(text.find("/dev/pts/0") != std::string::npos, text);
    BOOST_TEST(text.find("40 100") != std::string::npos, text);
    ::waitpid(created->pid, nullptr, 0);
}

BOOST_FIXTURE_TEST_CASE(hooks_get_the_state_and_a_failing_prestart_hook_fails_create, Fixture)
{
    const auto dir = state.path();
    auto hook = [&](const std::string& script) {
        return nlohmann::json{{"path", "/bin/sh"}, {"args", {"sh", "-c", script}}};
    };
    bundle.config["hooks"] = {
        {"prestart", {hook("cat > " + dir + "/prestart.json")}},
        {"createRuntime", {hook("cat > " + dir + "/createRuntime.json")}},
        {"createContainer", {hook("cat > " + dir + "/createContainer.json")}},
        {"poststart", {hook("cat > " + dir + "/poststart.json")}},
        {"poststop", {hook("cat > " + dir + "/poststop.json")}},
        // In the container, after start, before exec: the path is the container's /bin/sh.
        {"startContainer", {hook("cat > /tmp/startContainer.json")}},
    };
    bundle.config["root"]["readonly"] = false;
    const auto seen = sh("cat /tmp/startContainer.json");
    BOOST_TEST(seen.find("\"id\":\"run-") != std::string::npos, seen);
    for (const auto* kind :
         {"prestart", "createRuntime", "createContainer", "poststart", "poststop"}) {
        std::ifstream in(dir + "/" + kind + ".json");
        std::stringstream text;
        text << in.rdbuf();
        BOOST_TEST(text.str().find("\"id\":\"run-") != std::string::npos,
                   kind << ": " << text.str());
    }
    bundle.config["hooks"] = {{"prestart", {hook("exit 3")}}};
    auto r = run({"true"});
    BOOST_TEST(!r.ok());
    BOOST_TEST(r.error.find("prestart hook 0 '/bin/sh': exited with status 3") != std::string::npos,
               r.error);
    bundle.config["hooks"] = {
        {"createRuntime", {{{"path", "/bin/sleep"}, {"args", {"sleep", "30"}}, {"timeout", 1}}}}};
    r = run({"true"});
    BOOST_TEST(r.error.find("timeout") != std::string::npos, r.error);
}

BOOST_FIXTURE_TEST_CASE(sysctl_devices_oom_umask_domainname_and_cgroup_namespace_apply, Fixture)
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

BOOST_FIXTURE_TEST_CASE(no_pivot_moves_the_root_instead_and_still_runs, Fixture)
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

BOOST_FIXTURE_TEST_CASE(kill_all_reaches_every_process_and_pid_file_is_written, Fixture)
{
    remove_namespace(bundle.config, "pid"); // so that init's death does not kill the rest
    bundle.set_args({"sh", "-c", "sleep 1000 & sleep 1000 & wait"});
    bundle.write();
    const auto id = new_id("killall");
    auto co = create_options(id);
    co.pid_file = state.path() + "/pid";
    auto created = rt::create(options, co);
    ::close(co.stdin_fd);
    BOOST_TEST_REQUIRE(created.has_value(), why(created));
    std::ifstream pid_file(co.pid_file);
    pid_t recorded = 0;
    pid_file >> recorded;
    BOOST_TEST(recorded == created->pid);
    BOOST_TEST_REQUIRE(rt::start(options, id).has_value());
    std::vector<pid_t> pids;
    for (int i = 0; i < 200 && pids.size() < 3; ++i) {
        std::this_thread::sleep_for(10ms);
        pids = rt::processes(options, id).value();
    }
    BOOST_TEST_REQUIRE(pids.size() == 3u);
    BOOST_TEST_REQUIRE(rt::kill(options, id, SIGKILL, true).has_value());
    ::waitpid(created->pid, nullptr, 0);
    // The sleeps were re-parented to the host's init, or to us when an earlier run() made this
    // process a subreaper: then they are our zombies to reap.
    auto gone = [](pid_t pid) {
        ::waitpid(pid, nullptr, WNOHANG);
        std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
        std::string line;
        std::getline(stat, line);
        return line.empty() || line.find(") Z ") != std::string::npos;
    };
    for (const pid_t pid : pids)
        for (int i = 0; i < 200 && !gone(pid); ++i)
            std::this_thread::sleep_for(10ms);
    for (const pid_t pid : pids)
        BOOST_TEST(gone(pid));
    BOOST_TEST(wait_status(options, id, rt::Status::Stopped));
    BOOST_TEST(rt::remove(options, id, false).has_value());
}

BOOST_FIXTURE_TEST_CASE(foreground_run_forwards_sigterm_to_the_container, Fixture)
{
    const pthread_t runner = ::pthread_self();
    std::thread sender([runner] {
        std::this_thread::sleep_for(500ms);
        // The point of the test: a SIGTERM to the thread blocked in run(), read by its signalfd.
        ::pthread_kill(runner, SIGTERM); // NOLINT(bugprone-bad-signal-to-kill-thread)
    });
    auto r = run({"sh", "-c", "trap 'exit 42' TERM; while :; do sleep 0.05; done"});
    sender.join();
    BOOST_TEST_REQUIRE(r.ok(), r.error);
    BOOST_TEST(r.status == 42);
}

// A caller that blocks or ignores signals (an agent reading them from a signalfd, a shell that
// ignores SIGPIPE; run() itself holds the forwarded ones) must not hand that on: both the mask
// and SIG_IGN survive execve.
BOOST_FIXTURE_TEST_CASE(container_starts_with_no_signal_blocked_or_ignored, Fixture)
{
    sigset_t blocked, saved;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGUSR1);
    ::pthread_sigmask(SIG_BLOCK, &blocked, &saved);
    struct sigaction ignore {};
    struct sigaction old_pipe {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ignore, &old_pipe);
    auto r = run({"grep", "-E", "^Sig(Blk|Ign):", "/proc/self/status"});
    ::sigaction(SIGPIPE, &old_pipe, nullptr);
    ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
    BOOST_TEST_REQUIRE(r.ok(), r.error);
    BOOST_TEST(r.out == "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
}

BOOST_FIXTURE_TEST_CASE(failing_mount_names_its_destination_and_leaves_nothing, Fixture)
{
    bundle.add_mount({{"destination", "/mnt/odd"}, {"type", "berthnosuchfs"}, {"source", "x"}});
    auto r = run({"true"});
    BOOST_TEST(!r.ok());
    BOOST_TEST(r.error.find("mount '/mnt/odd': No such device") != std::string::npos, r.error);
    BOOST_TEST(berth::test::list_dir(options.root).empty());
    BOOST_TEST(!berth::test::has_mounts_under(bundle.rootfs()));
}

BOOST_FIXTURE_TEST_CASE(namespace_path_of_the_wrong_type_fails_naming_it, Fixture)
{
    NetnsHolder netns;
    remove_namespace(bundle.config, "ipc");
    bundle.config["linux"]["namespaces"].push_back({{"type", "ipc"}, {"path", netns.path()}});
    auto r = run({"true"});
    BOOST_TEST(!r.ok());
    BOOST_TEST(r.error.find("join namespace '" + netns.path() + "': Invalid argument") !=
                   std::string::npos,
               r.error);
    BOOST_TEST(berth::test::list_dir(options.root).empty());
    BOOST_TEST(!berth::test::cgroup_exists(bundle.cgroups_path()));
}

BOOST_AUTO_TEST_SUITE_END()
