// tests/root/runtime_cli_test.cpp — the OCI lifecycle through the runc-compatible CLI, run
// against runc and, once built, berth-runtime: create/state/start/exec/ps/pause/kill/delete,
// --pid-file, --console-socket, and bad bundles that must fail cleanly (exit 1, a message
// naming the problem, nothing left behind). Needs root.
#define BOOST_TEST_MODULE runtime_cli
#include <boost/test/unit_test.hpp>
#include <unistd.h>
#include <fstream>
#include <regex>
#include <thread>
#include "tests/root/compat_support.hpp"
#include "tests/support/console.hpp"
#include "tests/support/privileges.hpp"

using namespace berth::test;
namespace utf = boost::unit_test;
using nlohmann::json;

namespace {

// Runs check once per runtime: runc, then berth-runtime (its absence fails the test).
void for_each_runtime(const std::function<void(Runtime&)>& check)
{
    {
        auto runc = runc_runtime();
        BOOST_TEST_CONTEXT("runtime runc")
        {
            check(runc);
        }
    }
    if (auto path = berth_runtime_path()) {
        Runtime berth("berth-runtime", *path);
        BOOST_TEST_CONTEXT("runtime berth-runtime")
        {
            check(berth);
        }
    } else {
        fail_berth_missing();
    }
}

json state_of(Runtime& runtime, const std::string& id)
{
    const auto out = runtime.cli({"state", id});
    BOOST_TEST_REQUIRE(out.status == 0, "state failed: " << out.err);
    return json::parse(out.out, nullptr, false);
}

std::string status_of(Runtime& runtime, const std::string& id)
{
    const auto state = state_of(runtime, id);
    return state.is_object() && state.contains("status") ? state["status"].get<std::string>() : "";
}

std::string read_text(const std::string& path)
{
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// The container is gone for good: no state, not listed, no cgroup, an empty state root.
void expect_gone(Runtime& runtime, const Bundle& bundle, const std::string& id)
{
    const auto state = runtime.cli({"state", id});
    BOOST_TEST(state.status == 1);
    BOOST_TEST(contains(state.err, "does not exist"), state.err);
    BOOST_TEST(runtime.cli({"list", "-q"}).out == "");
    BOOST_TEST(!cgroup_exists(bundle.cgroups_path()));
    BOOST_TEST(list_dir(runtime.root()).empty());
}

} // namespace

BOOST_AUTO_TEST_SUITE(lifecycle, *utf::precondition(is_root))

BOOST_AUTO_TEST_CASE(create_start_exec_pause_kill_delete)
{
    auto bundle = Bundle();
    bundle.set_args({"sh", "-c",
                     "trap 'echo got USR1' USR1; trap 'echo got TERM' TERM; "
                     "echo started; while true; do sleep 0.05; done"});
    bundle.write();
    for_each_runtime([&](Runtime& runtime) {
        const auto id = runtime.new_id("life");
        const auto pid_file = bundle.dir() + "/" + runtime.name() + ".pid";
        auto create = runtime.cli({"create", "--bundle", bundle.dir(), "--pid-file", pid_file, id});
        BOOST_TEST_REQUIRE(create.status == 0, "create: " << create.err);

        auto state = state_of(runtime, id);
        BOOST_TEST(state["status"] == "created");
        BOOST_TEST(state["id"] == id);
        BOOST_TEST(state["pid"].get<int>() > 0);
        BOOST_TEST(state["bundle"] == bundle.dir());
        BOOST_TEST(state["rootfs"] == bundle.rootfs());
        BOOST_TEST(state["ociVersion"].is_string());
        BOOST_TEST(state["owner"] == "");
        static const std::regex rfc3339(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z)");
        BOOST_TEST(std::regex_match(state["created"].get<std::string>(), rfc3339));
        const int pid = state["pid"].get<int>();
        BOOST_TEST(read_text(pid_file) == std::to_string(pid));

        const auto listed = runtime.cli({"list", "-f", "json"});
        const auto list = json::parse(listed.out, nullptr, false);
        BOOST_TEST_REQUIRE(list.is_array());
        BOOST_TEST(list.size() == 1u);
        BOOST_TEST(list[0]["id"] == id);
        BOOST_TEST(list[0]["status"] == "created");
        BOOST_TEST(runtime.cli({"list", "-q"}).out == id + "\n");
        const auto table = runtime.cli({"list"}).out;
        BOOST_TEST(table.rfind("ID   ", 0) == 0, table);
        BOOST_TEST(contains(table, id), table);

        BOOST_TEST_REQUIRE(runtime.cli({"start", id}).status == 0);
        BOOST_TEST(status_of(runtime, id) == "running");

        const auto ps = json::parse(runtime.cli({"ps", "-f", "json", id}).out, nullptr, false);
        BOOST_TEST_REQUIRE(ps.is_array());
        const bool listed_pid = std::find(ps.begin(), ps.end(), json(pid)) != ps.end();
        BOOST_TEST(listed_pid, ps.dump());
        const auto ps_table = runtime.cli({"ps", id});
        BOOST_TEST(ps_table.status == 0, ps_table.err);
        BOOST_TEST(contains(ps_table.out, "PID"), ps_table.out);
        BOOST_TEST(contains(ps_table.out, " " + std::to_string(pid) + " "), ps_table.out);

        auto exec = runtime.cli({"exec", "--env", "FOO=from-exec", "--cwd", "/etc", id, "sh", "-c",
                                 "echo $FOO $(pwd) $(hostname)"});
        BOOST_TEST(exec.status == 0, exec.err);
        BOOST_TEST(exec.out == "from-exec /etc runc\n");
        exec = runtime.cli({"exec", "--user", "1000:1001", "--additional-gids", "7", id, "id"});
        BOOST_TEST(exec.out == "uid=1000 gid=1001 groups=7\n", exec.err);
        exec = runtime.cli({"exec", id, "sh", "-c", "exit 5"});
        BOOST_TEST(exec.status == 5);
        // An exec'd process gets exactly process.json's env: no PATH, so an absolute path.
        json process = {{"args", {"/bin/sh", "-c", "echo process.json $X"}},
                        {"cwd", "/"},
                        {"env", {"X=1"}},
                        {"user", {{"uid", 0}, {"gid", 0}}}};
        std::ofstream(bundle.dir() + "/process.json") << process.dump();
        exec = runtime.cli({"exec", "--process", bundle.dir() + "/process.json", id});
        BOOST_TEST(exec.out == "process.json 1\n", exec.err);

        BOOST_TEST(runtime.cli({"pause", id}).status == 0);
        BOOST_TEST(status_of(runtime, id) == "paused");
        BOOST_TEST(runtime.cli({"resume", id}).status == 0);
        BOOST_TEST(status_of(runtime, id) == "running");

        BOOST_TEST(runtime.cli({"kill", id, "USR1"}).status == 0);
        BOOST_TEST(runtime.cli({"kill", id, "SIGTERM"}).status == 0);
        BOOST_TEST(runtime.cli({"kill", id, "10"}).status == 0); // USR1 again
        BOOST_TEST(runtime.cli({"kill", id, "NOTASIGNAL"}).status == 1);
        BOOST_TEST(status_of(runtime, id) == "running");
        const auto refused = runtime.cli({"delete", id});
        BOOST_TEST(refused.status == 1, "delete of a running container must fail");
        BOOST_TEST(runtime.cli({"kill", id, "KILL"}).status == 0);
        BOOST_TEST(runtime.wait_status(id, "stopped"));
        BOOST_TEST(state_of(runtime, id)["pid"] == 0);
        BOOST_TEST(runtime.cli({"delete", id}).status == 0);
        runtime.forget(id);
        expect_gone(runtime, bundle, id);
    });
}

BOOST_AUTO_TEST_CASE(delete_force_kills_a_running_container_and_its_exec_processes)
{
    auto bundle = Bundle();
    bundle.set_args({"sleep", "1000"});
    bundle.write();
    for_each_runtime([&](Runtime& runtime) {
        const auto id = runtime.new_id("force");
        BOOST_TEST_REQUIRE(runtime.cli({"run", "--detach", "--bundle", bundle.dir(), id}).status ==
                           0);
        BOOST_TEST(status_of(runtime, id) == "running");
        BOOST_TEST(runtime.cli({"exec", "-d", id, "sleep", "999"}).status == 0);
        const auto ps = json::parse(runtime.cli({"ps", "-f", "json", id}).out, nullptr, false);
        BOOST_TEST(ps.size() == 2u, ps.dump());
        BOOST_TEST(runtime.cli({"delete", "--force", id}).status == 0);
        runtime.forget(id);
        expect_gone(runtime, bundle, id);
    });
}

BOOST_AUTO_TEST_CASE(kill_all_signals_every_process)
{
    auto bundle = Bundle();
    bundle.set_args({"sh", "-c", "sleep 1000 & sleep 1000 & wait"});
    bundle.write();
    for_each_runtime([&](Runtime& runtime) {
        const auto id = runtime.new_id("killall");
        BOOST_TEST_REQUIRE(runtime.cli({"run", "-d", "--bundle", bundle.dir(), id}).status == 0);
        for (int i = 0; i < 100; ++i) { // the shell forks its two sleeps
            auto ps = json::parse(runtime.cli({"ps", "-f", "json", id}).out, nullptr, false);
            if (ps.size() == 3u)
                break;
            std::this_thread::sleep_for(20ms);
        }
        BOOST_TEST(runtime.cli({"kill", "--all", id, "KILL"}).status == 0);
        BOOST_TEST(runtime.wait_status(id, "stopped"));
        BOOST_TEST(runtime.cli({"delete", id}).status == 0);
        runtime.forget(id);
        expect_gone(runtime, bundle, id);
    });
}

BOOST_AUTO_TEST_CASE(console_socket_receives_the_pty_master)
{
    auto bundle = Bundle();
    bundle.set_args({"sh", "-c", "[ -t 0 ] && [ -t 1 ] && echo hello from tty; tty"});
    bundle.config["process"]["terminal"] = true;
    bundle.write();
    for_each_runtime([&](Runtime& runtime) {
        ConsoleSocket console;
        const auto id = runtime.new_id("tty");
        auto create = runtime.start_cli(
            {"create", "--bundle", bundle.dir(), "--console-socket", console.path(), id});
        berth::Fd master = console.receive(10s);
        BOOST_TEST_REQUIRE(master.valid(), "no pty fd received");
        BOOST_TEST(::isatty(master.get()) == 1);
        const auto created = create.wait(20s);
        BOOST_TEST_REQUIRE(created.status == 0, created.err);
        BOOST_TEST(runtime.cli({"start", id}).status == 0);
        const auto seen = read_until(master.get(), "/dev/", 10s);
        BOOST_TEST(contains(seen, "hello from tty\r\n"), seen);
        BOOST_TEST(contains(seen, "/dev/pts/0"), seen);
        BOOST_TEST(runtime.wait_status(id, "stopped"));
        BOOST_TEST(runtime.cli({"delete", id}).status == 0);
        runtime.forget(id);
        expect_gone(runtime, bundle, id);
    });
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(cli_surface, *utf::precondition(is_root))

BOOST_AUTO_TEST_CASE(spec_writes_byte_for_byte_what_runc_spec_writes)
{
    const auto berth = berth_runtime_path();
    if (!berth)
        return fail_berth_missing();
    for (const bool rootless : {false, true}) {
        TempDir runc_dir("berth-spec"), berth_dir("berth-spec");
        auto with = [&](const std::string& binary, const std::string& dir) {
            auto argv = std::vector<std::string>{binary, "spec", "--bundle", dir};
            if (rootless)
                argv.emplace_back("--rootless");
            return run_command(argv);
        };
        BOOST_TEST_REQUIRE(with("runc", runc_dir.path()).status == 0);
        BOOST_TEST_REQUIRE(with(*berth, berth_dir.path()).status == 0);
        BOOST_TEST(read_text(berth_dir.path() + "/config.json") ==
                   read_text(runc_dir.path() + "/config.json"));
        const auto again = with(*berth, berth_dir.path());
        BOOST_TEST(again.status == 1);
        BOOST_TEST(contains(again.err, "File config.json exists. Remove it first"), again.err);
    }
}

BOOST_AUTO_TEST_CASE(usage_errors_and_unsupported_verbs_exit_like_runc)
{
    for_each_runtime([&](Runtime& runtime) {
        auto out = runtime.cli({"state"});
        BOOST_TEST(out.status == 1);
        BOOST_TEST(contains(out.err, "state\\\" requires exactly 1 argument(s)"), out.err);
        out = runtime.cli({"no-such-verb"});
        BOOST_TEST(out.status == 3);
        BOOST_TEST(contains(out.err, "No help topic for 'no-such-verb'"), out.err);
        out = runtime.cli({"kill", "no-such-container", "NOTASIGNAL"});
        BOOST_TEST(out.status == 1);
        out = runtime.cli({"list", "-f", "json"});
        BOOST_TEST(out.status == 0);
        BOOST_TEST(out.out == "null\n");
        if (runtime.name() != "runc") {
            out = runtime.cli({"update", "x"});
            BOOST_TEST(out.status == 1);
            BOOST_TEST(contains(out.err, "does not support 'update'"), out.err);
        }
    });
}

BOOST_AUTO_TEST_CASE(log_file_gets_json_lines_and_stderr_the_plain_message)
{
    for_each_runtime([&](Runtime& runtime) {
        TempDir dir("berth-log");
        const auto log = dir.path() + "/log.json";
        const auto out = runtime.cli({"--log", log, "--log-format", "json", "state", "nope"});
        BOOST_TEST(out.status == 1);
        BOOST_TEST(contains(out.err, "does not exist"), out.err);
        BOOST_TEST(!contains(out.err, "level="), out.err);
        const auto line = json::parse(read_text(log), nullptr, false);
        BOOST_TEST_REQUIRE(line.is_object(), read_text(log));
        BOOST_TEST(line["level"] == "error");
        BOOST_TEST(contains(line["msg"].get<std::string>(), "does not exist"));
        BOOST_TEST(line["time"].is_string());
    });
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(bad_bundles, *utf::precondition(is_root))

namespace {

enum class Runc { Names, Vague, Ignores }; // how runc 1.1 itself reacts to the bad input

// create must exit 1 with a message containing expected, and leave nothing behind. runc is
// held to what it does (it does not always name the problem); berth-runtime always must.
void expect_refused(Bundle& bundle, const std::string& expected, Runc runc_does,
                    bool write_config = true)
{
    if (write_config)
        bundle.write();
    for_each_runtime([&](Runtime& runtime) {
        const bool is_runc = runtime.name() == "runc";
        const auto id = runtime.new_id("bad");
        const auto out = runtime.cli({"create", "--bundle", bundle.dir(), id});
        if (is_runc && runc_does == Runc::Ignores) {
            BOOST_TEST(out.status == 0, out.err);
            BOOST_TEST(contains(out.err, expected), out.err);
            BOOST_TEST(runtime.cli({"delete", "--force", id}).status == 0);
        } else {
            BOOST_TEST(out.status == 1);
            BOOST_TEST(contains(out.err, "level=error"), out.err);
            if (!is_runc || runc_does == Runc::Names)
                BOOST_TEST(contains(out.err, expected),
                           "stderr does not name " << expected << ": " << out.err);
        }
        runtime.forget(id);
        expect_gone(runtime, bundle, id);
    });
}

} // namespace

BOOST_AUTO_TEST_CASE(missing_rootfs_is_refused)
{
    Bundle bundle;
    bundle.config["root"]["path"] = "no-such-rootfs";
    expect_refused(bundle, "no-such-rootfs", Runc::Names);
}

BOOST_AUTO_TEST_CASE(malformed_config_is_refused)
{
    Bundle bundle;
    std::ofstream(bundle.config_path()) << "{\"ociVersion\": \"1.0.2\", \"process\": [";
    expect_refused(bundle, "config.json", Runc::Vague, false); // runc: "unexpected EOF"
}

BOOST_AUTO_TEST_CASE(unknown_namespace_path_is_refused)
{
    Bundle bundle;
    bundle.config["linux"]["namespaces"].push_back(
        {{"type", "cgroup"}, {"path", "/proc/no-such-pid/ns/cgroup"}});
    expect_refused(bundle, "/proc/no-such-pid/ns/cgroup", Runc::Names);
}

BOOST_AUTO_TEST_CASE(unknown_capability_is_refused)
{
    Bundle bundle;
    bundle.config["process"]["capabilities"]["bounding"].push_back("CAP_NOT_A_CAP");
    expect_refused(bundle, "CAP_NOT_A_CAP", Runc::Ignores); // runc warns and goes on
}

BOOST_AUTO_TEST_SUITE_END()
