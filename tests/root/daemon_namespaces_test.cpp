#define BOOST_TEST_MODULE daemon_namespaces
// berthd's task-definition namespace fields end to end, as a child process in the namespaces this
// test made (never the host's), with the offline demo image (busybox): initProcessEnabled (the
// container's PID 1 is the init berthd binds in, BERTH_INIT_PATH, and the command's exit code is
// still reported; a node without the init answers RunTask with a failures[] entry), ipcMode task
// (two containers share one IPC namespace and one /dev/shm; nothing of either is left once the
// task is cleaned up, nor over a restart, and a stale one from a crash is removed at start), and
// pidMode task (the containers share the pid namespace berth-pause holds as its PID 1, one per
// task; the pause outlives a berthd SIGKILL, a container started after the restart joins it,
// and nothing of it is left after the task, nor when its task is unknown at restore, nor when it
// dies and takes the task down). Only processes this test started are killed, by pid.
#include <sys/mount.h>
#include <regex>
#include <sstream>
#include "tests/root/daemon_support.hpp"

using namespace berth;
using namespace berth::test;
using namespace berth::test::daemon;

namespace {

json shell_container(const std::string& name, const std::string& script)
{
    return {{"name", name},
            {"image", "berth.local/hello:latest"},
            {"memory", 32},
            {"entryPoint", {"/bin/sh", "-c"}},
            {"command", {script}}};
}

json definition(const std::string& family, json containers)
{
    return {{"family", family}, {"networkMode", "bridge"}, {"containerDefinitions", containers}};
}

std::string task_id(const std::string& arn)
{
    return arn.substr(arn.rfind('/') + 1);
}

// The container's json-file log, once it holds `needle` (its cleanup removes it: read early).
std::string log_with(const Node& node, const std::string& arn, const std::string& container,
                     const std::string& needle)
{
    const auto path = node.state + "/logs/" + task_id(arn) + "/" + container + ".log";
    std::string text;
    eventually([&] { return (text = read_all(path)).find(needle) != std::string::npos; }, 150,
               100ms);
    return text;
}

// The "ipc:[inode]" a container printed with readlink /proc/self/ns/ipc.
std::string ipc_link(const std::string& log)
{
    std::smatch m;
    return std::regex_search(log, m, std::regex(R"(ipc:\[[0-9]+\])")) ? m.str() : std::string();
}

std::string own_ipc_link()
{
    std::error_code ec;
    return fs::read_symlink("/proc/self/ns/ipc", ec).string();
}

bool is_empty_dir(const std::string& dir)
{
    std::error_code ec;
    return !fs::exists(dir, ec) || fs::is_empty(dir, ec);
}

json ipc_task_definition()
{
    auto writer = shell_container(
        "writer", "readlink /proc/self/ns/ipc; echo shared-note > /dev/shm/note; sleep 60");
    writer["essential"] = false;
    auto reader = shell_container(
        "reader", "i=0; while [ ! -f /dev/shm/note ] && [ $i -lt 100 ]; do sleep 0.1; "
                  "i=$((i+1)); done; readlink /proc/self/ns/ipc; cat /dev/shm/note; sleep 30");
    reader["dependsOn"] = {{{"containerName", "writer"}, {"condition", "START"}}};
    auto def = definition("ipc-shared", {writer, reader});
    def["ipcMode"] = "task";
    return def;
}

// The "pid:[inode]" a container printed with readlink /proc/self/ns/pid.
std::string pid_link(const std::string& log)
{
    std::smatch m;
    return std::regex_search(log, m, std::regex(R"(pid:\[[0-9]+\])")) ? m.str() : std::string();
}

// "pid:[inode]" of the namespace bind-mounted on path (the pause's, held for the task).
std::string held_pid_link(const std::string& path)
{
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? "pid:[" + std::to_string(st.st_ino) + "]"
                                          : std::string();
}

// berthd's log with its error lines first: the summary of a failure (CI prints its first line)
// then names the error, not the first warning.
std::string errors_first(const std::string& log)
{
    std::string errors, rest;
    std::istringstream lines(log);
    for (std::string line; std::getline(lines, line);)
        (line.find("level=error") != std::string::npos ? errors : rest) += line + "\n";
    return errors + rest;
}

// The processes in the pid namespace `link` names (none once the pause is gone).
std::vector<pid_t> processes_in(const std::string& link)
{
    std::vector<pid_t> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/proc", ec)) {
        const auto name = e.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos)
            continue;
        std::error_code ignored;
        if (fs::read_symlink(e.path() / "ns/pid", ignored).string() == link)
            out.push_back(std::stoi(name));
    }
    return out;
}

// pidMode task: "watched" sleeps; "looker" (started after it) finds it in its /proc and says
// who its PID 1 is. With a task-level memory: a task cgroup (ECS_ENABLE_TASK_CPU_MEM_LIMIT), which
// the pause is in too.
json pid_task_definition(const std::string& family, bool task_cgroup = true)
{
    auto watched = shell_container("watched", "readlink /proc/self/ns/pid; exec sleep 61");
    auto looker = shell_container(
        "looker", "readlink /proc/self/ns/pid; i=0; while ! ps | grep -q '[s]leep 61' && "
                  "[ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; "
                  "ps | grep -q '[s]leep 61' && echo saw-watched; "
                  "echo pid1=$(tr '\\0' ' ' < /proc/1/cmdline); sleep 60");
    looker["dependsOn"] = {{{"containerName", "watched"}, {"condition", "START"}}};
    auto def = definition(family, {watched, looker});
    def["pidMode"] = "task";
    if (task_cgroup)
        def["memory"] = "256";
    return def;
}

// After the task: no process in its namespace, no pause container, no files of it.
void expect_no_pause_left(const Node& node, const std::string& arn, const std::string& link)
{
    BOOST_TEST(processes_in(link).empty(), link);
    BOOST_TEST(!fs::exists(node.run + "/containers/" + task_id(arn) + ".pause"));
    BOOST_TEST(!fs::exists(node.run + "/tasks/" + task_id(arn)));
}

// Hides every berth-pause berthd could find (the build tree's, an installed one) under a file
// that is not executable, in this test's private mount namespace (berthd's too), while it lives.
struct NoPause {
    std::string blank;
    std::vector<std::string> hidden;
    explicit NoPause(const std::string& dir) : blank(dir + "/not-a-pause")
    {
        std::ofstream(blank) << "";
        fs::permissions(blank, fs::perms::owner_read | fs::perms::owner_write);
        for (const auto& path : {env_or("BERTH_BUILD_ROOT", "build") + "/agent/pause/berth-pause",
                                 std::string("/usr/local/libexec/berth/berth-pause"),
                                 std::string("/usr/libexec/berth/berth-pause")})
            if (fs::exists(path)) {
                BOOST_TEST_REQUIRE(
                    ::mount(blank.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) == 0, path);
                hidden.push_back(path);
            }
    }
    ~NoPause()
    {
        for (const auto& path : hidden)
            ::umount2(path.c_str(), MNT_DETACH);
    }
    NoPause(const NoPause&) = delete;
    NoPause& operator=(const NoPause&) = delete;
};

} // namespace

BOOST_AUTO_TEST_SUITE(berthd_namespaces, *utf::label("root") * utf::precondition(is_root))

BOOST_AUTO_TEST_CASE(an_init_process_runs_as_pid_1_and_the_commands_exit_code_is_reported)
{
    BOOST_TEST_REQUIRE(fs::exists("/usr/bin/tini-static"),
                       "needs Debian's tini package (scripts/install-deps.sh)");
    Node node;
    auto c = shell_container(
        "app", "echo exe=$(readlink /proc/1/exe); echo cmd=$(tr '\\0' ' ' < /proc/1/cmdline); "
               "echo self=$$; sleep 2; exit 3");
    c["linuxParameters"] = {{"initProcessEnabled", true}};
    node.register_definition(definition("with-init", {c}));
    const auto arn = node.run_task("with-init");
    const auto log = log_with(node, arn, "app", "self=");
    BOOST_TEST(log.find("exe=/sbin/docker-init") != std::string::npos, log);
    BOOST_TEST(log.find("cmd=/sbin/docker-init -- /bin/sh -c") != std::string::npos, log);
    BOOST_TEST(log.find("self=1\\n") == std::string::npos, log); // the shell is not PID 1
    const auto stopped = node.wait_status(arn, "STOPPED");
    BOOST_TEST(stopped["containers"][0]["exitCode"] == 3, stopped.dump());
    node.expect_nothing_left();
}

BOOST_AUTO_TEST_CASE(a_node_without_the_init_answers_run_task_with_a_failure_naming_it)
{
    Node node;
    node.stop();
    node.extra_env.emplace_back("BERTH_INIT_PATH=/nonexistent/tini-static");
    node.start();
    auto c = shell_container("app", "exit 0");
    c["linuxParameters"] = {{"initProcessEnabled", true}};
    node.register_definition(definition("no-init", {c}));
    const auto ran = node.ok({"run-task", "--task-definition", "no-init"});
    BOOST_TEST(ran["tasks"].empty(), ran.dump());
    BOOST_TEST_REQUIRE(ran["failures"].size() == 1U, ran.dump());
    BOOST_TEST(ran["failures"][0]["reason"] == "ATTRIBUTE", ran.dump());
    const std::string detail = ran["failures"][0]["detail"];
    BOOST_TEST(detail.find("/nonexistent/tini-static") != std::string::npos, detail);
    BOOST_TEST(detail.find("initProcessEnabled") != std::string::npos, detail);
}

BOOST_AUTO_TEST_CASE(ipc_mode_task_shares_one_ipc_namespace_and_dev_shm_and_leaves_nothing)
{
    Node node;
    node.register_definition(ipc_task_definition());
    const auto arn = node.run_task("ipc-shared");
    const auto writer = log_with(node, arn, "writer", "ipc:[");
    const auto reader = log_with(node, arn, "reader", "shared-note");
    BOOST_TEST(reader.find("shared-note") != std::string::npos, reader); // /dev/shm is shared
    BOOST_TEST_REQUIRE(!ipc_link(writer).empty(), writer);
    BOOST_TEST(ipc_link(writer) == ipc_link(reader), writer << reader);
    BOOST_TEST(ipc_link(writer) != own_ipc_link()); // not the host's (this test's) namespace
    const auto held = node.run + "/tasks/" + task_id(arn);
    BOOST_TEST(fs::exists(held + "/ipc"));
    BOOST_TEST(node.mounts_of_ours().find(held + "/shm") != std::string::npos,
               node.mounts_of_ours());

    node.stop_task(arn);
    node.expect_nothing_left();
    BOOST_TEST(is_empty_dir(node.run + "/tasks"));
}

BOOST_AUTO_TEST_CASE(ipc_mode_task_survives_a_restart_and_a_stale_namespace_is_removed_at_start)
{
    Node node;
    node.register_definition(ipc_task_definition());
    const auto arn = node.run_task("ipc-shared");
    BOOST_TEST_REQUIRE(!log_with(node, arn, "reader", "shared-note").empty());
    node.wait_status(arn, "RUNNING");
    node.stop(); // SIGTERM: the task runs on

    // What a crash between a task's end and its Deprovision leaves: a held namespace file (here
    // a plain file: a crash before the bind mount) and a mounted /dev/shm tmpfs.
    const auto stale = node.run + "/tasks/0123456789abcdef0123456789abcdef";
    fs::create_directories(stale + "/shm");
    std::ofstream(stale + "/ipc") << "";
    BOOST_TEST_REQUIRE(::mount("shm", (stale + "/shm").c_str(), "tmpfs", 0, "size=1m") == 0);

    node.start();
    // Removed on a worker after the restore (with the containers no task owns): said once done.
    BOOST_TEST(node.logged("removed a finished task's namespaces", 30s),
               errors_first(node.berthd->err()));
    BOOST_TEST(!fs::exists(stale), node.berthd->err());
    BOOST_TEST(node.mounts_of_ours().find(stale) == std::string::npos, node.mounts_of_ours());
    const auto held = node.run + "/tasks/" + task_id(arn);
    BOOST_TEST(node.mounts_of_ours().find(held + "/shm") != std::string::npos,
               node.mounts_of_ours());
    BOOST_TEST(node.describe(arn)["lastStatus"] == "RUNNING");

    node.stop_task(arn);
    node.expect_nothing_left();
    BOOST_TEST(is_empty_dir(node.run + "/tasks"));
}

BOOST_AUTO_TEST_CASE(pid_mode_task_containers_share_the_pause_namespace_and_leave_nothing)
{
    Node node;
    node.register_definition(pid_task_definition("pid-shared"));
    const auto arn = node.run_task("pid-shared");
    const auto other = node.run_task("pid-shared"); // a second task: a namespace of its own
    const auto watched = log_with(node, arn, "watched", "pid:[");
    const auto looker = log_with(node, arn, "looker", "pid1=");
    BOOST_TEST(looker.find("saw-watched") != std::string::npos, looker);
    BOOST_TEST(looker.find("pid1=/pause") != std::string::npos, looker); // the pause is PID 1
    const auto link = pid_link(watched);
    BOOST_TEST_REQUIRE(!link.empty(), watched);
    BOOST_TEST(pid_link(looker) == link, watched << looker);
    BOOST_TEST(link != fs::read_symlink("/proc/self/ns/pid").string()); // not the host's
    const auto held = node.run + "/tasks/" + task_id(arn) + "/pid";
    BOOST_TEST(held_pid_link(held) == link);
    const auto other_link = pid_link(log_with(node, other, "looker", "pid1="));
    BOOST_TEST_REQUIRE(!other_link.empty());
    BOOST_TEST(other_link != link);
    // The pause and the two containers' processes (each a shell and its sleep or loop).
    BOOST_TEST(processes_in(link).size() >= 3U);

    node.stop_task(arn);
    node.stop_task(other);
    node.expect_nothing_left(); // mounts (the held namespace), netns, cgroups
    expect_no_pause_left(node, arn, link);
    expect_no_pause_left(node, other, other_link);
    BOOST_TEST(is_empty_dir(node.run + "/tasks"));
}

BOOST_AUTO_TEST_CASE(a_pid_mode_task_keeps_its_pause_over_a_berthd_sigkill_and_joins_it_later)
{
    Node node;
    auto first = shell_container("first", "readlink /proc/self/ns/pid; sleep 5; exit 0");
    first["essential"] = false;
    auto late = shell_container("late", "readlink /proc/self/ns/pid; sleep 60");
    late["dependsOn"] = {{{"containerName", "first"}, {"condition", "COMPLETE"}}};
    auto def = definition("pid-restart", {first, late});
    def["pidMode"] = "task";
    def["ipcMode"] = "task"; // both in the task's directory: both removed, in either order
    node.register_definition(def);
    const auto arn = node.run_task("pid-restart");
    const auto link = pid_link(log_with(node, arn, "first", "pid:["));
    BOOST_TEST_REQUIRE(!link.empty());
    const auto pause_before = processes_in(link);
    ::kill(node.berthd->pid(), SIGKILL); // while "late" waits for "first" to complete
    (void)node.berthd->wait(20s);
    node.berthd.reset();
    BOOST_TEST(!processes_in(link).empty()); // the pause and "first" run on
    node.start();

    // Started by the restarted berthd once "first" completed: in the same namespace.
    const auto late_log = log_with(node, arn, "late", "pid:[");
    BOOST_TEST(pid_link(late_log) == link, late_log);
    node.wait_status(arn, "RUNNING");
    BOOST_TEST(held_pid_link(node.run + "/tasks/" + task_id(arn) + "/pid") == link);

    node.stop_task(arn);
    node.expect_nothing_left();
    expect_no_pause_left(node, arn, link);
    BOOST_TEST(is_empty_dir(node.run + "/tasks"));
}

BOOST_AUTO_TEST_CASE(a_pause_whose_task_is_unknown_at_restore_is_removed)
{
    Node node;
    // With a task cgroup, holding the pause and the containers: it goes too (issue 17), after
    // them, and expect_nothing_left() below sees that. The pause goes after the containers: as
    // the namespace's init, killed first it would wait in its exit until the supervisor had
    // reaped their inits (a loaded CI run under ASan failed here, most likely from that wait).
    node.register_definition(pid_task_definition("pid-stale"));
    const auto arn = node.run_task("pid-stale");
    const auto link = pid_link(log_with(node, arn, "looker", "pid1="));
    BOOST_TEST_REQUIRE(!link.empty());
    node.stop(); // SIGTERM: the task runs on
    // The store forgets every task (a wiped state database): nothing owns the task's
    // containers nor its pause any more.
    for (const char* suffix : {"", "-wal", "-shm"})
        fs::remove(node.state + "/berth.db" + suffix);
    node.start();
    BOOST_TEST(node.logged("removed a finished task's namespaces", 30s),
               errors_first(node.berthd->err()));
    const auto log = node.berthd->err();
    const auto looker =
        log.find("removed a container no task owns\" container=" + task_id(arn) + "-looker");
    BOOST_TEST(looker < log.find("removed a finished task's namespaces"), log);
    node.expect_nothing_left();
    eventually([&] { return processes_in(link).empty(); }, 50, 100ms);
    expect_no_pause_left(node, arn, link);
    BOOST_TEST(is_empty_dir(node.run + "/tasks"));
}

BOOST_AUTO_TEST_CASE(a_pause_that_dies_takes_its_tasks_containers_and_the_task_stops)
{
    Node node;
    node.register_definition(pid_task_definition("pid-dies"));
    const auto arn = node.run_task("pid-dies");
    const auto link = pid_link(log_with(node, arn, "looker", "pid1="));
    BOOST_TEST_REQUIRE(!link.empty());
    node.wait_status(arn, "RUNNING");
    const auto state =
        json::parse(read_all(node.run + "/containers/" + task_id(arn) + ".pause/state.json"));
    const pid_t pause = state["pid"];
    BOOST_TEST_REQUIRE(pause > 0);
    ::kill(pause, SIGKILL); // the pause this test's berthd started

    const auto stopped = node.wait_status(arn, "STOPPED"); // an essential container exited
    for (const auto& c : stopped["containers"])            // both killed with the namespace
        BOOST_TEST(c["exitCode"] == 137, stopped.dump());
    node.expect_nothing_left();
    expect_no_pause_left(node, arn, link);
    BOOST_TEST(is_empty_dir(node.run + "/tasks"));
}

BOOST_AUTO_TEST_CASE(a_node_without_berth_pause_stops_a_pid_mode_task_saying_so_and_leaves_nothing)
{
    Node node;
    const NoPause none(node.dir.path());
    node.register_definition(pid_task_definition("pid-nopause"));
    const auto arn = node.run_task("pid-nopause");
    const auto stopped = node.wait_status(arn, "STOPPED"); // its Provision failed
    const std::string reason = stopped.value("stoppedReason", "");
    BOOST_TEST(reason.find("berth-pause: not found") != std::string::npos, stopped.dump());
    node.expect_nothing_left(); // the task cgroup, network and the half-made pause
    BOOST_TEST(!fs::exists(node.run + "/containers/" + task_id(arn) + ".pause"));
    BOOST_TEST(is_empty_dir(node.run + "/tasks"));
}

BOOST_AUTO_TEST_SUITE_END()
