// tests/root/runtime_handles_test.cpp — the runtime as the agent embeds it: Container and
// ProcessHandle, exit records, recover(), and berth-supervisor keeping containers, exit codes and
// logs while the "agent" (a forked child of this test) is SIGKILLed and replaced.
#define BOOST_TEST_MODULE runtime_handles
#include <poll.h>
#include <mutex>
#include "base/files.hpp"
#include "tests/root/runtime_fixture.hpp"

using namespace berth::test;

BOOST_AUTO_TEST_SUITE(runtime_handles,
                      *utf::label("root") * utf::precondition(berth::test::is_root))

BOOST_FIXTURE_TEST_CASE(an_in_process_handle_reaps_writes_exit_records_and_recover_reports_them,
                        RuntimeFixture)
{
    bundle.set_args({"sh", "-c", "echo hi; exec sleep 1000"});
    bundle.write();
    const auto id = new_id("handle");
    auto c = must_create_container(id);
    BOOST_TEST(berth::read_file(options.root + "/" + id + "/state.json")->find("\"bootId\"") !=
               std::string::npos);
    BOOST_TEST_REQUIRE(c.start().has_value());
    auto stats = c.stats();
    BOOST_TEST(stats.has_value(), why(stats));
    auto running = c.init().try_reap();
    BOOST_TEST_REQUIRE(running.has_value(), why(running));
    BOOST_TEST(!running->has_value());

    rt::ExecOptions eo;
    eo.process.args = {"sh", "-c", "exit 3"};
    eo.process.env = {"PATH=/bin"};
    auto p = c.exec(eo);
    BOOST_TEST_REQUIRE(p.has_value(), why(p));
    auto pe = p->wait();
    BOOST_TEST_REQUIRE(pe.has_value(), why(pe));
    BOOST_TEST(pe->exit_code == 3);
    BOOST_TEST(pe->signal == 0);
    BOOST_TEST(fs::exists(options.root + "/" + id + "/exit-" + std::to_string(p->pid()) + ".json"));

    // A half-made container: a directory with no state, nobody creating it.
    const auto half = new_id("half");
    fs::create_directories(options.root + "/" + half);

    BOOST_TEST_REQUIRE(c.kill(SIGKILL).has_value());
    auto e = c.init().wait();
    BOOST_TEST_REQUIRE(e.has_value(), why(e));
    BOOST_TEST(e->signal == SIGKILL);
    BOOST_TEST(e->status() == 128 + SIGKILL);
    BOOST_TEST(!e->oom_killed);
    BOOST_TEST(!e->boot_id.empty());
    BOOST_TEST(!c.kill(SIGTERM).has_value()); // reaped: never a recycled pid

    auto recovered = rt::recover(options);
    BOOST_TEST_REQUIRE(recovered.has_value(), why(recovered));
    BOOST_TEST(recovered->live.empty());
    BOOST_TEST_REQUIRE(recovered->ended.size() == 1u);
    BOOST_TEST(recovered->ended[0].id == id);
    BOOST_TEST_REQUIRE(recovered->ended[0].record.has_value());
    BOOST_TEST(recovered->ended[0].record->signal == SIGKILL);
    BOOST_TEST(recovered->ended[0].record->pid == e->pid);
    BOOST_TEST((recovered->removed_incomplete == std::vector<std::string>{half}));
    BOOST_TEST(!fs::exists(options.root + "/" + half));
    BOOST_TEST_REQUIRE(c.remove(false).has_value());
}

BOOST_AUTO_TEST_CASE(exit_records_are_parsed_strictly)
{
    rt::ExitRecord r;
    r.pid = 42;
    r.exit_code = 7;
    r.finished_ns = 1;
    r.boot_id = "b";
    auto back = rt::parse_exit_record(rt::exit_record_to_json(r));
    BOOST_TEST_REQUIRE(back.has_value(), why(back));
    BOOST_TEST(back->exit_code == 7);
    BOOST_TEST(!rt::parse_exit_record("{}").has_value());
    BOOST_TEST(!rt::parse_exit_record("not json").has_value());
    auto bad = rt::parse_exit_record(
        R"({"pid":1,"exitCode":300,"signal":0,"coreDumped":false,"oomKilled":false,)"
        R"("finished":1,"bootId":""})");
    BOOST_TEST_REQUIRE(!bad.has_value());
    BOOST_TEST(bad.error().message().find("exitCode") != std::string::npos);
    // exitUnknown: written by a reaper that was not the parent; absent in older records.
    r.exit_unknown = true;
    auto unknown = rt::parse_exit_record(rt::exit_record_to_json(r));
    BOOST_TEST_REQUIRE(unknown.has_value(), why(unknown));
    BOOST_TEST(unknown->exit_unknown);
    auto old = rt::parse_exit_record(
        R"({"pid":1,"exitCode":3,"signal":0,"coreDumped":false,"oomKilled":false,)"
        R"("finished":1,"bootId":""})");
    BOOST_TEST_REQUIRE(old.has_value(), why(old));
    BOOST_TEST(!old->exit_unknown);
    auto wrong = rt::parse_exit_record(
        R"({"pid":1,"exitCode":3,"signal":0,"coreDumped":false,"oomKilled":false,)"
        R"("finished":1,"bootId":"","exitUnknown":1})");
    BOOST_TEST_REQUIRE(!wrong.has_value());
    BOOST_TEST(wrong.error().message().find("exitUnknown") != std::string::npos);
}

// An exec'd process killed by the OOM killer is labelled OOM; a `kill -9` of the init after
// that is not (the cgroup's OOM count at its exit is compared with the count at its start).
BOOST_FIXTURE_TEST_CASE(a_sigkill_after_another_processes_oom_kill_is_not_labelled_oom,
                        RuntimeFixture)
{
    bundle.config["linux"]["resources"]["memory"] = {{"limit", 32 << 20}, {"swap", 32 << 20}};
    bundle.set_args({"sleep", "100000"});
    bundle.write();
    const auto id = new_id("oom");
    auto c = must_create_container(id);
    BOOST_TEST_REQUIRE(c.start().has_value());
    rt::ExecOptions eo;
    // tail keeps the last "line" of /dev/zero, which never ends: it grows until the OOM killer
    // (32 MiB, no swap) takes it; only once the test says go (a file in the rootfs), so that
    // its handle (which reads the count it starts from) exists before the kill.
    const auto go = bundle.rootfs() + "/hog-go";
    eo.process.args = {"sh", "-c",
                       "while [ ! -e /hog-go ]; do sleep 0.05; done; exec tail /dev/zero"};
    eo.process.env = {"PATH=/bin"};
    auto hog = c.exec(eo);
    BOOST_TEST_REQUIRE(hog.has_value(), why(hog));
    write_text(go, "");
    auto he = hog->wait();
    BOOST_TEST_REQUIRE(he.has_value(), why(he));
    BOOST_TEST(he->signal == SIGKILL);
    BOOST_TEST(he->oom_killed);
    auto stats = c.stats();
    BOOST_TEST_REQUIRE(stats.has_value(), why(stats));
    BOOST_TEST_REQUIRE(stats->oom_kill_events >= 1u);

    BOOST_TEST_REQUIRE(c.kill(SIGKILL).has_value());
    auto e = c.init().wait();
    BOOST_TEST_REQUIRE(e.has_value(), why(e));
    BOOST_TEST(e->signal == SIGKILL);
    BOOST_TEST(!e->oom_killed);
    BOOST_TEST_REQUIRE(c.remove(false).has_value());
}

// The OOM killer's own victim is labelled OOM: the init itself touching too much.
BOOST_FIXTURE_TEST_CASE(an_init_killed_by_the_oom_killer_is_labelled_oom, RuntimeFixture)
{
    bundle.config["linux"]["resources"]["memory"] = {{"limit", 32 << 20}, {"swap", 32 << 20}};
    bundle.set_args({"tail", "/dev/zero"});
    bundle.write();
    const auto id = new_id("oominit");
    auto c = must_create_container(id);
    BOOST_TEST_REQUIRE(c.start().has_value());
    auto e = c.init().wait();
    BOOST_TEST_REQUIRE(e.has_value(), why(e));
    BOOST_TEST(e->signal == SIGKILL);
    BOOST_TEST(e->oom_killed);
    BOOST_TEST_REQUIRE(c.remove(false).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
