// tests/unit/engine_task_test.cpp — the task state machine's main paths: up to RUNNING, an
// essential exit with SIGTERM then SIGKILL for the others, a user stop, start failures that end
// STOPPED with a reason (never stuck in PENDING), cleanup, and specs it refuses.
#define BOOST_TEST_MODULE engine_task
#include "tests/unit/engine_driver.hpp"

using namespace berth::engine;
using namespace berth::engine::testing;

BOOST_AUTO_TEST_CASE(
    a_task_with_two_containers_goes_from_provisioning_through_pending_and_activating_to_running)
{
    Driver d(task_of({container("web"), container("side", false)}));
    auto first = d.begin();
    BOOST_TEST(first.size() == 1U);
    BOOST_TEST(has(first, ActionKind::Provision)); // nothing is pulled before the task's resources
    auto all = d.settle(first);
    BOOST_TEST(has(all, ActionKind::PullImage, "web"));
    BOOST_TEST(has(all, ActionKind::Create, "side"));
    BOOST_TEST(has(all, ActionKind::Start, "web"));
    const std::vector<TaskStatus> expected{TaskStatus::Pending, TaskStatus::Activating,
                                           TaskStatus::Running};
    BOOST_TEST(task_reports(all) == expected, boost::test_tools::per_element());
    BOOST_TEST(d.task.state().known == TaskStatus::Running);
    BOOST_TEST(d.task.state().desired == TaskStatus::Running);
    BOOST_TEST(d.status("web") == ContainerStatus::Running);
    BOOST_TEST(d.task.state().containers[0].started_at.has_value());
    BOOST_TEST(!d.task.next_deadline().has_value()); // nothing to wait for: no timer, no flight
}

BOOST_AUTO_TEST_CASE(
    an_essential_container_exit_stops_the_task_with_sigterm_then_sigkill_after_stop_timeout)
{
    auto side = container("side", false);
    side.stop_timeout = 10s;
    Driver d(task_of({container("web"), side}));
    d.settle(d.begin());

    auto after_exit = d.event(EventKind::Exited, "web", 2);
    BOOST_TEST(has(after_exit, ActionKind::Signal, "side", SIGTERM));
    BOOST_TEST(!has(after_exit, ActionKind::Signal, "side", SIGKILL));
    const std::vector<TaskStatus> down{TaskStatus::Deactivating, TaskStatus::Stopping};
    BOOST_TEST(task_reports(after_exit) == down, boost::test_tools::per_element());
    BOOST_TEST(d.task.state().stop_code == StopCode::EssentialContainerExited);
    BOOST_TEST(d.task.state().stopped_reason == "Essential container in task exited");
    BOOST_TEST((*d.task.next_deadline() == d.now + 10s));

    BOOST_TEST(!has(d.advance(9999ms), ActionKind::Signal)); // not before stopTimeout
    BOOST_TEST(has(d.advance(1ms), ActionKind::Signal, "side", SIGKILL));
    auto last = d.event(EventKind::Exited, "side", 137);
    BOOST_TEST(has(last, ActionKind::Deprovision));
    BOOST_TEST(d.task.state().known == TaskStatus::Deprovisioning);
    auto stopped = d.event(EventKind::Deprovisioned);
    BOOST_REQUIRE(task_reports(stopped).size() == 1U);
    BOOST_TEST(stopped.back().task_status == TaskStatus::Stopped);
    BOOST_TEST(stopped.back().stop_code == StopCode::EssentialContainerExited);
    BOOST_TEST(d.container_state("web").exit_code.value_or(-1) == 2);
    BOOST_TEST(d.container_state("side").exit_code.value_or(-1) == 137);
}

BOOST_AUTO_TEST_CASE(a_container_that_exits_on_sigterm_gets_no_sigkill)
{
    Driver d(task_of({container("web"), container("side", false)}));
    d.settle(d.begin());
    d.stop();
    d.event(EventKind::Exited, "side", 0);
    d.event(EventKind::Exited, "web", 0);
    auto later = d.advance(60s);
    BOOST_TEST(!has(d.seen, ActionKind::Signal, "", SIGKILL));
    BOOST_TEST(!has(later, ActionKind::Signal));
}

BOOST_AUTO_TEST_CASE(a_user_stop_ends_stopped_with_user_initiated_and_the_given_reason)
{
    Driver d(task_of({container("web")}));
    d.settle(d.begin());
    auto actions = d.stop("scaling down");
    BOOST_TEST(has(actions, ActionKind::Signal, "web", SIGTERM));
    BOOST_TEST((*d.task.next_deadline() == d.now + 30s)); // the default stopTimeout
    d.settle(d.event(EventKind::Exited, "web", 143));
    BOOST_TEST(d.task.state().known == TaskStatus::Stopped);
    BOOST_TEST(d.task.state().stop_code == StopCode::UserInitiated);
    BOOST_TEST(d.task.state().stopped_reason == "scaling down");
    // A second stop and the essential exit after it do not overwrite the first reason.
    d.stop("again");
    BOOST_TEST(d.task.state().stopped_reason == "scaling down");
}

BOOST_AUTO_TEST_CASE(a_user_stop_without_a_reason_says_the_user_stopped_it)
{
    Driver d(task_of({container("web")}));
    d.settle(d.begin());
    d.stop();
    BOOST_TEST(d.task.state().stopped_reason == "Task stopped by user");
}

BOOST_AUTO_TEST_CASE(a_failed_pull_of_an_essential_container_ends_stopped_with_the_pull_error)
{
    Driver d(task_of({container("web"), container("side", false)}));
    d.event(EventKind::Provisioned); // nothing asked for it yet: ignored
    BOOST_TEST(!d.task.state().provisioned);
    d.begin();
    d.event(EventKind::Provisioned);
    auto failed = d.event(EventKind::PullFailed, "web", 0, false, "manifest unknown");
    BOOST_TEST(d.status("web") == ContainerStatus::Stopped);
    BOOST_TEST(d.container_state("web").reason == "CannotPullContainerError: manifest unknown");
    BOOST_TEST(d.task.state().stop_code == StopCode::TaskFailedToStart);
    BOOST_TEST(d.task.state().stopped_reason == "CannotPullContainerError: manifest unknown");
    BOOST_TEST(d.status("side") == ContainerStatus::Stopped); // its pull's answer is now stale
    BOOST_TEST(has(failed, ActionKind::Deprovision));         // nothing provisioned is leaked
    d.event(EventKind::PullDone, "side");
    BOOST_TEST(d.status("side") == ContainerStatus::Stopped);
    d.event(EventKind::Deprovisioned);
    BOOST_TEST(d.task.state().known == TaskStatus::Stopped);
    BOOST_TEST(!has(d.seen, ActionKind::Create));
}

BOOST_AUTO_TEST_CASE(a_failed_pull_of_a_non_essential_container_leaves_the_task_running)
{
    Driver d(task_of({container("web"), container("side", false)}));
    d.begin();
    d.event(EventKind::Provisioned);
    d.event(EventKind::PullFailed, "side", 0, false, "denied");
    d.settle(d.event(EventKind::PullDone, "web"));
    BOOST_TEST(d.task.state().known == TaskStatus::Running);
    BOOST_TEST(d.status("side") == ContainerStatus::Stopped);
    BOOST_TEST(d.container_state("side").reason == "CannotPullContainerError: denied");
}

BOOST_AUTO_TEST_CASE(create_and_start_failures_end_stopped_with_the_runtime_error)
{
    Driver d(task_of({container("web")}));
    d.begin();
    d.event(EventKind::Provisioned);
    d.event(EventKind::PullDone, "web");
    d.event(EventKind::CreateFailed, "web", 0, false, "no such file");
    BOOST_TEST(d.task.state().stopped_reason == "CannotCreateContainerError: no such file");

    Driver e(task_of({container("web")}));
    e.begin();
    e.event(EventKind::Provisioned);
    e.event(EventKind::PullDone, "web");
    e.event(EventKind::Created, "web");
    e.settle(e.event(EventKind::StartFailed, "web", 0, false, "exec format error"));
    BOOST_TEST(e.task.state().known == TaskStatus::Stopped);
    BOOST_TEST(e.task.state().stopped_reason == "CannotStartContainerError: exec format error");
    BOOST_TEST(e.container_state("web").exists); // created: removed at cleanup
}

BOOST_AUTO_TEST_CASE(a_provision_failure_ends_stopped_with_a_resource_initialization_error)
{
    Driver d(task_of({container("web")}));
    d.begin();
    auto actions = d.event(EventKind::ProvisionFailed, {}, 0, false, "port 8080 taken");
    BOOST_TEST(d.task.state().known == TaskStatus::Stopped);
    BOOST_TEST(d.task.state().stop_code == StopCode::TaskFailedToStart);
    BOOST_TEST(d.task.state().stopped_reason == "ResourceInitializationError: port 8080 taken");
    BOOST_TEST(!has(actions, ActionKind::Deprovision)); // provision cleans up its own failure
}

BOOST_AUTO_TEST_CASE(an_action_that_never_answers_times_out_and_the_task_does_not_stay_pending)
{
    auto spec = task_of({container("web")});
    spec.timeouts.create = 4min;
    Driver d(std::move(spec));
    d.begin();
    d.event(EventKind::Provisioned);
    d.event(EventKind::PullDone, "web");
    BOOST_TEST((*d.task.next_deadline() == d.now + 4min));
    d.settle(d.advance(4min));
    BOOST_TEST(d.task.state().known == TaskStatus::Stopped);
    BOOST_TEST(d.task.state().stop_code == StopCode::TaskFailedToStart);
    BOOST_TEST(d.task.state().stopped_reason.find("timed out after 240s") != std::string::npos);
    d.event(EventKind::Created, "web"); // the late answer is ignored
    BOOST_TEST(d.status("web") == ContainerStatus::Stopped);
}

BOOST_AUTO_TEST_CASE(a_stop_while_a_create_is_in_flight_waits_for_it_then_stops_the_container)
{
    Driver d(task_of({container("web")}));
    d.begin();
    d.event(EventKind::Provisioned);
    d.event(EventKind::PullDone, "web");
    d.stop();
    BOOST_TEST(d.status("web") == ContainerStatus::Pulled); // the create may still make it
    d.settle(d.event(EventKind::Created, "web"));
    BOOST_TEST(d.status("web") == ContainerStatus::Stopped);
    BOOST_TEST(d.container_state("web").exists);
    BOOST_TEST(d.task.state().known == TaskStatus::Stopped);
}

BOOST_AUTO_TEST_CASE(a_stopped_task_removes_its_containers_after_the_cleanup_wait)
{
    auto spec = task_of({container("web"), container("side", false)});
    spec.cleanup_wait = 3h;
    Driver d(std::move(spec));
    d.settle(d.begin());
    d.event(EventKind::Exited, "side", 0);
    d.settle(d.event(EventKind::Exited, "web", 0));
    BOOST_TEST(d.task.state().known == TaskStatus::Stopped);
    BOOST_TEST(!d.task.finished());
    BOOST_TEST(!has(d.advance(3h - 1ms), ActionKind::Remove));
    auto removal = d.advance(1ms);
    BOOST_TEST(has(removal, ActionKind::Remove, "web"));
    BOOST_TEST(has(removal, ActionKind::Remove, "side"));
    BOOST_TEST(d.task.finished());
}

BOOST_AUTO_TEST_CASE(a_stop_before_anything_was_created_stops_without_signals)
{
    Driver d(task_of({container("web")}));
    d.begin();
    auto actions = d.stop();
    BOOST_TEST(d.status("web") == ContainerStatus::Stopped);
    BOOST_TEST(d.task.state().known == TaskStatus::Stopping); // the provision answer is awaited
    d.settle(d.event(EventKind::Provisioned));
    BOOST_TEST(d.task.state().known == TaskStatus::Stopped);
    BOOST_TEST(!has(d.seen, ActionKind::Signal));
    BOOST_TEST(has(d.seen, ActionKind::Deprovision));
}

BOOST_AUTO_TEST_CASE(specs_the_machine_cannot_run_are_refused_naming_the_field)
{
    auto refused = [](TaskSpec spec, const std::string& words) {
        auto t = Task::create(std::move(spec));
        BOOST_REQUIRE(!t);
        BOOST_TEST(t.error().bad_input);
        BOOST_TEST(t.error().context.find(words) != std::string::npos, t.error().context);
    };
    refused(task_of({}), "containerDefinitions is empty");
    refused(task_of({container("a", false)}), "at least one container must be essential");
    refused(task_of({container("a"), container("a")}), "is used twice");
    refused(task_of({container("")}), "containerDefinitions[0].name is empty");
    auto a = container("a");
    a.depends_on = {{"ghost", Condition::Start}};
    refused(task_of({a}), "dependsOn names unknown container 'ghost'");
    auto b = container("b");
    a.depends_on = {{"b", Condition::Start}};
    b.depends_on = {{"a", Condition::Complete}};
    refused(task_of({a, b}), "dependsOn forms a cycle");
    a.depends_on = {{"a", Condition::Start}};
    refused(task_of({a}), "dependsOn itself");
    a.depends_on = {{"b", Condition::Healthy}};
    b.depends_on = {};
    refused(task_of({a, b}), "that container has no healthCheck");
    auto h = container("h");
    h.health_check = HealthCheckSpec{};
    refused(task_of({h}), "healthCheck.command is empty");
}

BOOST_AUTO_TEST_CASE(status_names_are_the_ecs_wire_names)
{
    BOOST_TEST(name_of(TaskStatus::Deprovisioning) == "DEPROVISIONING");
    BOOST_TEST(name_of(ContainerStatus::ResourcesProvisioned) == "RESOURCES_PROVISIONED");
    BOOST_TEST(name_of(ContainerStatus::ManifestPulled) == "MANIFEST_PULLED");
    BOOST_TEST(name_of(HealthStatus::Unhealthy) == "UNHEALTHY");
    BOOST_TEST(name_of(Condition::Success) == "SUCCESS");
    BOOST_TEST(name_of(StopCode::EssentialContainerExited) == "EssentialContainerExited");
    BOOST_TEST(name_of(StopCode::None).empty());
}
