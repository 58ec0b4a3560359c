// tests/unit/engine_dependencies_test.cpp — dependsOn START, COMPLETE, SUCCESS and HEALTHY, a
// dependency that fails, startTimeout, and the reverse order on the way down.
#define BOOST_TEST_MODULE engine_dependencies
#include "tests/unit/engine_driver.hpp"

using namespace berth::engine;
using namespace berth::engine::testing;

namespace {

// app depends on dep with `condition`; dep is non-essential so its exit does not stop the task.
TaskSpec pair(Condition condition, std::optional<Duration> start_timeout = std::nullopt)
{
    auto dep = container("dep", false);
    dep.start_timeout = start_timeout;
    if (condition == Condition::Healthy)
        dep.health_check = HealthCheckSpec{{"CMD", "true"}, 10s, 2s, 3, 0s};
    auto app = container("app");
    app.depends_on = {{"dep", condition}};
    return task_of({dep, app});
}

// Provisioned and both images pulled; dep is created and started, app waits.
void up_to_dep_running(Driver& d)
{
    d.begin();
    d.event(EventKind::Provisioned);
    d.event(EventKind::PullDone, "dep");
    d.event(EventKind::PullDone, "app");
    d.event(EventKind::Created, "dep");
    d.event(EventKind::Started, "dep");
}

// `actions` (what dep's event led to) create app; carried out, they leave the task RUNNING.
void expect_app_created_then_running(Driver& d, const Actions& actions)
{
    BOOST_TEST(has(actions, ActionKind::Create, "app"));
    d.settle(actions);
    BOOST_TEST(d.task.state().known == TaskStatus::Running);
}

} // namespace

BOOST_AUTO_TEST_CASE(start_waits_until_the_dependency_runs)
{
    Driver d(pair(Condition::Start));
    d.begin();
    d.event(EventKind::Provisioned);
    auto dep_pulled = d.event(EventKind::PullDone, "dep");
    BOOST_TEST(has(dep_pulled, ActionKind::Create, "dep"));
    auto pulled = d.event(EventKind::PullDone, "app");
    BOOST_TEST(!has(pulled, ActionKind::Create, "app"));
    d.event(EventKind::Created, "dep");
    expect_app_created_then_running(d, d.event(EventKind::Started, "dep"));
}

BOOST_AUTO_TEST_CASE(complete_waits_for_the_dependency_to_exit_with_any_code)
{
    Driver d(pair(Condition::Complete));
    up_to_dep_running(d);
    BOOST_TEST(!has(d.seen, ActionKind::Create, "app"));
    BOOST_TEST(d.task.state().known == TaskStatus::Pending); // app is not up: not RUNNING yet
    expect_app_created_then_running(d, d.event(EventKind::Exited, "dep", 3));
}

BOOST_AUTO_TEST_CASE(success_lets_the_dependent_start_after_exit_code_zero)
{
    Driver d(pair(Condition::Success));
    up_to_dep_running(d);
    d.settle(d.event(EventKind::Exited, "dep", 0));
    BOOST_TEST(d.status("app") == ContainerStatus::Running);
    BOOST_TEST(d.task.state().known == TaskStatus::Running);
}

BOOST_AUTO_TEST_CASE(success_with_a_non_zero_exit_fails_the_task_to_start)
{
    Driver d(pair(Condition::Success));
    up_to_dep_running(d);
    d.settle(d.event(EventKind::Exited, "dep", 1));
    BOOST_TEST(d.task.state().known == TaskStatus::Stopped);
    BOOST_TEST(d.task.state().stop_code == StopCode::TaskFailedToStart);
    BOOST_TEST(d.task.state().stopped_reason ==
               "DependencyError: container 'app' dependsOn 'dep' SUCCESS: it exited with code 1");
    BOOST_TEST(!has(d.seen, ActionKind::Create, "app"));
}

BOOST_AUTO_TEST_CASE(a_dependency_whose_pull_failed_fails_the_dependent_instead_of_waiting)
{
    Driver d(pair(Condition::Start));
    d.begin();
    d.event(EventKind::Provisioned);
    d.event(EventKind::PullDone, "app");
    d.settle(d.event(EventKind::PullFailed, "dep", 0, false, "not found"));
    BOOST_TEST(d.task.state().known == TaskStatus::Stopped);
    BOOST_TEST(d.task.state().stopped_reason.find("it stopped without starting") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(healthy_waits_for_the_dependency_health_check)
{
    Driver d(pair(Condition::Healthy));
    up_to_dep_running(d);
    auto probe = d.advance(10s);
    BOOST_TEST(has(probe, ActionKind::HealthProbe, "dep"));
    BOOST_TEST(!has(d.seen, ActionKind::Create, "app"));
    expect_app_created_then_running(d, d.event(EventKind::HealthResult, "dep", 0, true));
}

BOOST_AUTO_TEST_CASE(healthy_on_a_dependency_that_turns_unhealthy_fails_the_task_to_start)
{
    Driver d(pair(Condition::Healthy));
    up_to_dep_running(d);
    for (int i = 0; i < 3; ++i) {
        d.advance(10s);
        d.settle(d.event(EventKind::HealthResult, "dep", 0, false));
    }
    BOOST_TEST(d.task.state().stop_code == StopCode::TaskFailedToStart);
    BOOST_TEST(d.task.state().stopped_reason.find("it is UNHEALTHY") != std::string::npos);
    BOOST_TEST(has(d.seen, ActionKind::Signal, "dep", SIGTERM));
    d.settle(d.event(EventKind::Exited, "dep", 143));
    BOOST_TEST(d.task.state().known == TaskStatus::Stopped);
}

BOOST_AUTO_TEST_CASE(start_timeout_fails_the_dependent_when_the_dependency_takes_too_long)
{
    Driver d(pair(Condition::Complete, 20s));
    up_to_dep_running(d);
    BOOST_TEST((*d.task.next_deadline() == d.now + 20s));
    BOOST_TEST(d.advance(19s).empty());
    BOOST_TEST(d.task.state().desired == TaskStatus::Running);
    auto timed_out = d.advance(1s);
    BOOST_TEST(d.task.state().stop_code == StopCode::TaskFailedToStart);
    BOOST_TEST(d.task.state().stopped_reason ==
               "DependencyError: container 'app' dependsOn 'dep' COMPLETE: not reached within "
               "its startTimeout of 20s");
    BOOST_TEST(has(timed_out, ActionKind::Signal, "dep", SIGTERM)); // dep still runs: stopped
}

BOOST_AUTO_TEST_CASE(on_the_way_down_a_dependency_is_signalled_only_after_its_dependents_stopped)
{
    Driver d(pair(Condition::Start));
    d.settle(d.begin());
    BOOST_REQUIRE(d.task.state().known == TaskStatus::Running);
    auto stop = d.stop();
    BOOST_TEST(has(stop, ActionKind::Signal, "app", SIGTERM));
    BOOST_TEST(!has(stop, ActionKind::Signal, "dep"));
    auto app_gone = d.event(EventKind::Exited, "app", 0);
    BOOST_TEST(has(app_gone, ActionKind::Signal, "dep", SIGTERM));
}
