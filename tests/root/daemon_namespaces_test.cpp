#define BOOST_TEST_MODULE daemon_namespaces
// berthd's task-definition namespace fields end to end, as a child process in the namespaces this
// test made (never the host's), with the offline demo image (busybox): initProcessEnabled (the
// container's PID 1 is the init berthd binds in, BERTH_INIT_PATH, and the command's exit code is
// still reported; a node without the init answers RunTask with a failures[] entry), ipcMode task
// (two containers share one IPC namespace and one /dev/shm; nothing of either is left once the
// task is cleaned up, nor over a restart, and a stale one from a crash is removed at start), and
// pidMode task refused at RunTask by name. Only processes this test started are killed, by pid.
#include <sys/mount.h>
#include <regex>
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

BOOST_AUTO_TEST_CASE(pid_mode_task_is_refused_at_run_task_by_name)
{
    Node node;
    auto def = definition("pid-shared", {shell_container("app", "exit 0")});
    def["pidMode"] = "task";
    node.register_definition(def);
    const auto refused = node.aws({"run-task", "--task-definition", "pid-shared"});
    BOOST_TEST(refused.status != 0, refused.out);
    BOOST_TEST(refused.err.find("pidMode: 'task' is not supported by berth yet") !=
                   std::string::npos,
               refused.err);
    const auto listed = node.ok({"list-tasks"});
    BOOST_TEST(listed["taskArns"].empty(), listed.dump());
}

BOOST_AUTO_TEST_SUITE_END()
