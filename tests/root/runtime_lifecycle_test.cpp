// tests/root/runtime_lifecycle_test.cpp — the runtime library's API driven directly (no CLI), as
// root: the lifecycle: create, start, pause, resume, kill, delete, exec, hooks, pid file. Shared
// fixture and helpers: tests/root/runtime_fixture.hpp.
#define BOOST_TEST_MODULE runtime_lifecycle
#include "tests/root/runtime_fixture.hpp"

using namespace berth::test;

BOOST_AUTO_TEST_SUITE(runtime_lifecycle,
                      *utf::label("root") * utf::precondition(berth::test::is_root))

BOOST_FIXTURE_TEST_CASE(lifecycle_goes_created_running_paused_stopped_and_delete_leaves_nothing,
                        RuntimeFixture)
{
    bundle.set_args({"sleep", "1000"});
    bundle.write();
    const auto id = new_id("life");
    const auto created = must_create(id);
    BOOST_TEST((created.status == rt::Status::Created));
    const pid_t pid = created.pid;
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

BOOST_FIXTURE_TEST_CASE(exec_runs_in_the_containers_namespaces, RuntimeFixture)
{
    bundle.config["hostname"] = "exec-box";
    bundle.set_args({"sleep", "1000"});
    bundle.write();
    const auto id = new_id("exec");
    const auto created = must_create(id);
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
    ::waitpid(created.pid, nullptr, 0);
}

BOOST_FIXTURE_TEST_CASE(hooks_get_the_state_and_a_failing_prestart_hook_fails_create,
                        RuntimeFixture)
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

BOOST_FIXTURE_TEST_CASE(kill_all_reaches_every_process_and_pid_file_is_written, RuntimeFixture)
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
    for (int i = 0; i < 1000 && pids.size() < 3; ++i) { // 10 s: a busy machine forks slowly
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

BOOST_AUTO_TEST_SUITE_END()
