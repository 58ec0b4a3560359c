// tests/root/runtime_errno_test.cpp — the errno vocabulary of runtime.hpp on every verb: ENOENT
// for no such container, EEXIST for a taken id, EBUSY for a verb the container's status does not
// allow, EINVAL for bad input. Shared fixture: tests/root/runtime_fixture.hpp.
#define BOOST_TEST_MODULE runtime_errno
#include <functional>
#include "tests/root/runtime_fixture.hpp"

using namespace berth::test;

namespace {

// Every verb that takes an id, called on `id`, each returning its error code (0: success).
std::vector<std::pair<std::string, std::function<int()>>> verbs(const rt::Options& options,
                                                                const std::string& id)
{
    const auto code = [](const auto& r) { return r ? 0 : r.error().code; };
    return {
        {"start", [=] { return code(rt::start(options, id)); }},
        {"state", [=] { return code(rt::state(options, id)); }},
        {"kill", [=] { return code(rt::kill(options, id, SIGTERM, false)); }},
        {"kill all", [=] { return code(rt::kill(options, id, SIGTERM, true)); }},
        {"delete", [=] { return code(rt::remove(options, id, false)); }},
        {"delete force", [=] { return code(rt::remove(options, id, true)); }},
        {"pause", [=] { return code(rt::pause(options, id)); }},
        {"resume", [=] { return code(rt::resume(options, id)); }},
        {"ps", [=] { return code(rt::processes(options, id)); }},
        {"stats", [=] { return code(rt::stats(options, id)); }},
        {"stored config", [=] { return code(rt::stored_config(options, id)); }},
        {"exec",
         [=] {
             rt::ExecOptions eo;
             eo.process.args = {"true"};
             return code(rt::exec(options, id, eo));
         }},
    };
}

} // namespace

BOOST_AUTO_TEST_SUITE(runtime_errno, *utf::label("root") * utf::precondition(berth::test::is_root))

BOOST_FIXTURE_TEST_CASE(every_verb_says_enoent_for_a_missing_container_and_einval_for_a_bad_id,
                        RuntimeFixture)
{
    for (const auto& [name, verb] : verbs(options, "no-such-container"))
        BOOST_TEST(verb() == ENOENT, name);
    // The state root exists, with another container in it: still ENOENT for the missing one.
    bundle.set_args({"sleep", "1000"});
    bundle.write();
    const auto id = new_id("other");
    const auto created = must_create(id);
    for (const auto& [name, verb] : verbs(options, "no-such-container"))
        BOOST_TEST(verb() == ENOENT, name);
    for (const auto& bad : {std::string("../escape"), std::string(""), std::string("a/b")})
        for (const auto& [name, verb] : verbs(options, bad))
            BOOST_TEST(verb() == EINVAL, name << " " << bad);
    auto bad_create = create_options("../escape");
    BOOST_TEST(rt::create(options, bad_create).error().code == EINVAL);
    ::close(bad_create.stdin_fd);
    BOOST_TEST(rt::remove(options, id, true).has_value());
    ::waitpid(created.pid, nullptr, __WALL);
}

BOOST_FIXTURE_TEST_CASE(create_says_eexist_for_a_taken_id_and_einval_for_bad_input, RuntimeFixture)
{
    bundle.set_args({"sleep", "1000"});
    bundle.write();
    const auto id = new_id("taken");
    auto co = create_options(id);
    auto created = rt::create(options, co);
    BOOST_TEST_REQUIRE(created.has_value(), why(created));
    BOOST_TEST(rt::create(options, co).error().code == EEXIST);
    co.id = new_id("bad-input");
    co.pass_fds = {1 << 20}; // not open
    BOOST_TEST(rt::create(options, co).error().code == EINVAL);
    co.pass_fds.clear();
    bundle.config["process"]["terminal"] = true; // and no console socket
    bundle.write();
    BOOST_TEST(rt::create(options, co).error().code == EINVAL);
    std::ofstream(bundle.config_path()) << "{not json";
    BOOST_TEST(rt::create(options, co).error().code == EINVAL);
    ::close(co.stdin_fd);
    BOOST_TEST(rt::remove(options, id, true).has_value());
    ::waitpid(created->pid, nullptr, __WALL);
}

BOOST_FIXTURE_TEST_CASE(every_verb_says_ebusy_when_the_status_does_not_allow_it, RuntimeFixture)
{
    bundle.set_args({"sleep", "1000"});
    bundle.write();
    const auto id = new_id("busy");
    const auto created = must_create(id);
    auto verb = verbs(options, id);
    const auto code_of = [&](const std::string& name) {
        for (auto& [n, fn] : verb)
            if (n == name)
                return fn();
        BOOST_FAIL("no verb " << name);
        return -1;
    };
    // created
    for (const auto* name : {"exec", "pause", "resume", "delete"})
        BOOST_TEST(code_of(name) == EBUSY, "created: " << name);
    BOOST_TEST(code_of("start") == 0);
    BOOST_TEST_REQUIRE(wait_status(options, id, rt::Status::Running));
    // running
    for (const auto* name : {"start", "resume", "delete"})
        BOOST_TEST(code_of(name) == EBUSY, "running: " << name);
    BOOST_TEST(code_of("pause") == 0);
    BOOST_TEST_REQUIRE(wait_status(options, id, rt::Status::Paused));
    // paused
    for (const auto* name : {"start", "pause", "exec", "delete"})
        BOOST_TEST(code_of(name) == EBUSY, "paused: " << name);
    BOOST_TEST(code_of("resume") == 0);
    BOOST_TEST_REQUIRE(rt::kill(options, id, SIGKILL, false).has_value());
    ::waitpid(created.pid, nullptr, __WALL);
    BOOST_TEST_REQUIRE(wait_status(options, id, rt::Status::Stopped));
    // stopped
    for (const auto* name : {"start", "kill", "kill all", "pause", "resume", "exec"})
        BOOST_TEST(code_of(name) == EBUSY, "stopped: " << name);
    BOOST_TEST(code_of("delete") == 0);
    BOOST_TEST(code_of("state") == ENOENT); // gone
}

BOOST_AUTO_TEST_SUITE_END()
