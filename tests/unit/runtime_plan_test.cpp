// tests/unit/runtime_plan_test.cpp — the parent's preparation for the child, without root:
// PATH lookup done ahead of time, process attributes laid out as plain data.
#define BOOST_TEST_MODULE runtime_plan
#include <boost/test/unit_test.hpp>
#include "runtime/internal.hpp"

namespace rt = berth::runtime;

BOOST_AUTO_TEST_SUITE(exec_path)

BOOST_AUTO_TEST_CASE(name_is_tried_in_each_path_directory_in_order)
{
    auto c = rt::exec_candidates("sh", {"HOME=/", "PATH=/usr/bin:/bin/"});
    BOOST_TEST((c == std::vector<std::string>{"/usr/bin/sh", "/bin/sh"}));
}

BOOST_AUTO_TEST_CASE(a_name_with_a_slash_is_used_as_is)
{
    BOOST_TEST((rt::exec_candidates("./run", {"PATH=/bin"}) == std::vector<std::string>{"./run"}));
    BOOST_TEST((rt::exec_candidates("/bin/sh", {}) == std::vector<std::string>{"/bin/sh"}));
}

BOOST_AUTO_TEST_CASE(without_path_runc_default_is_used_and_duplicates_are_dropped)
{
    auto c = rt::exec_candidates("true", {});
    BOOST_TEST(c.size() == 6u);
    BOOST_TEST(c.front() == "/usr/local/sbin/true");
    BOOST_TEST(c.back() == "/bin/true");
    auto d = rt::exec_candidates("x", {"PATH=/bin::/bin"});
    BOOST_TEST((d == std::vector<std::string>{"/bin/x", "./x"}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(process_plan)

BOOST_AUTO_TEST_CASE(attributes_become_plain_data)
{
    rt::Process process;
    process.args = {"sh", "-c", "true"};
    process.env = {"PATH=/bin", "A=b"};
    process.cwd = "/work";
    process.user.uid = 1000;
    process.user.gid = 100;
    process.user.additional_gids = {5, 6};
    process.user.umask = 022;
    process.rlimits.push_back({7, "RLIMIT_NOFILE", 10, 20});
    process.capabilities = rt::Capabilities{{5, 33}, {5}, {}, {5, 33}, {}};
    process.no_new_privileges = true;
    rt::PlanArena arena;
    rt::ProcessPlan plan;
    auto r = rt::build_process_plan(process, arena, plan);
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(std::string(plan.argv[2]) == "true");
    BOOST_TEST(plan.argv[3] == nullptr);
    BOOST_TEST(std::string(plan.envp[1]) == "A=b");
    BOOST_TEST(std::string(plan.exec_candidates[0]) == "/bin/sh");
    BOOST_TEST(std::string(plan.cwd) == "/work");
    BOOST_TEST(plan.group_count == 2u);
    BOOST_TEST(plan.groups[1] == 6u);
    BOOST_TEST(plan.umask == 022);
    BOOST_TEST(plan.rlimits[0].limit.rlim_max == 20u);
    BOOST_TEST(plan.has_caps);
    BOOST_TEST(plan.cap_data[0].effective == (1u << 5));
    BOOST_TEST(plan.cap_data[1].permitted == (1u << 1)); // 33 = bit 1 of the high word
    BOOST_TEST(plan.bounding == ((1ull << 5) | (1ull << 33)));
    BOOST_TEST(plan.no_new_privs);
}

BOOST_AUTO_TEST_CASE(unsupported_fields_are_refused)
{
    rt::Process process;
    process.args = {"x"};
    process.apparmor_profile = "p";
    rt::PlanArena arena;
    rt::ProcessPlan plan;
    auto r = rt::build_process_plan(process, arena, plan);
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message().find("apparmorProfile") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(step_names_are_words)
{
    BOOST_TEST(rt::step_name(rt::ChildStep::PivotRoot) == "pivot_root");
    BOOST_TEST(rt::step_name(rt::ChildStep::Keyring) == "join a new session keyring");
    BOOST_TEST(rt::step_name(rt::ChildStep::NullDevice).find("/dev/null") !=
               std::string_view::npos);
    BOOST_TEST(rt::step_name(static_cast<rt::ChildStep>(999)) == "unknown step");
}

BOOST_AUTO_TEST_SUITE_END()
