// tests/unit/engine_restore_test.cpp — an agent restart in the middle: the machine rebuilt from
// its persisted state and what the runtime reports continues correctly.
#define BOOST_TEST_MODULE engine_restore
#include "tests/unit/engine_driver.hpp"

using namespace berth::engine;
using namespace berth::engine::testing;

namespace {

TaskSpec web_and_side()
{
    auto side = container("side", false);
    side.depends_on = {{"web", Condition::Start}};
    side.health_check = HealthCheckSpec{{"CMD", "true"}, 10s, 2s, 3, 0s};
    return task_of({container("web"), side});
}

Driver restored(TaskSpec spec, TaskState saved, const std::vector<Observed>& seen, Time at)
{
    auto t = Task::restore(std::move(spec), std::move(saved), seen, at);
    BOOST_REQUIRE_MESSAGE(t.has_value(), (t ? std::string() : t.error().message()));
    return Driver(std::move(*t), at);
}

} // namespace

BOOST_AUTO_TEST_CASE(a_task_that_was_starting_finishes_starting_after_a_restart)
{
    Driver before(web_and_side());
    before.begin();
    before.event(EventKind::Provisioned);
    before.event(EventKind::PullDone, "web");
    before.event(EventKind::PullDone, "side");
    before.event(EventKind::Created, "web");
    before.event(EventKind::Started, "web");
    before.event(EventKind::Created, "side"); // persisted CREATED; the start was in flight
    const TaskState saved = before.task.state();

    auto d = restored(web_and_side(), saved,
                      {{"web", true, true, std::nullopt}, {"side", true, false, std::nullopt}},
                      before.now + 5s);
    auto resumed = d.begin();
    BOOST_TEST(has(resumed, ActionKind::Start, "side")); // the lost start is sent again
    d.settle(resumed);
    BOOST_TEST(d.task.state().known == TaskStatus::Running);
    BOOST_TEST(has(d.advance(10s), ActionKind::HealthProbe, "side"));
}

BOOST_AUTO_TEST_CASE(
    a_container_that_exited_while_the_agent_was_down_is_reported_with_its_exit_code_and_reason)
{
    Driver before(web_and_side());
    before.settle(before.begin());
    const TaskState saved = before.task.state();

    Observed web{"web", true, false, 137};
    web.reason = "OutOfMemoryError: Container killed due to memory usage"; // its reaper's verdict
    auto d =
        restored(web_and_side(), saved, {web, {"side", true, true, std::nullopt}}, before.now + 1h);
    auto resumed = d.begin();
    BOOST_TEST(d.container_state("web").exit_code.value_or(-1) == 137);
    BOOST_TEST(d.container_state("web").reason == web.reason);
    BOOST_TEST(has(d.seen, ActionKind::ReportContainer, "web"));
    BOOST_TEST(d.task.state().stop_code == StopCode::EssentialContainerExited);
    BOOST_TEST(has(resumed, ActionKind::Signal, "side", SIGTERM));
    d.settle(d.event(EventKind::Exited, "side", 0));
    BOOST_TEST(d.task.state().known == TaskStatus::Stopped);
}

BOOST_AUTO_TEST_CASE(
    a_container_that_exited_while_the_agent_was_down_finished_when_its_reaper_saw_it)
{
    Driver before(web_and_side());
    before.settle(before.begin());
    const Time exited = before.now + 10min;
    Observed web{"web", true, false, 0};
    web.finished_at = exited;
    auto d = restored(web_and_side(), before.task.state(),
                      {web, {"side", true, true, std::nullopt}}, before.now + 1h);
    d.begin();
    BOOST_TEST(d.container_state("web").finished_at.value_or(Time{}).count() == exited.count());
    // Without the reaper's time, the time the agent learnt it (as before).
    auto unknown =
        restored(web_and_side(), before.task.state(),
                 {{"web", true, false, 0}, {"side", true, true, std::nullopt}}, before.now + 1h);
    unknown.begin();
    BOOST_TEST(unknown.container_state("web").finished_at.value_or(Time{}).count() ==
               (before.now + 1h).count());
}

BOOST_AUTO_TEST_CASE(a_container_the_runtime_lost_is_stopped_as_vanished)
{
    Driver before(task_of({container("web")}));
    before.settle(before.begin());
    auto d = restored(task_of({container("web")}), before.task.state(), {}, before.now + 1s);
    d.settle(d.begin());
    BOOST_TEST(d.status("web") == ContainerStatus::Stopped);
    BOOST_TEST(!d.container_state("web").exit_code.has_value());
    BOOST_TEST(d.container_state("web").reason.find("ContainerVanished") == 0U);
    BOOST_TEST(d.task.state().known == TaskStatus::Stopped);
}

BOOST_AUTO_TEST_CASE(a_task_that_was_stopping_is_signalled_again_and_killed_after_stop_timeout)
{
    Driver before(task_of({container("web")}));
    before.settle(before.begin());
    before.stop("bye");
    auto d = restored(task_of({container("web")}), before.task.state(),
                      {{"web", true, true, std::nullopt}}, before.now + 20s);
    auto resumed = d.begin();
    BOOST_TEST(has(resumed, ActionKind::Signal, "web", SIGTERM));
    BOOST_TEST(has(d.advance(30s), ActionKind::Signal, "web", SIGKILL));
    d.settle(d.event(EventKind::Exited, "web", 137));
    BOOST_TEST(d.task.state().stopped_reason == "bye");
    BOOST_TEST(d.task.state().known == TaskStatus::Stopped);
}

BOOST_AUTO_TEST_CASE(a_container_created_before_its_record_was_written_is_adopted)
{
    Driver before(task_of({container("web")}));
    before.begin();
    before.event(EventKind::Provisioned);
    before.event(EventKind::PullDone, "web"); // crash after create, before CREATED was saved
    auto d = restored(task_of({container("web")}), before.task.state(),
                      {{"web", true, true, std::nullopt}}, before.now + 1s);
    auto resumed = d.begin();
    BOOST_TEST(!has(resumed, ActionKind::Create));
    BOOST_TEST(d.status("web") == ContainerStatus::Running);
    BOOST_TEST(d.task.state().known == TaskStatus::Running);
}

BOOST_AUTO_TEST_CASE(a_stopped_task_keeps_its_cleanup_time_across_a_restart)
{
    auto spec = task_of({container("web")});
    spec.cleanup_wait = 1h;
    Driver before(spec);
    before.settle(before.begin());
    before.settle(before.event(EventKind::Exited, "web", 0));
    auto d = restored(spec, before.task.state(), {{"web", true, false, 0}}, before.now + 30min);
    d.begin();
    BOOST_TEST((*d.task.next_deadline() == before.now + 1h));
    BOOST_TEST(has(d.advance(30min), ActionKind::Remove, "web"));
}

BOOST_AUTO_TEST_CASE(a_snapshot_that_does_not_match_the_definition_is_refused)
{
    TaskState saved;
    saved.containers.resize(1);
    auto t = Task::restore(web_and_side(), saved, {}, Time{0});
    BOOST_REQUIRE(!t);
    BOOST_TEST(t.error().context.find("saved state has 1 containers") != std::string::npos);
    TaskState two;
    two.containers.resize(2);
    auto u = Task::restore(web_and_side(), two, {{"ghost", true, true, std::nullopt}}, Time{0});
    BOOST_REQUIRE(!u);
    BOOST_TEST(u.error().context.find("'ghost'") != std::string::npos);
}
