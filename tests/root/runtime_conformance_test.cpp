// tests/root/runtime_conformance_test.cpp — spec conformance found by driving berth-runtime
// from outside (issue 13): seccomp profiles written for runc, exec failures that must surface,
// rootfs propagation, inherited and joined namespaces, devices with full st_mode, the loopback
// interface, /dev/console, tmpcopyup, refused fields. Root on this host; each test looks from
// inside the container and leaves nothing behind (RuntimeFixture checks).
#define BOOST_TEST_MODULE runtime_conformance
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>
#include "base/fd_passing.hpp"
#include "tests/root/runtime_fixture.hpp"
#include "tests/support/console.hpp"
#include "tests/support/privileges.hpp"

namespace utf = boost::unit_test;
namespace fs = std::filesystem;
using namespace berth::test;
using namespace std::chrono_literals;

namespace {

// The syscalls a runc-era profile (Docker's default before close_range existed) allows: a fixed
// list, default ERRNO. Notably absent: close_range, and anything berth added later.
const std::vector<std::string> runc_era_allowed = {"accept",
                                                   "accept4",
                                                   "access",
                                                   "alarm",
                                                   "arch_prctl",
                                                   "bind",
                                                   "brk",
                                                   "capget",
                                                   "capset",
                                                   "chdir",
                                                   "chmod",
                                                   "chown",
                                                   "clock_getres",
                                                   "clock_gettime",
                                                   "clock_nanosleep",
                                                   "clone",
                                                   "close",
                                                   "connect",
                                                   "dup",
                                                   "dup2",
                                                   "dup3",
                                                   "epoll_create",
                                                   "epoll_create1",
                                                   "epoll_ctl",
                                                   "epoll_pwait",
                                                   "epoll_wait",
                                                   "eventfd",
                                                   "eventfd2",
                                                   "execve",
                                                   "execveat",
                                                   "exit",
                                                   "exit_group",
                                                   "faccessat",
                                                   "fadvise64",
                                                   "fallocate",
                                                   "fchdir",
                                                   "fchmod",
                                                   "fchmodat",
                                                   "fchown",
                                                   "fchownat",
                                                   "fcntl",
                                                   "fdatasync",
                                                   "flock",
                                                   "fork",
                                                   "fstat",
                                                   "fstatfs",
                                                   "fsync",
                                                   "ftruncate",
                                                   "futex",
                                                   "getcwd",
                                                   "getdents",
                                                   "getdents64",
                                                   "getegid",
                                                   "geteuid",
                                                   "getgid",
                                                   "getgroups",
                                                   "getitimer",
                                                   "getpeername",
                                                   "getpgid",
                                                   "getpgrp",
                                                   "getpid",
                                                   "getppid",
                                                   "getpriority",
                                                   "getrandom",
                                                   "getresgid",
                                                   "getresuid",
                                                   "getrlimit",
                                                   "get_robust_list",
                                                   "getrusage",
                                                   "getsid",
                                                   "getsockname",
                                                   "getsockopt",
                                                   "gettid",
                                                   "gettimeofday",
                                                   "getuid",
                                                   "ioctl",
                                                   "kill",
                                                   "lchown",
                                                   "link",
                                                   "linkat",
                                                   "listen",
                                                   "lseek",
                                                   "lstat",
                                                   "madvise",
                                                   "mkdir",
                                                   "mkdirat",
                                                   "mmap",
                                                   "mprotect",
                                                   "mremap",
                                                   "munmap",
                                                   "nanosleep",
                                                   "newfstatat",
                                                   "open",
                                                   "openat",
                                                   "pause",
                                                   "pipe",
                                                   "pipe2",
                                                   "poll",
                                                   "ppoll",
                                                   "prctl",
                                                   "pread64",
                                                   "prlimit64",
                                                   "pselect6",
                                                   "pwrite64",
                                                   "read",
                                                   "readlink",
                                                   "readlinkat",
                                                   "readv",
                                                   "recvfrom",
                                                   "recvmsg",
                                                   "rename",
                                                   "renameat",
                                                   "rmdir",
                                                   "rt_sigaction",
                                                   "rt_sigpending",
                                                   "rt_sigprocmask",
                                                   "rt_sigqueueinfo",
                                                   "rt_sigreturn",
                                                   "rt_sigsuspend",
                                                   "rt_sigtimedwait",
                                                   "sched_getaffinity",
                                                   "sched_yield",
                                                   "select",
                                                   "sendmsg",
                                                   "sendto",
                                                   "setgid",
                                                   "setgroups",
                                                   "setitimer",
                                                   "setpgid",
                                                   "setresgid",
                                                   "setresuid",
                                                   "setsid",
                                                   "setsockopt",
                                                   "set_robust_list",
                                                   "set_tid_address",
                                                   "setuid",
                                                   "shutdown",
                                                   "sigaltstack",
                                                   "socket",
                                                   "socketpair",
                                                   "stat",
                                                   "statfs",
                                                   "symlink",
                                                   "symlinkat",
                                                   "sysinfo",
                                                   "tgkill",
                                                   "umask",
                                                   "uname",
                                                   "unlink",
                                                   "unlinkat",
                                                   "utimensat",
                                                   "vfork",
                                                   "wait4",
                                                   "waitid",
                                                   "write",
                                                   "writev"};

nlohmann::json runc_era_profile()
{
    return {{"defaultAction", "SCMP_ACT_ERRNO"},
            {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
            {"syscalls", {{{"names", runc_era_allowed}, {"action", "SCMP_ACT_ALLOW"}}}}};
}

// The last /proc/self/mountinfo line whose mount point (field 5) is `point`.
std::string mount_line(const std::string& mountinfo, const std::string& point)
{
    std::istringstream lines(mountinfo);
    std::string line, found;
    while (std::getline(lines, line)) {
        std::istringstream fields(line);
        std::string field;
        for (int i = 0; i < 5 && fields >> field; ++i) {
        }
        if (field == point)
            found = line;
    }
    return found;
}

// The agent's end of linux.seccomp.listenerPath: accepts one connection and takes the
// ContainerProcessState JSON and the listener fd sent with it.
struct SeccompAgent {
    TempDir dir{"berth-seccomp-agent"};
    std::string path = dir.path() + "/listener.sock";
    berth::Fd listener{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
    std::string message;
    berth::Fd notify;

    SeccompAgent()
    {
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        path.copy(address.sun_path, path.size());
        BOOST_TEST_REQUIRE(
            ::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        BOOST_TEST_REQUIRE(::listen(listener.get(), 1) == 0);
    }
    bool receive()
    {
        pollfd p{listener.get(), POLLIN, 0};
        if (::poll(&p, 1, 5000) != 1)
            return false;
        berth::Fd connection(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
        std::array<char, 8192> data{};
        std::vector<berth::Fd> passed;
        const auto n = berth::receive_with_fds(connection.get(), data, passed);
        if (!n || *n == 0 || passed.size() != 1)
            return false;
        notify = std::move(passed.front());
        message.assign(data.data(), *n);
        return true;
    }
    // Answers the next notified syscall with -error; returns its syscall number.
    int answer_next(int error)
    {
        seccomp_notif request{};
        if (::ioctl(notify.get(), SECCOMP_IOCTL_NOTIF_RECV, &request) < 0)
            return -1;
        seccomp_notif_resp response{};
        response.id = request.id;
        response.error = -error;
        if (::ioctl(notify.get(), SECCOMP_IOCTL_NOTIF_SEND, &response) < 0)
            return -1;
        return request.data.nr;
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(runtime_conformance,
                      *utf::label("root") * utf::precondition(berth::test::is_root))

// Issue 13: "mark fds close-on-exec: Operation not permitted" on every create.
BOOST_FIXTURE_TEST_CASE(runc_era_seccomp_profile_without_close_range_runs_without_no_new_privs,
                        RuntimeFixture)
{
    bundle.config["process"]["noNewPrivileges"] = false;
    bundle.config["linux"]["seccomp"] = runc_era_profile();
    const auto out = sh("grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status; echo ran");
    BOOST_TEST(out.find("Seccomp:\t2") != std::string::npos, out);
    BOOST_TEST(out.find("NoNewPrivs:\t0") != std::string::npos, out);
    BOOST_TEST(out.find("ran") != std::string::npos, out);
}

BOOST_FIXTURE_TEST_CASE(runc_era_seccomp_profile_runs_with_no_new_privs_and_a_start_hook,
                        RuntimeFixture)
{
    bundle.config["linux"]["seccomp"] = runc_era_profile();
    bundle.config["hooks"]["startContainer"] = {{{"path", "/bin/true"}}};
    BOOST_TEST(sh("echo ran") == "ran\n");
}

// Issue 13: a program that cannot be exec'd left a silent `stopped` and start returned 0.
BOOST_FIXTURE_TEST_CASE(missing_program_fails_create_with_the_reason, RuntimeFixture)
{
    bundle.set_args({"/no/such/program"});
    bundle.write();
    auto co = create_options(new_id("noexec"));
    auto created = rt::create(options, co);
    ::close(co.stdin_fd);
    BOOST_TEST_REQUIRE(!created.has_value(), "create succeeded for a missing program");
    const auto message = why(created);
    BOOST_TEST(message.find("exec '/no/such/program'") != std::string::npos, message);
    BOOST_TEST(message.find("No such file") != std::string::npos, message);
}

BOOST_FIXTURE_TEST_CASE(program_not_on_path_fails_create_with_the_reason, RuntimeFixture)
{
    bundle.set_args({"no-such-program-on-path"});
    bundle.write();
    auto co = create_options(new_id("nopath"));
    auto created = rt::create(options, co);
    ::close(co.stdin_fd);
    BOOST_TEST_REQUIRE(!created.has_value(), "create succeeded for a program not on PATH");
    BOOST_TEST(why(created).find("No such file") != std::string::npos, why(created));
}

BOOST_FIXTURE_TEST_CASE(program_without_execute_permission_fails_create, RuntimeFixture)
{
    write_text(bundle.rootfs() + "/bin/not-executable", "#!/bin/sh\necho hi\n");
    ::chmod((bundle.rootfs() + "/bin/not-executable").c_str(), 0644);
    for (const auto& program : {"/bin/not-executable", "/etc"}) {
        bundle.set_args({program});
        bundle.write();
        auto co = create_options(new_id("noperm"));
        auto created = rt::create(options, co);
        ::close(co.stdin_fd);
        BOOST_TEST_REQUIRE(!created.has_value(), "create succeeded for " << program);
        BOOST_TEST(why(created).find("Permission denied") != std::string::npos, why(created));
    }
}

// Issue 13: shared failed in pivot_root (EINVAL), unbindable in the rootfs bind (EINVAL).
BOOST_FIXTURE_TEST_CASE(rootfs_propagation_shared_and_unbindable_apply_to_the_new_root,
                        RuntimeFixture)
{
    for (const auto& [propagation, tag] : {std::pair{"shared", "shared:"},
                                           {"rshared", "shared:"},
                                           {"unbindable", "unbindable"},
                                           {"runbindable", "unbindable"}}) {
        bundle.config["linux"]["rootfsPropagation"] = propagation;
        const auto out = sh("cat /proc/self/mountinfo");
        const auto root = mount_line(out, "/");
        BOOST_TEST(root.find(tag) != std::string::npos, propagation << ": " << root);
    }
    BOOST_TEST(!has_mounts_under(bundle.dir()));
}

BOOST_FIXTURE_TEST_CASE(rootfs_propagation_private_and_slave_still_work, RuntimeFixture)
{
    for (const auto* propagation : {"private", "rprivate", "slave", "rslave"}) {
        bundle.config["linux"]["rootfsPropagation"] = propagation;
        BOOST_TEST(sh("echo ok") == "ok\n", propagation);
    }
}

// Issue 13: a namespace missing from linux.namespaces is the caller's, the mount one included.
BOOST_FIXTURE_TEST_CASE(without_a_mount_namespace_the_container_chroots_in_ours, RuntimeFixture)
{
    remove_namespace(bundle.config, "mount");
    bundle.config["mounts"] = nlohmann::json::array();
    bundle.config["linux"]["maskedPaths"] = nlohmann::json::array();
    bundle.config["linux"]["readonlyPaths"] = nlohmann::json::array();
    bundle.config["root"]["readonly"] = false;
    write_text(bundle.rootfs() + "/etc/berth-marker", "in the rootfs\n");
    BOOST_TEST(sh("cat /etc/berth-marker; test -x /bin/busybox && echo chrooted") ==
               "in the rootfs\nchrooted\n");
    BOOST_TEST(!has_mounts_under(bundle.dir()));
}

BOOST_FIXTURE_TEST_CASE(without_a_mount_namespace_mounts_are_refused_by_name, RuntimeFixture)
{
    remove_namespace(bundle.config, "mount");
    auto r = run({"true"});
    BOOST_TEST(!r.ok());
    BOOST_TEST(r.error.find("mounts: needs a mount namespace") != std::string::npos, r.error);
    bundle.config["mounts"] = nlohmann::json::array();
    bundle.config["linux"]["maskedPaths"] = nlohmann::json::array();
    r = run({"true"});
    BOOST_TEST(r.error.find("linux.readonlyPaths: needs a mount namespace") != std::string::npos,
               r.error);
}

BOOST_FIXTURE_TEST_CASE(joins_a_mount_namespace_by_path_with_mounts, RuntimeFixture)
{
    NamespaceHolder holder(CLONE_NEWNS);
    auto& namespaces = bundle.config["linux"]["namespaces"];
    for (auto& ns : namespaces)
        if (ns["type"] == "mount")
            ns["path"] = holder.path("mnt");
    const auto out = sh("readlink /proc/self/ns/mnt; awk '$5 == \"/proc\"' /proc/self/mountinfo | "
                        "grep -c ' - proc '");
    BOOST_TEST(out == holder.link("mnt") + "\n1\n", out);
    BOOST_TEST(!has_mounts_under(bundle.dir()));
}

BOOST_FIXTURE_TEST_CASE(joins_a_uts_namespace_by_path_and_sets_the_hostname, RuntimeFixture)
{
    utsname before{};
    ::uname(&before);
    NamespaceHolder holder(CLONE_NEWUTS);
    for (auto& ns : bundle.config["linux"]["namespaces"])
        if (ns["type"] == "uts")
            ns["path"] = holder.path("uts");
    bundle.config["hostname"] = "joined-uts";
    const auto out = sh("readlink /proc/self/ns/uts; hostname");
    BOOST_TEST(out == holder.link("uts") + "\njoined-uts\n", out);
    utsname after{};
    ::uname(&after);
    BOOST_TEST(std::string(after.nodename) == before.nodename); // ours is untouched
}

// Issue 13 (podman --device, --privileged): fileMode carries the full st_mode.
BOOST_FIXTURE_TEST_CASE(device_file_mode_with_type_bits_is_accepted, RuntimeFixture)
{
    bundle.config["linux"]["devices"] = {{{"path", "/dev/berth-null"},
                                          {"type", "c"},
                                          {"major", 1},
                                          {"minor", 3},
                                          {"fileMode", S_IFCHR | 0640}}};
    BOOST_TEST(sh("stat -c '%a %F %t:%T' /dev/berth-null") == "640 character special file 1:3\n");
}

// Issue 13 (podman --network none, ctr run without CNI): 127.0.0.1 must work inside.
BOOST_FIXTURE_TEST_CASE(loopback_of_a_new_network_namespace_is_up, RuntimeFixture)
{
    const auto out = sh("cat /sys/class/net/lo/flags; ip addr show dev lo");
    BOOST_TEST(out.rfind("0x9\n", 0) == 0, out); // IFF_UP | IFF_LOOPBACK
    BOOST_TEST(out.find("127.0.0.1") != std::string::npos, out);
}

// Issue 13: with process.terminal the pty must also be /dev/console (runtime-spec).
BOOST_FIXTURE_TEST_CASE(terminal_is_bound_on_dev_console, RuntimeFixture)
{
    ConsoleSocket console;
    bundle.config["process"]["terminal"] = true;
    bundle.set_args({"sh", "-c",
                     "stat -L -c %t:%T /dev/console /proc/self/fd/0 | tr '\\n' ' '; "
                     "awk '$5 == \"/dev/console\"' /proc/self/mountinfo | grep -c .; echo done"});
    bundle.write();
    const auto started = start_on_console(new_id("console"), console);
    const auto text = read_until(started.master.get(), "done", 5s);
    ::waitpid(started.pid, nullptr, 0);
    std::istringstream words(text);
    std::string console_dev, stdin_dev, count;
    words >> console_dev >> stdin_dev >> count;
    BOOST_TEST(console_dev.rfind("88:", 0) == 0, text); // a pts (major 136)
    BOOST_TEST(console_dev == stdin_dev, text);
    BOOST_TEST(count == "1", text);
}

// Issue 13: tmpcopyup was parsed and advertised, never applied.
BOOST_FIXTURE_TEST_CASE(tmpcopyup_copies_the_covered_directory_into_the_tmpfs, RuntimeFixture)
{
    const auto dir = bundle.rootfs() + "/opt/data";
    fs::create_directories(dir + "/sub");
    write_text(dir + "/file", "top\n");
    write_text(dir + "/sub/inner", "inner\n");
    ::chmod((dir + "/sub/inner").c_str(), 0604);
    ::chown((dir + "/sub/inner").c_str(), 1234, 5678);
    fs::create_symlink("sub/inner", dir + "/link");
    ::chmod(dir.c_str(), 0750);
    bundle.add_mount({{"destination", "/opt/data"},
                      {"type", "tmpfs"},
                      {"source", "tmpfs"},
                      {"options", {"tmpcopyup", "nosuid"}}});
    const auto out =
        sh("cat /opt/data/file /opt/data/link; stat -c '%a %u:%g' /opt/data/sub/inner /opt/data; "
           "readlink /opt/data/link; awk '$5 == \"/opt/data\"' /proc/self/mountinfo | grep -c ' - "
           "tmpfs '; "
           "echo new > /opt/data/written");
    BOOST_TEST(out == "top\ninner\n604 1234:5678\n750 0:0\nsub/inner\n1\n", out);
    BOOST_TEST(!fs::exists(dir + "/written")); // the write went to the tmpfs
}

BOOST_FIXTURE_TEST_CASE(tmpcopyup_on_a_bind_mount_is_refused, RuntimeFixture)
{
    bundle.add_mount({{"destination", "/opt"},
                      {"type", "bind"},
                      {"source", bundle.rootfs() + "/etc"},
                      {"options", {"bind", "tmpcopyup"}}});
    auto r = run({"true"});
    BOOST_TEST(r.error.find("tmpcopyup: only a tmpfs mount can copy up") != std::string::npos,
               r.error);
}

// Issue 13: the notify listener was closed, so matching syscalls failed with ENOSYS. It goes to
// linux.seccomp.listenerPath with the container's state, as runc sends it.
BOOST_FIXTURE_TEST_CASE(seccomp_notify_listener_is_sent_to_the_listener_path, RuntimeFixture)
{
    SeccompAgent agent;
    bundle.config["linux"]["seccomp"] = {
        {"defaultAction", "SCMP_ACT_ALLOW"},
        {"listenerPath", agent.path},
        {"listenerMetadata", "berth-test-metadata"},
        {"syscalls", {{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_NOTIFY"}}}}};
    bundle.set_args({"sh", "-c", "mkdir /tmp/notified; echo status=$?"});
    bundle.write();
    const auto id = new_id("notify");
    const auto created = must_create(id);
    BOOST_TEST_REQUIRE(agent.receive());
    const auto state = nlohmann::json::parse(agent.message, nullptr, false);
    BOOST_TEST_REQUIRE(state.is_object(), agent.message);
    BOOST_TEST(state["fds"] == nlohmann::json({"seccompFd"}), agent.message);
    BOOST_TEST(state["pid"] == created.pid, agent.message);
    BOOST_TEST(state["metadata"] == "berth-test-metadata", agent.message);
    BOOST_TEST(state["state"]["id"] == id, agent.message);
    BOOST_TEST(state["state"]["status"] == "creating", agent.message);
    BOOST_TEST_REQUIRE(rt::start(options, id).has_value());
    const int nr = agent.answer_next(EXDEV);
    BOOST_TEST((nr == SYS_mkdir || nr == SYS_mkdirat), "notified syscall " << nr);
    ::waitpid(created.pid, nullptr, 0);
    const auto out = read_all(this->out.get());
    const auto err = read_all(this->err.get());
    BOOST_TEST(err.find("cross-device") != std::string::npos, err);
    BOOST_TEST(out == "status=1\n", out);
}

// The listener of an exec'd process was closed, so its notified syscalls failed with ENOSYS. It
// goes to listenerPath too, with that process's pid, as runc sends it.
BOOST_FIXTURE_TEST_CASE(seccomp_notify_listener_of_an_exec_is_sent_to_the_listener_path,
                        RuntimeFixture)
{
    SeccompAgent agent;
    bundle.config["linux"]["seccomp"] = {
        {"defaultAction", "SCMP_ACT_ALLOW"},
        {"listenerPath", agent.path},
        {"syscalls", {{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_NOTIFY"}}}}};
    bundle.set_args({"sleep", "1000"});
    bundle.write();
    const auto id = new_id("notify-exec");
    const auto created = must_create(id);
    BOOST_TEST_REQUIRE(agent.receive()); // the init's listener
    BOOST_TEST_REQUIRE(rt::start(options, id).has_value());
    rt::ExecOptions eo;
    eo.process.args = {"sh", "-c", "mkdir /tmp/notified; echo status=$?"};
    eo.process.env = {"PATH=/bin"};
    eo.process.no_new_privileges = true;
    berth::Fd exec_out(::memfd_create("exec-out", MFD_CLOEXEC));
    eo.stdout_fd = exec_out.get();
    eo.stderr_fd = exec_out.get();
    eo.pid_file = state.path() + "/exec.pid";
    berth::Result<int> exec_result = berth::Error::invalid("exec did not return");
    std::thread exec_thread([&] { exec_result = rt::exec(options, id, eo); });
    // Not REQUIRE before the join: the thread must be joined whatever the agent sees.
    const bool received = agent.receive();
    const int nr = received ? agent.answer_next(EXDEV) : -1;
    exec_thread.join();
    BOOST_TEST_REQUIRE(received, "no listener for the exec'd process");
    BOOST_TEST((nr == SYS_mkdir || nr == SYS_mkdirat), "notified syscall " << nr);
    const auto state_json = nlohmann::json::parse(agent.message, nullptr, false);
    BOOST_TEST_REQUIRE(state_json.is_object(), agent.message);
    BOOST_TEST(state_json["fds"] == nlohmann::json({"seccompFd"}), agent.message);
    std::ifstream pid_file(eo.pid_file);
    pid_t exec_pid = 0;
    pid_file >> exec_pid;
    BOOST_TEST(state_json["pid"] == exec_pid, agent.message);
    BOOST_TEST(state_json["state"]["id"] == id, agent.message);
    BOOST_TEST(state_json["state"]["status"] == "running", agent.message);
    BOOST_TEST(state_json["state"]["pid"] == created.pid, agent.message);
    BOOST_TEST_REQUIRE(exec_result.has_value(), why(exec_result));
    BOOST_TEST(*exec_result == 0);
    const auto out = read_all(exec_out.get());
    BOOST_TEST(out.find("cross-device") != std::string::npos, out);
    BOOST_TEST(out.find("status=1\n") != std::string::npos, out);
    BOOST_TEST(rt::remove(options, id, true).has_value());
    ::waitpid(created.pid, nullptr, 0);
}

// Issue 13: linux.mountLabel was silently ignored; there is no SELinux here to apply it.
BOOST_FIXTURE_TEST_CASE(mount_label_is_refused_by_name, RuntimeFixture)
{
    bundle.config["linux"]["mountLabel"] = "system_u:object_r:container_file_t:s0";
    auto r = run({"true"});
    BOOST_TEST(r.error.find("linux.mountLabel: SELinux is not supported") != std::string::npos,
               r.error);
}

BOOST_AUTO_TEST_SUITE_END()
