// agent/api/shapes: the task's healthStatus as ECS derives it from its essential containers
// that have a healthCheck (UNHEALTHY over UNKNOWN over HEALTHY; the rest do not count), as
// task_json shows it.
#define BOOST_TEST_MODULE api_shapes
#include <boost/test/unit_test.hpp>
#include "agent/api/internal.hpp"

using namespace berth;

namespace {

struct Member {
    bool essential;
    bool health_check;
    const char* health; // as the daemon records it ("" never reported)
};

store::Task task_of(std::initializer_list<Member> members)
{
    store::Task t;
    t.arn = "arn:aws:ecs:us-east-1:000000000000:task/default/0123456789abcdef0123456789abcdef";
    t.cluster = "default";
    int i = 0;
    for (const auto& m : members) {
        store::Container c;
        c.name = "c" + std::to_string(i++);
        c.essential = m.essential;
        c.health_check = m.health_check;
        c.health_status = m.health;
        t.containers.push_back(c);
    }
    return t;
}

std::string health(std::initializer_list<Member> members)
{
    return api::task_health_status(task_of(members));
}

} // namespace

BOOST_AUTO_TEST_CASE(all_essential_containers_with_checks_healthy_make_the_task_healthy)
{
    BOOST_TEST(health({{true, true, "HEALTHY"}}) == "HEALTHY");
    BOOST_TEST(health({{true, true, "HEALTHY"}, {true, true, "HEALTHY"}}) == "HEALTHY");
    // An essential container without a healthCheck (always UNKNOWN) does not count.
    BOOST_TEST(health({{true, true, "HEALTHY"}, {true, false, "UNKNOWN"}}) == "HEALTHY");
    // Nor does a non-essential one, whatever its health.
    BOOST_TEST(health({{true, true, "HEALTHY"}, {false, true, "UNHEALTHY"}}) == "HEALTHY");
}

BOOST_AUTO_TEST_CASE(one_unhealthy_essential_container_makes_the_task_unhealthy)
{
    BOOST_TEST(health({{true, true, "UNHEALTHY"}}) == "UNHEALTHY");
    BOOST_TEST(health({{true, true, "UNHEALTHY"}, {true, true, "UNKNOWN"}}) == "UNHEALTHY");
    BOOST_TEST(health({{true, true, "HEALTHY"}, {true, true, "UNHEALTHY"}}) == "UNHEALTHY");
    BOOST_TEST(
        health({{true, true, "UNKNOWN"}, {true, true, "UNHEALTHY"}, {true, true, "HEALTHY"}}) ==
        "UNHEALTHY");
}

BOOST_AUTO_TEST_CASE(a_check_not_yet_decided_or_no_check_at_all_is_unknown)
{
    BOOST_TEST(health({{true, true, "HEALTHY"}, {true, true, "UNKNOWN"}}) == "UNKNOWN");
    BOOST_TEST(health({{true, true, ""}}) == "UNKNOWN"); // never reported
    BOOST_TEST(health({{true, false, "UNKNOWN"}}) == "UNKNOWN");
    BOOST_TEST(health({{false, true, "HEALTHY"}}) == "UNKNOWN"); // nothing essential is checked
    BOOST_TEST(health({}) == "UNKNOWN");
}

BOOST_AUTO_TEST_CASE(task_json_shows_the_derived_task_health_beside_the_containers_own)
{
    const api::Options options;
    auto t = task_of({{true, true, "HEALTHY"}, {false, false, ""}});
    auto out = api::task_json(options, t);
    BOOST_TEST(out["healthStatus"] == "HEALTHY");
    BOOST_TEST(out["containers"][0]["healthStatus"] == "HEALTHY");
    BOOST_TEST(out["containers"][1]["healthStatus"] == "UNKNOWN");
    t.containers[0].health_status = "UNHEALTHY";
    BOOST_TEST(api::task_json(options, t)["healthStatus"] == "UNHEALTHY");
}
