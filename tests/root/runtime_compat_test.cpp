// tests/root/runtime_compat_test.cpp — what a container sees, under runc and under
// berth-runtime, from the same bundle. Each case asserts the expected values explicitly (so
// the test proves behaviour, not only equality) and that berth's output equals runc's.
// Needs root; each run gets its own state root and cgroup "/berth-test-<pid>-<n>".
#define BOOST_TEST_MODULE runtime_compat
#include <boost/test/unit_test.hpp>
#include <signal.h>
#include <sys/stat.h>
#include <algorithm>
#include <fstream>
#include <sstream>
#include "tests/root/compat_support.hpp"
#include "tests/support/privileges.hpp"

using namespace berth::test;
namespace utf = boost::unit_test;

namespace {

std::string sorted_lines(const std::string& text)
{
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    std::sort(lines.begin(), lines.end());
    std::string out;
    for (const auto& line : lines)
        out += line + "\n";
    return out;
}

Bundle shell_bundle(const std::string& script)
{
    Bundle bundle;
    bundle.set_args({"sh", "-c", script});
    return bundle;
}

// Syscalls busybox sh and the runtimes' last steps before execve need; mkdir is left out.
const std::vector<std::string> allowed_syscalls = {"read",
                                                   "write",
                                                   "open",
                                                   "openat",
                                                   "close",
                                                   "stat",
                                                   "fstat",
                                                   "lstat",
                                                   "newfstatat",
                                                   "statx",
                                                   "poll",
                                                   "ppoll",
                                                   "lseek",
                                                   "mmap",
                                                   "mprotect",
                                                   "munmap",
                                                   "brk",
                                                   "rt_sigaction",
                                                   "rt_sigprocmask",
                                                   "rt_sigreturn",
                                                   "ioctl",
                                                   "pread64",
                                                   "pwrite64",
                                                   "readv",
                                                   "writev",
                                                   "access",
                                                   "faccessat",
                                                   "faccessat2",
                                                   "pipe",
                                                   "pipe2",
                                                   "select",
                                                   "pselect6",
                                                   "sched_yield",
                                                   "mremap",
                                                   "madvise",
                                                   "dup",
                                                   "dup2",
                                                   "dup3",
                                                   "nanosleep",
                                                   "clock_nanosleep",
                                                   "getitimer",
                                                   "setitimer",
                                                   "alarm",
                                                   "getpid",
                                                   "getppid",
                                                   "gettid",
                                                   "getuid",
                                                   "geteuid",
                                                   "getgid",
                                                   "getegid",
                                                   "getgroups",
                                                   "getpgrp",
                                                   "getpgid",
                                                   "setpgid",
                                                   "getsid",
                                                   "setsid",
                                                   "exit",
                                                   "exit_group",
                                                   "wait4",
                                                   "waitid",
                                                   "kill",
                                                   "tgkill",
                                                   "tkill",
                                                   "uname",
                                                   "fcntl",
                                                   "flock",
                                                   "fsync",
                                                   "getdents64",
                                                   "getcwd",
                                                   "chdir",
                                                   "fchdir",
                                                   "readlink",
                                                   "readlinkat",
                                                   "umask",
                                                   "gettimeofday",
                                                   "getrlimit",
                                                   "prlimit64",
                                                   "setrlimit",
                                                   "getrusage",
                                                   "sysinfo",
                                                   "times",
                                                   "clone",
                                                   "clone3",
                                                   "fork",
                                                   "vfork",
                                                   "execve",
                                                   "execveat",
                                                   "arch_prctl",
                                                   "prctl",
                                                   "set_tid_address",
                                                   "set_robust_list",
                                                   "get_robust_list",
                                                   "futex",
                                                   "rseq",
                                                   "sigaltstack",
                                                   "capget",
                                                   "capset",
                                                   "getrandom",
                                                   "epoll_create1",
                                                   "epoll_ctl",
                                                   "epoll_wait",
                                                   "epoll_pwait",
                                                   "eventfd2",
                                                   "clock_gettime",
                                                   "clock_getres",
                                                   "time",
                                                   "close_range",
                                                   "fchown",
                                                   "fchownat",
                                                   "statfs",
                                                   "fstatfs",
                                                   "sched_getaffinity",
                                                   "setuid",
                                                   "setgid",
                                                   "setgroups",
                                                   "setresuid",
                                                   "setresgid",
                                                   "getresuid",
                                                   "getresgid",
                                                   "membarrier",
                                                   "restart_syscall",
                                                   "socket",
                                                   "connect",
                                                   "sendto",
                                                   "recvfrom",
                                                   "unlink",
                                                   "unlinkat"};

// Under both runtimes: exit `status` with exactly `text` on stdout.
void expect_both_print(const Bundle& bundle, int status, const std::string& text)
{
    expect_both(run_both(bundle), [&](const Output& out) {
        BOOST_TEST(out.status == status);
        BOOST_TEST(out.out == text);
    });
}

} // namespace

BOOST_AUTO_TEST_SUITE(process, *utf::precondition(is_root))

BOOST_AUTO_TEST_CASE(env_is_passed_and_home_defaulted_without_passwd)
{
    Bundle bundle;
    bundle.set_args({"env"});
    bundle.config["process"]["env"].push_back("FOO=bar baz");
    const auto seen = run_both(bundle);
    expect_both(
        seen,
        [](const Output& out) {
            BOOST_TEST(out.status == 0);
            BOOST_TEST(sorted_lines(out.out) ==
                       "FOO=bar baz\nHOME=/\n"
                       "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
                       "TERM=xterm\n");
        },
        sorted_lines);
}

BOOST_AUTO_TEST_CASE(args_keep_spaces_and_empty_strings)
{
    Bundle bundle;
    bundle.set_args({"sh", "-c", "printf '[%s]' \"$@\"; echo", "sh", "a b", "", "c"});
    expect_both_print(bundle, 0, "[a b][][c]\n");
}

BOOST_AUTO_TEST_CASE(cwd_and_hostname_are_set)
{
    auto bundle = shell_bundle("pwd; hostname");
    bundle.config["process"]["cwd"] = "/etc";
    bundle.config["hostname"] = "compat-host";
    expect_both_print(bundle, 0, "/etc\ncompat-host\n");
}

BOOST_AUTO_TEST_CASE(uid_gid_and_additional_gids)
{
    Bundle bundle;
    bundle.set_args({"id"});
    bundle.config["process"]["user"] = {{"uid", 1000}, {"gid", 1001}, {"additionalGids", {10, 20}}};
    expect_both_print(bundle, 0, "uid=1000 gid=1001 groups=10,20\n");
}

BOOST_AUTO_TEST_CASE(umask_is_applied)
{
    auto bundle = shell_bundle("umask");
    bundle.config["process"]["user"]["umask"] = 027; // octal 0027, JSON decimal 23
    expect_both_print(bundle, 0, "0027\n");
}

BOOST_AUTO_TEST_CASE(rlimits_are_applied)
{
    auto bundle = shell_bundle("grep -E '^Max (open files|core file size|processes)' "
                               "/proc/self/limits | tr -s ' '");
    bundle.config["process"]["rlimits"] = {
        {{"type", "RLIMIT_NOFILE"}, {"soft", 256}, {"hard", 512}},
        {{"type", "RLIMIT_CORE"}, {"soft", 4096}, {"hard", 8192}},
        {{"type", "RLIMIT_NPROC"}, {"soft", 300}, {"hard", 400}}};
    expect_both_print(bundle, 0,
                      "Max core file size 4096 8192 bytes \n"
                      "Max processes 300 400 processes \n"
                      "Max open files 256 512 files \n");
}

BOOST_AUTO_TEST_CASE(default_capabilities_as_root)
{
    auto bundle = shell_bundle("grep -E '^Cap' /proc/self/status");
    expect_both(run_both(bundle), [](const Output& out) {
        BOOST_TEST(out.status == 0);
        // AUDIT_WRITE(29), KILL(5), NET_BIND_SERVICE(10); ambient needs inheritable: none.
        BOOST_TEST(out.out == "CapInh:\t0000000000000000\nCapPrm:\t0000000020000420\n"
                              "CapEff:\t0000000020000420\nCapBnd:\t0000000020000420\n"
                              "CapAmb:\t0000000000000000\n");
    });
}

BOOST_AUTO_TEST_CASE(capability_sets_for_a_non_root_user)
{
    auto bundle = shell_bundle("grep -E '^Cap' /proc/self/status");
    bundle.config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
    bundle.config["process"]["capabilities"] = {
        {"bounding", {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"}},
        {"effective", {"CAP_CHOWN", "CAP_KILL"}},
        {"permitted", {"CAP_CHOWN", "CAP_KILL"}},
        {"inheritable", {"CAP_KILL"}},
        {"ambient", {"CAP_KILL"}}};
    expect_both(run_both(bundle), [](const Output& out) {
        BOOST_TEST(out.status == 0);
        // After execve as uid 1000 only the ambient KILL (bit 5) survives in P, E and A.
        BOOST_TEST(out.out == "CapInh:\t0000000000000020\nCapPrm:\t0000000000000020\n"
                              "CapEff:\t0000000000000020\nCapBnd:\t0000000000000421\n"
                              "CapAmb:\t0000000000000020\n");
    });
}

BOOST_AUTO_TEST_CASE(no_new_privs_and_seccomp_filter)
{
    auto bundle = shell_bundle("grep -E '^(NoNewPrivs|Seccomp)' /proc/self/status; "
                               "mkdir /blocked 2>&1; chmod 700 /tmp 2>&1; echo done");
    bundle.config["linux"]["seccomp"] = {
        {"defaultAction", "SCMP_ACT_ERRNO"},
        {"defaultErrnoRet", 1},
        {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
        {"syscalls",
         {{{"names", allowed_syscalls}, {"action", "SCMP_ACT_ALLOW"}},
          {{"names", {"chmod", "fchmodat"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 38}}}}};
    expect_both(run_both(bundle), [](const Output& out) {
        BOOST_TEST(out.status == 0);
        // EPERM (the default action), not EROFS: the filter answered before the filesystem.
        BOOST_TEST(out.out == "NoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t1\n"
                              "mkdir: can't create directory '/blocked': "
                              "Operation not permitted\n"
                              "chmod: /tmp: Function not implemented\ndone\n");
    });
}

BOOST_AUTO_TEST_CASE(new_privileges_allowed_when_not_asked)
{
    auto bundle = shell_bundle("grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status");
    bundle.config["process"]["noNewPrivileges"] = false;
    expect_both_print(bundle, 0, "NoNewPrivs:\t0\nSeccomp:\t0\n");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(filesystem, *utf::precondition(is_root))

BOOST_AUTO_TEST_CASE(readonly_rootfs_refuses_writes)
{
    auto bundle = shell_bundle("touch /x 2>&1; echo rc=$?");
    expect_both_print(bundle, 0, "touch: /x: Read-only file system\nrc=1\n");
}

BOOST_AUTO_TEST_CASE(writable_rootfs_accepts_writes)
{
    auto bundle = shell_bundle("touch /x && echo wrote");
    bundle.config["root"]["readonly"] = false;
    expect_both_print(bundle, 0, "wrote\n");
}

// Both runtimes run the same rootfs one after the other, and a tmpfs over an existing directory
// takes that directory's mode: a target the first runtime had to create (0755) would change
// what the second one shows. Making the target up front gives both the same starting point.
static void make_shared_target(const Bundle& bundle, const std::string& name, mode_t mode)
{
    const auto path = bundle.rootfs() + "/" + name;
    std::filesystem::create_directories(path);
    BOOST_TEST_REQUIRE(::chmod(path.c_str(), mode) == 0);
}

BOOST_AUTO_TEST_CASE(tmpfs_options_and_readonly_bind_mount)
{
    Bundle bundle;
    {
        std::filesystem::create_directories(bundle.dir() + "/hostdata");
        std::ofstream(bundle.dir() + "/hostdata/hello") << "from host\n";
    }
    make_shared_target(bundle, "scratch", 01777);
    bundle.set_args({"sh", "-c",
                     "grep -E ' /(scratch|data) ' /proc/self/mountinfo | cut -d' ' -f5-; "
                     "cat /data/hello; touch /data/new 2>&1; "
                     "{ echo ok > /scratch/f; } 2>&1 && cat /scratch/f; stat -c %a /scratch"});
    bundle.add_mount({{"destination", "/scratch"},
                      {"type", "tmpfs"},
                      {"source", "tmpfs"},
                      {"options", {"nosuid", "nodev", "noexec", "size=64k", "mode=1777"}}});
    bundle.add_mount({{"destination", "/data"},
                      {"type", "bind"},
                      {"source", bundle.dir() + "/hostdata"},
                      {"options", {"bind", "ro"}}});
    expect_both(run_both(bundle), [](const Output& out) {
        BOOST_TEST(out.status == 0);
        BOOST_TEST(contains(out.out, "/scratch rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs "
                                     "rw,size=64k\n")); // mode=1777 is the default: not shown
        BOOST_TEST(contains(out.out, "/data ro,relatime"));
        BOOST_TEST(contains(out.out, "from host\ntouch: /data/new: Read-only file system\n"
                                     "ok\n1777\n"));
    });
}

BOOST_AUTO_TEST_CASE(tmpfs_over_an_existing_directory_takes_its_mode)
{
    // runc chmods a tmpfs to the mode of the directory it covers, over the mode= option.
    auto bundle = shell_bundle("stat -c %a /etc /scratch");
    make_shared_target(bundle, "scratch", 01777);
    bundle.add_mount({{"destination", "/etc"},
                      {"type", "tmpfs"},
                      {"source", "tmpfs"},
                      {"options", {"mode=1777"}}});
    bundle.add_mount({{"destination", "/scratch"},
                      {"type", "tmpfs"},
                      {"source", "tmpfs"},
                      {"options", {"mode=1777"}}});
    expect_both_print(bundle, 0, "755\n1777\n");
}

BOOST_AUTO_TEST_CASE(masked_paths_read_empty)
{
    // Files are covered by /dev/null (char 1:3), directories by an empty read-only tmpfs.
    auto bundle =
        shell_bundle("for f in /proc/keys /proc/timer_list /proc/kcore; do "
                     "  [ -e $f ] && echo \"$f $(wc -c < $f) $(stat -c %t:%T $f)\"; done; "
                     "for d in /proc/acpi /sys/firmware /proc/scsi; do "
                     "  [ -d $d ] && echo \"$d $(ls -A $d | wc -l)\"; "
                     "  touch $d/x 2>/dev/null || echo \"$d read-only\"; done; true");
    expect_both(run_both(bundle), [](const Output& out) {
        BOOST_TEST(out.status == 0);
        BOOST_TEST(contains(out.out, "/proc/keys 0 1:3\n"));
        BOOST_TEST(contains(out.out, "/proc/timer_list 0 1:3\n"));
        BOOST_TEST(contains(out.out, "/sys/firmware 0\n/sys/firmware read-only\n"));
    });
}

BOOST_AUTO_TEST_CASE(readonly_paths_refuse_writes)
{
    auto bundle = shell_bundle("{ echo other > /proc/sys/kernel/hostname; } 2>&1; hostname; "
                               "grep -E ' /proc/(sys|bus|fs|irq|sysrq-trigger) ' "
                               "/proc/self/mountinfo | cut -d' ' -f5-6");
    expect_both(
        run_both(bundle),
        [](const Output& out) {
            BOOST_TEST(out.status == 0);
            BOOST_TEST(contains(out.out, "sh: can't create /proc/sys/kernel/hostname: "
                                         "Read-only file system\nrunc\n"));
            BOOST_TEST(contains(out.out, "/proc/sys ro,"));
        },
        sorted_lines);
}

BOOST_AUTO_TEST_CASE(dev_has_the_default_devices)
{
    auto bundle = shell_bundle("for f in /dev/* /dev/pts/ptmx; do "
                               "stat -c '%N|%F %a %t:%T %u:%g' $f; done");
    expect_both(run_both(bundle), [](const Output& out) {
        BOOST_TEST(out.status == 0);
        for (const char* line :
             {"/dev/null|character special file 666 1:3 0:0\n",
              "/dev/zero|character special file 666 1:5 0:0\n",
              "/dev/full|character special file 666 1:7 0:0\n",
              "/dev/random|character special file 666 1:8 0:0\n",
              "/dev/urandom|character special file 666 1:9 0:0\n",
              "/dev/tty|character special file 666 5:0 0:0\n",
              "'/dev/ptmx' -> 'pts/ptmx'|symbolic link 777 0:0 0:0\n",
              "'/dev/fd' -> '/proc/self/fd'|symbolic link 777 0:0 0:0\n",
              "'/dev/stdin' -> '/proc/self/fd/0'|symbolic link 777 0:0 0:0\n",
              "'/dev/stdout' -> '/proc/self/fd/1'|symbolic link 777 0:0 0:0\n",
              "'/dev/stderr' -> '/proc/self/fd/2'|symbolic link 777 0:0 0:0\n",
              "/dev/pts/ptmx|character special file 666 5:2 0:0\n",
              "/dev/pts|directory 755 0:0 0:0\n", "/dev/shm|directory 1777 0:0 0:0\n",
              "/dev/mqueue|directory 1777 0:0 0:0\n"})
            BOOST_TEST(contains(out.out, line), "missing: " << line << "in:\n" << out.out);
    });
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(exit_and_signals, *utf::precondition(is_root))

BOOST_AUTO_TEST_CASE(exit_code_is_propagated)
{
    auto bundle = shell_bundle("echo before; exit 3");
    expect_both_print(bundle, 3, "before\n");
}

BOOST_AUTO_TEST_CASE(missing_executable_fails_run)
{
    Bundle bundle;
    bundle.set_args({"/bin/does-not-exist"});
    expect_both(run_both(bundle), [](const Output& out) {
        BOOST_TEST(out.status != 0);
        BOOST_TEST(contains(out.err, "does-not-exist"));
    });
}

namespace {

// `run` in the foreground; once the container printed "ready", act(runtime, id, command).
Output run_and_signal(Runtime& runtime, const Bundle& bundle,
                      const std::function<void(Runtime&, const std::string&, Command&)>& act)
{
    const auto id = runtime.new_id("signal");
    auto command = runtime.start_cli({"run", "--bundle", bundle.dir(), id});
    BOOST_TEST(command.wait_for_output("ready", 10s), runtime.name() << " never got ready");
    act(runtime, id, command);
    auto output = command.wait(20s);
    BOOST_TEST(!output.timed_out);
    (void)runtime.cli({"delete", "--force", id});
    runtime.forget(id);
    return output;
}

Seen signal_both(const Bundle& bundle,
                 const std::function<void(Runtime&, const std::string&, Command&)>& act)
{
    bundle.write();
    Seen seen;
    {
        auto runc = runc_runtime();
        seen.runc = run_and_signal(runc, bundle, act);
        expect_clean(runc, bundle);
    }
    if (auto path = berth_runtime_path()) {
        Runtime berth("berth-runtime", *path);
        seen.berth = run_and_signal(berth, bundle, act);
        expect_clean(berth, bundle);
    } else {
        fail_berth_missing();
    }
    return seen;
}

} // namespace

BOOST_AUTO_TEST_CASE(sigterm_to_run_is_forwarded_to_the_container)
{
    auto bundle = shell_bundle("trap 'echo got TERM; exit 7' TERM; echo ready; "
                               "while true; do sleep 0.05; done");
    auto seen = signal_both(bundle, [](Runtime&, const std::string&, Command& command) {
        ::kill(command.pid(), SIGTERM); // the runtime process we started
    });
    expect_both(seen, [](const Output& out) {
        BOOST_TEST(out.status == 7);
        BOOST_TEST(out.out == "ready\ngot TERM\n");
    });
}

BOOST_AUTO_TEST_CASE(kill_verb_makes_run_return_128_plus_signal)
{
    auto bundle = shell_bundle("echo ready; while true; do sleep 0.05; done");
    auto seen = signal_both(bundle, [](Runtime& runtime, const std::string& id, Command&) {
        const auto out = runtime.cli({"kill", id, "KILL"});
        BOOST_TEST(out.status == 0, runtime.name() << " kill: " << out.err);
    });
    expect_both(seen, [](const Output& out) {
        BOOST_TEST(out.status == 137);
        BOOST_TEST(out.out == "ready\n");
    });
}

BOOST_AUTO_TEST_SUITE_END()
