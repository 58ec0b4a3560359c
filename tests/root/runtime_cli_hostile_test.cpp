// tests/root/runtime_cli_hostile_test.cpp — issue 13's command-line regressions, through the
// berth-runtime binary (which must be built: a missing binary is a failure, not a skip): kill
// with signal 0, exec --user/--additional-gids above 2147483647, exec --cwd errors and relative
// paths, --preserve-fds beyond the open file limit, hook failures logged as warnings, and delete
// of a created container. Needs root.
#define BOOST_TEST_MODULE runtime_cli_hostile
#include <boost/test/unit_test.hpp>
#include <unistd.h>
#include <fstream>
#include <sstream>
#include <thread>
#include <nlohmann/json.hpp>
#include "tests/support/bundle.hpp"
#include "tests/support/privileges.hpp"
#include "tests/support/runner.hpp"

using namespace berth::test;
namespace utf = boost::unit_test;
using nlohmann::json;

namespace {

bool contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

std::string read_text(const std::string& path)
{
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

Runtime berth_runtime()
{
    const auto path = berth_runtime_path();
    BOOST_TEST_REQUIRE(path.has_value(), "berth-runtime is not built");
    return Runtime("berth-runtime", *path);
}

// A detached `sleep 1000` container under runtime; returns its id.
std::string run_sleeper(Runtime& runtime, Bundle& bundle, const std::string& hint)
{
    bundle.set_args({"sleep", "1000"});
    bundle.write();
    auto id = runtime.new_id(hint);
    const auto ran = runtime.cli({"run", "--detach", "--bundle", bundle.dir(), id});
    BOOST_TEST_REQUIRE(ran.status == 0, ran.err);
    return id;
}

} // namespace

BOOST_AUTO_TEST_SUITE(cli_hostile, *utf::label("root") * utf::precondition(is_root))

// runc accepts signal 0 (an existence check: no signal is sent); berth refused it.
BOOST_AUTO_TEST_CASE(kill_with_signal_0_checks_that_the_container_runs)
{
    Bundle bundle;
    auto runc = runc_runtime();
    auto berth = berth_runtime();
    for (Runtime* runtime : {&runc, &berth}) {
        BOOST_TEST_CONTEXT("runtime " << runtime->name())
        {
            const auto id = run_sleeper(*runtime, bundle, "kill0");
            const auto alive = runtime->cli({"kill", id, "0"});
            BOOST_TEST(alive.status == 0, alive.err);
            BOOST_TEST(runtime->status(id) == "running");
            BOOST_TEST(runtime->cli({"kill", id, "KILL"}).status == 0);
            BOOST_TEST(runtime->wait_status(id, "stopped"));
            BOOST_TEST(runtime->cli({"kill", id, "0"}).status != 0);
            BOOST_TEST(runtime->cli({"delete", id}).status == 0); // frees the bundle's cgroup
            runtime->forget(id);
        }
    }
}

// setresuid/setresgid read 4294967295 as "unchanged": `exec --user 4294967295:4294967295` ran as
// root.
BOOST_AUTO_TEST_CASE(exec_ids_above_2147483647_are_refused)
{
    Bundle bundle;
    auto berth = berth_runtime();
    const auto id = run_sleeper(berth, bundle, "ids");
    for (const std::vector<std::string>& flags :
         {std::vector<std::string>{"--user", "4294967295:4294967295"},
          {"--user", "4294967295"},
          {"--user", "0:2147483648"},
          {"--user", "1000", "--additional-gids", "4294967295"}}) {
        auto args = std::vector<std::string>{"exec"};
        args.insert(args.end(), flags.begin(), flags.end());
        args.insert(args.end(), {id, "id"});
        const auto r = berth.cli(args);
        BOOST_TEST(r.status == 1, join_argv(args) << " ran: " << r.out);
        BOOST_TEST(contains(r.err, "out of range: at most 2147483647"), r.err);
    }
    const auto ok = berth.cli({"exec", "--user", "2147483647:2147483647", id, "id"});
    BOOST_TEST(ok.status == 0, ok.err);
    BOOST_TEST(contains(ok.out, "uid=2147483647"), ok.out);
}

// "exec --cwd /nonexist ID pwd" said "chdir to cwd 'pwd'"; a relative --cwd was accepted.
BOOST_AUTO_TEST_CASE(exec_cwd_errors_name_the_cwd_and_relative_is_refused)
{
    Bundle bundle;
    auto berth = berth_runtime();
    const auto id = run_sleeper(berth, bundle, "cwd");
    const auto missing = berth.cli({"exec", "--cwd", "/nonexist", id, "pwd"});
    BOOST_TEST(missing.status != 0);
    BOOST_TEST(contains(missing.err, "chdir to cwd '/nonexist'"), missing.err);
    BOOST_TEST(!contains(missing.err, "'pwd'"), missing.err);
    const auto relative = berth.cli({"exec", "--cwd", "tmp", id, "pwd"});
    BOOST_TEST(relative.status == 1, "relative --cwd ran: " << relative.out);
    BOOST_TEST(contains(relative.err, "--cwd must be an absolute path"), relative.err);
}

// 4294967295 wrapped 3 + N to 2 (stderr silently closed); 10^9 kept exec busy for over 20 s.
BOOST_AUTO_TEST_CASE(preserve_fds_beyond_the_open_file_limit_fails_at_once)
{
    Bundle bundle;
    auto berth = berth_runtime();
    bundle.write();
    const auto refused_id = berth.new_id("fds");
    const auto create =
        berth.cli({"create", "--preserve-fds", "4294967295", "--bundle", bundle.dir(), refused_id});
    BOOST_TEST(create.status == 1);
    BOOST_TEST(contains(create.err, "RLIMIT_NOFILE"), create.err);
    const auto id = run_sleeper(berth, bundle, "fds");
    for (const auto* count : {"4294967295", "1000000000"}) {
        const auto began = std::chrono::steady_clock::now();
        const auto r = berth.cli({"exec", "--preserve-fds", count, id, "true"}, 10s);
        BOOST_TEST((std::chrono::steady_clock::now() - began < 5s), count << " took too long");
        BOOST_TEST(r.status == 1, count << " accepted");
        BOOST_TEST(contains(r.err, "RLIMIT_NOFILE"), r.err);
    }
    BOOST_TEST(berth.cli({"exec", "--preserve-fds", "1", id, "true"}).status == 0);
}

// The OCI spec: a failed poststart or poststop hook is logged as a warning and the rest goes on.
BOOST_AUTO_TEST_CASE(failing_poststart_and_poststop_hooks_are_logged_as_warnings)
{
    Bundle bundle;
    auto berth = berth_runtime();
    TempDir logs("berth-hostile-log");
    const auto log = logs.path() + "/log.json";
    const auto& marks = logs.path();
    const auto sh = [](const std::string& script) {
        return json{{"path", "/bin/sh"}, {"args", {"sh", "-c", script}}};
    };
    bundle.config["hooks"] = {
        {"poststart", {sh("exit 6"), sh("touch " + marks + "/poststart-ran")}},
        {"poststop", {sh("exit 7"), sh("touch " + marks + "/poststop-ran")}},
    };
    bundle.set_args({"sleep", "1000"});
    bundle.write();
    const auto id = berth.new_id("warn");
    const auto ran = berth.cli(
        {"--log", log, "--log-format", "json", "run", "--detach", "--bundle", bundle.dir(), id});
    BOOST_TEST_REQUIRE(ran.status == 0, ran.err);
    BOOST_TEST(std::ifstream(marks + "/poststart-ran").good());
    const auto removed = berth.cli({"--log", log, "--log-format", "json", "delete", "-f", id});
    BOOST_TEST(removed.status == 0, removed.err);
    berth.forget(id);
    BOOST_TEST(std::ifstream(marks + "/poststop-ran").good());
    std::vector<std::string> warnings;
    std::istringstream lines(read_text(log));
    for (std::string line; std::getline(lines, line);) {
        const auto entry = json::parse(line, nullptr, false);
        if (entry.is_object() && entry.value("level", "") == "warning")
            warnings.push_back(entry.value("msg", ""));
    }
    BOOST_TEST_REQUIRE(warnings.size() == 2u, read_text(log));
    BOOST_TEST(contains(warnings[0], "poststart hook 0 '/bin/sh': exited with status 6"));
    BOOST_TEST(contains(warnings[1], "poststop hook 0 '/bin/sh': exited with status 7"));
}

// The OCI spec lets delete remove only a stopped container; runc deletes a created one.
BOOST_AUTO_TEST_CASE(delete_without_force_refuses_a_created_container)
{
    Bundle bundle;
    auto berth = berth_runtime();
    bundle.set_args({"true"});
    bundle.write();
    const auto id = berth.new_id("created");
    BOOST_TEST_REQUIRE(berth.cli({"create", "--bundle", bundle.dir(), id}).status == 0);
    const auto refused = berth.cli({"delete", id});
    BOOST_TEST(refused.status == 1);
    BOOST_TEST(contains(refused.err, "container is created"), refused.err);
    BOOST_TEST(berth.status(id) == "created");
    BOOST_TEST(cgroup_exists(bundle.cgroups_path()));
    BOOST_TEST(berth.cli({"start", id}).status == 0);
    BOOST_TEST(berth.wait_status(id, "stopped"));
    BOOST_TEST(berth.cli({"delete", id}).status == 0);
    berth.forget(id);
    BOOST_TEST(!cgroup_exists(bundle.cgroups_path()));
    BOOST_TEST(list_dir(berth.root()).empty());
}

BOOST_AUTO_TEST_SUITE_END()
