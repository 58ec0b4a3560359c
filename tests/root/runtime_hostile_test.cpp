// tests/root/runtime_hostile_test.cpp — regressions from driving the runtime the hostile way
// (issue 13), through the library API as root: the exec helper seen from inside the container,
// ids that setresuid would read as "unchanged", unbounded --preserve-fds, error messages that
// named the wrong thing, hooks that fail, delete of a created container, and the session and
// process group of container processes. Busybox bundles, a mkdtemp state root, cgroups under
// "/berth-test-<pid>-<n>"; each test checks that nothing is left behind.
#define BOOST_TEST_MODULE runtime_hostile
#include <fcntl.h>
#include <signal.h>
#include <sys/fanotify.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <poll.h>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include "tests/root/runtime_fixture.hpp"

using namespace berth::test;

namespace {

bool contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

// The default config's capabilities (CAP_KILL, CAP_NET_BIND_SERVICE, CAP_AUDIT_WRITE), as an
// exec'd process gets them from runc's exec: the container's own set, not full root.
rt::Capabilities container_caps()
{
    rt::Capabilities caps;
    caps.bounding = caps.effective = caps.permitted = {5, 10, 29};
    return caps;
}

// A state root, a bundle running `sleep 1000` and an output memfd; every container is
// force-deleted at the end, and the state root and the test cgroup must then be gone.
struct Fixture : RuntimeFixture {
    berth::Fd null{::open("/dev/null", O_RDWR | O_CLOEXEC)};

    Fixture() : RuntimeFixture("berth-hostile-state")
    {
        bundle.set_args({"sleep", "1000"});
        bundle.config["root"]["readonly"] = false;
    }
    // stdout and stderr both into `out`.
    rt::CreateOptions create_options(const std::string& hint)
    {
        rt::CreateOptions co;
        co.id = new_id(hint);
        co.bundle = bundle.dir();
        co.stdin_fd = null.get();
        co.stdout_fd = out.get();
        co.stderr_fd = out.get();
        return co;
    }
    // create + start of the bundle; returns the id.
    std::string start(const std::string& hint)
    {
        bundle.write();
        auto co = create_options(hint);
        auto created = rt::create(options, co);
        BOOST_TEST_REQUIRE(created.has_value(), why(created));
        auto started = rt::start(options, co.id);
        BOOST_TEST_REQUIRE(started.has_value(), why(started));
        return co.id;
    }
    rt::ExecOptions exec_options(const std::vector<std::string>& args)
    {
        rt::ExecOptions eo;
        eo.process.args = args;
        eo.process.env = {"PATH=/bin"};
        eo.process.capabilities = container_caps();
        eo.process.no_new_privileges = true;
        eo.stdin_fd = null.get();
        eo.stdout_fd = out.get();
        eo.stderr_fd = out.get();
        return eo;
    }
    // A foreground exec: its exit status, output in `out` (cleared first).
    berth::Result<int> exec(const std::string& id, const rt::ExecOptions& eo)
    {
        ::ftruncate(out.get(), 0);
        return rt::exec(options, id, eo);
    }
};

// Tells us, through fanotify, when a process is about to exec one file, and holds that exec
// until allow() (or until this object goes away: closing the group allows what is pending).
struct ExecGate {
    berth::Fd group{::fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC, O_RDONLY | O_CLOEXEC)};
    int pending = -1;
    explicit ExecGate(const std::string& path)
    {
        BOOST_TEST_REQUIRE(group.valid(), "fanotify_init: " << std::strerror(errno));
        BOOST_TEST_REQUIRE(::fanotify_mark(group.get(), FAN_MARK_ADD, FAN_OPEN_EXEC_PERM, AT_FDCWD,
                                           path.c_str()) == 0,
                           "fanotify_mark: " << std::strerror(errno));
    }
    ~ExecGate() { allow(); }
    // The host pid of the process blocked in execve of the file, or -1 after the timeout.
    pid_t wait(std::chrono::milliseconds timeout)
    {
        pollfd p{group.get(), POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1)
            return -1;
        fanotify_event_metadata event{};
        if (::read(group.get(), &event, sizeof event) != sizeof event)
            return -1;
        pending = event.fd;
        return event.pid;
    }
    void allow()
    {
        if (pending < 0)
            return;
        fanotify_response response{pending, FAN_ALLOW};
        (void)!::write(group.get(), &response, sizeof response);
        ::close(pending);
        pending = -1;
    }
};

// Fields 4..6 of /proc/<pid>/stat (after the command name): ppid, pgrp, session.
struct StatIds {
    long pid = 0, pgrp = -1, session = -1;
};
StatIds stat_ids(const std::string& stat)
{
    StatIds ids;
    ids.pid = std::stol(stat);
    std::istringstream rest(stat.substr(stat.rfind(')') + 2));
    std::string state;
    long ppid = 0;
    rest >> state >> ppid >> ids.pgrp >> ids.session;
    return ids;
}

// The "status" of an OCI state JSON text, "" if it is not one.
std::string status_in(const std::string& state_json)
{
    const auto state = nlohmann::json::parse(state_json, nullptr, false);
    if (!state.is_object() || !state.contains("status") || !state["status"].is_string())
        return "";
    return state["status"].get<std::string>();
}

// The innermost pid of a host pid (NSpid's last field): the pid the container sees.
std::string container_pid(pid_t host_pid)
{
    std::istringstream status(read_text("/proc/" + std::to_string(host_pid) + "/status"));
    for (std::string line; std::getline(status, line);)
        if (line.rfind("NSpid:", 0) == 0)
            return line.substr(line.find_last_of(" \t") + 1);
    return "";
}

} // namespace

BOOST_AUTO_TEST_SUITE(runtime_hostile,
                      *utf::label("root") * utf::precondition(berth::test::is_root))

// Issue 13: the helper `exec` forks runs as the container's root with the container's
// capabilities between dropping them and its execve; it was dumpable, so a container process
// could ptrace it past the seccomp filter or open the host's files through /proc/<pid>/fd. The
// exec is held inside execve (fanotify) so a probe in the container can try exactly then.
BOOST_FIXTURE_TEST_CASE(exec_helper_is_out_of_the_containers_reach_until_it_execs, Fixture)
{
    const auto id = start("gate");
    const auto target = bundle.rootfs() + "/bin/busybox-gated";
    fs::copy_file(bundle.rootfs() + "/bin/busybox", target); // its own inode to watch
    // A host fd the helper must not carry into the container: the caller's, not meant for it.
    TempDir secret_dir("berth-hostile-secret");
    const auto secret = secret_dir.path() + "/host-secret";
    berth::Fd canary(::open(secret.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    BOOST_TEST_REQUIRE(canary.valid());

    ExecGate gate(target);
    auto gated = exec_options({"/bin/busybox-gated", "true"});
    gated.detach = true;
    berth::Result<int> gated_result = 0;
    std::thread gated_exec([&] { gated_result = rt::exec(options, id, gated); });
    const pid_t helper = gate.wait(10s);
    BOOST_TEST_REQUIRE(helper > 0, "the exec never reached execve");
    const auto pid = container_pid(helper);
    BOOST_TEST_MESSAGE("helper: host pid " << helper << ", container pid " << pid);

    // From the host: nothing of ours besides stdio and the sync socket is open in the helper.
    for (const auto& entry : fs::directory_iterator("/proc/" + std::to_string(helper) + "/fd")) {
        std::error_code ec;
        const auto link = fs::read_symlink(entry.path(), ec).string();
        BOOST_TEST(link != secret, "the helper holds the caller's " << secret);
        BOOST_TEST(!contains(link, "anon_inode:[fanotify]"), "the helper holds " << link);
    }
    // From the container: the helper is visible, but none of its fds, exe, cwd, root or memory.
    const std::string probe =
        "P=$1; [ -d /proc/$P ] && echo seen; "
        "for f in /proc/$P/fd/* /proc/$P/exe /proc/$P/cwd /proc/$P/root; do "
        "  readlink $f >/dev/null 2>&1 && echo \"reached $f -> $(readlink $f)\"; done; "
        "cat /proc/$P/environ >/dev/null 2>&1 && echo reached environ; true";
    auto seen = exec(id, exec_options({"sh", "-c", probe, "sh", pid}));
    gate.allow();
    gated_exec.join();
    BOOST_TEST_REQUIRE(seen.has_value(), why(seen));
    const auto text = read_all(out.get());
    BOOST_TEST(contains(text, "seen"), text);
    BOOST_TEST(!contains(text, "reached"), text);
    BOOST_TEST(gated_result.has_value(), why(gated_result));
}

// Issue 13: setresuid(4294967295) means "leave unchanged", so the process stayed root.
BOOST_FIXTURE_TEST_CASE(ids_above_2147483647_are_refused_not_run_as_root, Fixture)
{
    bundle.config["process"]["user"]["uid"] = 4294967295u;
    bundle.write();
    auto co = create_options("uid");
    auto created = rt::create(options, co);
    BOOST_TEST(!created.has_value(), "a container with uid 4294967295 was created");
    BOOST_TEST(contains(why(created), "process.user.uid: must be at most 2147483647"),
               why(created));

    bundle.config["process"]["user"]["uid"] = 0;
    const auto id = start("ids");
    for (const auto& [uid, gid] :
         {std::pair{4294967295u, 0u}, {0u, 4294967295u}, {2147483648u, 2147483648u}}) {
        auto eo = exec_options({"id"});
        eo.process.user.uid = uid;
        eo.process.user.gid = gid;
        auto r = exec(id, eo);
        BOOST_TEST(!r.has_value(),
                   "uid " << uid << " gid " << gid << " ran: " << read_all(out.get()));
        BOOST_TEST(contains(why(r), "must be at most 2147483647"), why(r));
    }
    auto eo = exec_options({"id"});
    eo.process.user.uid = 1000;
    eo.process.user.additional_gids = {4294967295u};
    auto r = exec(id, eo);
    BOOST_TEST(contains(why(r), "process.user.additionalGids: must be at most"), why(r));
    eo.process.user.additional_gids = {2147483647u}; // the largest id is still fine
    r = exec(id, eo);
    BOOST_TEST_REQUIRE(r.has_value(), why(r));
    BOOST_TEST(contains(read_all(out.get()), "uid=1000"));
}

// Issue 13: 3 + 4294967295 wrapped to 2 (stderr closed), 10^9 marked fds for over 20 s.
BOOST_FIXTURE_TEST_CASE(preserve_fds_beyond_the_open_file_limit_is_refused_at_once, Fixture)
{
    // First, while no container uses the bundle's cgroup (a failed create removes it).
    bundle.write();
    auto co = create_options("fds");
    co.preserve_fds = 4294967295u;
    auto created = rt::create(options, co);
    BOOST_TEST(!created.has_value());
    BOOST_TEST(contains(why(created), "preserve fds"), why(created));
    const auto id = start("fds");
    for (const unsigned count : {4294967295u, 1000000000u, 4294967293u}) {
        auto eo = exec_options({"true"});
        eo.preserve_fds = count;
        const auto began = std::chrono::steady_clock::now();
        auto r = exec(id, eo);
        BOOST_TEST((std::chrono::steady_clock::now() - began < 5s), "took too long: " << count);
        BOOST_TEST(!r.has_value(), "preserve_fds " << count << " was accepted");
        BOOST_TEST(contains(why(r), "RLIMIT_NOFILE"), why(r));
    }
    auto eo = exec_options({"true"});
    eo.preserve_fds = 2; // a small count still works
    auto r = exec(id, eo);
    BOOST_TEST(r.has_value(), why(r));
}

// Issue 13: the failure named the program ("chdir to cwd 'pwd'"), and a relative cwd passed.
BOOST_FIXTURE_TEST_CASE(exec_cwd_errors_name_the_cwd_and_a_relative_cwd_is_refused, Fixture)
{
    const auto id = start("cwd");
    auto eo = exec_options({"pwd"});
    eo.process.cwd = "/nonexist";
    for (const bool detach : {false, true}) {
        eo.detach = detach;
        auto r = exec(id, eo);
        BOOST_TEST(!r.has_value());
        BOOST_TEST(contains(why(r), "chdir to cwd '/nonexist': No such file"), why(r));
        BOOST_TEST(!contains(why(r), "'pwd'"), why(r));
    }
    eo.detach = false;
    eo.process.cwd = "tmp";
    auto r = exec(id, eo);
    BOOST_TEST(!r.has_value(), "relative cwd accepted, output: " << read_all(out.get()));
    BOOST_TEST(contains(why(r), "process.cwd: must be an absolute path"), why(r));
}

// Issue 13: "Operation canceled" without the status, and 127 for a hook that does not exist.
BOOST_FIXTURE_TEST_CASE(hook_failures_say_the_exit_status_or_that_the_hook_is_missing, Fixture)
{
    const auto hook = [](const std::string& path, const std::string& script = "") {
        return script.empty() ? nlohmann::json{{"path", path}}
                              : nlohmann::json{{"path", path}, {"args", {"sh", "-c", script}}};
    };
    const std::pair<nlohmann::json, std::string> cases[] = {
        {{{"createContainer", {hook("/bin/sh", "exit 3")}}},
         "createContainer hook 0 '/bin/sh': exited with status 3"},
        {{{"createContainer", {hook("/no/such/hook")}}},
         "createContainer hook 0 '/no/such/hook': No such file or directory"},
        {{{"prestart", {hook("/no/such/hook")}}},
         "prestart hook 0 '/no/such/hook': No such file or directory"},
        {{{"createRuntime", {hook("/bin/sh", "kill -9 $$")}}},
         "createRuntime hook 0 '/bin/sh': killed by signal 9"},
    };
    for (const auto& [hooks, message] : cases) {
        bundle.config["hooks"] = hooks;
        bundle.write();
        auto co = create_options("hook");
        auto created = rt::create(options, co);
        BOOST_TEST(!created.has_value());
        BOOST_TEST(contains(why(created), message), why(created));
    }
}

// Issue 13 / OCI: a failing poststart or poststop hook is a warning, the other hooks still run
// and so does the lifecycle; startContainer hooks see the state "created".
BOOST_FIXTURE_TEST_CASE(failing_poststart_and_poststop_hooks_warn_and_the_rest_still_run, Fixture)
{
    const auto dir = state.path();
    const auto sh = [](const std::string& script) {
        return nlohmann::json{{"path", "/bin/sh"}, {"args", {"sh", "-c", script}}};
    };
    bundle.config["hooks"] = {
        {"poststart", {sh("exit 4"), sh("cat > " + dir + "/poststart.json")}},
        {"poststop", {sh("exit 5"), sh("cat > " + dir + "/poststop.json")}},
        {"startContainer", {sh("cat > /tmp/start.json")}},
    };
    std::vector<std::string> warnings;
    // cppcheck-suppress danglingLifetime ; options lives in this test case only
    options.warn = [&](const berth::Error& e) { warnings.push_back(e.message()); };
    bundle.set_args({"cat", "/tmp/start.json"});
    bundle.write();
    auto co = create_options("post");
    auto status = rt::run(options, co, false);
    BOOST_TEST_REQUIRE(status.has_value(), why(status));
    BOOST_TEST(*status == 0);
    const auto start_state = read_all(out.get());
    BOOST_TEST(status_in(start_state) == "created", start_state);
    BOOST_TEST(status_in(read_text(dir + "/poststart.json")) == "running");
    BOOST_TEST(status_in(read_text(dir + "/poststop.json")) == "stopped");
    BOOST_TEST_REQUIRE(warnings.size() == 2u);
    BOOST_TEST(contains(warnings[0], "poststart hook 0 '/bin/sh': exited with status 4"),
               warnings[0]);
    BOOST_TEST(contains(warnings[1], "poststop hook 0 '/bin/sh': exited with status 5"),
               warnings[1]);
}

// Issue 13 / OCI: delete only removes a stopped container; runc deletes a created one.
BOOST_FIXTURE_TEST_CASE(delete_without_force_of_a_created_container_fails_and_changes_nothing,
                        Fixture)
{
    bundle.set_args({"echo", "started after all"});
    bundle.write();
    auto co = create_options("created");
    auto created = rt::create(options, co);
    BOOST_TEST_REQUIRE(created.has_value(), why(created));
    const auto before = berth::test::list_dir(options.root + "/" + co.id);
    auto removed = rt::remove(options, co.id, false);
    BOOST_TEST(!removed.has_value(), "delete of a created container succeeded");
    BOOST_TEST(removed.error().code == EBUSY);
    BOOST_TEST(contains(why(removed), "container is created"), why(removed));
    auto s = rt::state(options, co.id);
    BOOST_TEST_REQUIRE(s.has_value(), why(s));
    BOOST_TEST(rt::status_name(s->status) == "created");
    BOOST_TEST(::kill(created->pid, 0) == 0);
    BOOST_TEST(berth::test::list_dir(options.root + "/" + co.id) == before);
    BOOST_TEST(berth::test::cgroup_exists(bundle.cgroups_path()));
    BOOST_TEST_REQUIRE(rt::start(options, co.id).has_value()); // and it still starts
    ::waitpid(created->pid, nullptr, 0);
    BOOST_TEST(read_all(out.get()) == "started after all\n");
    BOOST_TEST(rt::remove(options, co.id, false).has_value());
}

// Issue 13: without a terminal, the init and exec'd processes stayed in the caller's process
// group and session, so `kill -STOP 0` in the container stopped its monitor (conmon, a shim).
BOOST_FIXTURE_TEST_CASE(container_processes_lead_their_own_session_and_process_group, Fixture)
{
    const auto id = start("setsid");
    auto s = rt::state(options, id);
    BOOST_TEST_REQUIRE(s.has_value(), why(s));
    const auto init = stat_ids(read_text("/proc/" + std::to_string(s->pid) + "/stat"));
    BOOST_TEST(init.session == s->pid);
    BOOST_TEST(init.pgrp == s->pid);
    BOOST_TEST(init.pgrp != ::getpgrp());
    BOOST_TEST(init.session != ::getsid(0));
    for (const bool detach : {false, true}) {
        auto eo = exec_options({"sh", "-c", "cat /proc/$$/stat > /tmp/exec-stat"});
        eo.detach = detach;
        auto r = exec(id, eo);
        BOOST_TEST_REQUIRE(r.has_value(), why(r));
        for (int i = 0; i < 200 && read_text(bundle.rootfs() + "/tmp/exec-stat").empty(); ++i)
            std::this_thread::sleep_for(10ms);
        const auto seen = stat_ids(read_text(bundle.rootfs() + "/tmp/exec-stat"));
        BOOST_TEST(seen.session == seen.pid, "detach " << detach);
        BOOST_TEST(seen.pgrp == seen.pid, "detach " << detach);
        fs::remove(bundle.rootfs() + "/tmp/exec-stat");
    }
}

BOOST_AUTO_TEST_SUITE_END()
