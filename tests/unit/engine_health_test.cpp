// tests/unit/engine_health_test.cpp — health checks: a probe every interval, HEALTHY on one
// success, UNHEALTHY after `retries` consecutive failures, failures inside startPeriod not
// counted, a probe that never answers counted as a failure, no probes once the container exits.
#define BOOST_TEST_MODULE engine_health
#include "tests/unit/engine_driver.hpp"

using namespace berth::engine;
using namespace berth::engine::testing;

namespace {

Driver running_with_check(Duration start_period)
{
    auto web = container("web");
    web.health_check =
        HealthCheckSpec{{"CMD-SHELL", "curl -f localhost"}, 30s, 5s, 3, start_period};
    Driver d(task_of({web}));
    d.settle(d.begin());
    return d;
}

std::vector<HealthStatus> health_reports(const Actions& actions)
{
    std::vector<HealthStatus> out;
    for (const auto& a : actions)
        if (a.kind == ActionKind::ReportContainer)
            out.push_back(a.health);
    return out;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_container_starts_unknown_and_is_probed_every_interval)
{
    auto d = running_with_check(0s);
    BOOST_TEST(d.container_state("web").health == HealthStatus::Unknown);
    BOOST_TEST((*d.task.next_deadline() == d.now + 30s));
    BOOST_TEST(!has(d.advance(29s), ActionKind::HealthProbe));
    auto probe = d.advance(1s);
    BOOST_REQUIRE(has(probe, ActionKind::HealthProbe, "web"));
    BOOST_TEST((probe.back().timeout == 5s));
    auto ok = d.event(EventKind::HealthResult, "web", 0, true);
    BOOST_TEST(health_reports(ok) == std::vector<HealthStatus>{HealthStatus::Healthy},
               boost::test_tools::per_element());
    BOOST_TEST((*d.task.next_deadline() == d.now + 30s));
    // Another success reports nothing new.
    d.advance(30s);
    BOOST_TEST(health_reports(d.event(EventKind::HealthResult, "web", 0, true)).empty());
}

BOOST_AUTO_TEST_CASE(
    retries_consecutive_failures_make_the_container_unhealthy_and_a_success_heals_it)
{
    auto d = running_with_check(0s);
    for (int i = 0; i < 2; ++i) {
        d.advance(30s);
        d.event(EventKind::HealthResult, "web", 0, false);
    }
    BOOST_TEST(d.container_state("web").health == HealthStatus::Unknown);
    d.advance(30s);
    auto third = d.event(EventKind::HealthResult, "web", 0, false);
    BOOST_TEST(health_reports(third) == std::vector<HealthStatus>{HealthStatus::Unhealthy},
               boost::test_tools::per_element());
    BOOST_TEST(d.task.state().known == TaskStatus::Running); // unhealthy does not stop a task
    d.advance(30s);
    d.event(EventKind::HealthResult, "web", 0, true);
    BOOST_TEST(d.container_state("web").health == HealthStatus::Healthy);
    BOOST_TEST(d.container_state("web").failed_probes == 0);
}

BOOST_AUTO_TEST_CASE(failures_inside_the_start_period_do_not_count_but_a_success_there_does)
{
    auto d = running_with_check(100s);
    for (int i = 0; i < 3; ++i) { // at 30s, 60s, 90s: inside the start period
        d.advance(30s);
        d.event(EventKind::HealthResult, "web", 0, false);
    }
    BOOST_TEST(d.container_state("web").health == HealthStatus::Unknown);
    BOOST_TEST(d.container_state("web").failed_probes == 0);
    for (int i = 0; i < 3; ++i) { // at 120s, 150s, 180s: counted
        d.advance(30s);
        d.event(EventKind::HealthResult, "web", 0, false);
    }
    BOOST_TEST(d.container_state("web").health == HealthStatus::Unhealthy);

    auto e = running_with_check(100s);
    e.advance(30s);
    e.event(EventKind::HealthResult, "web", 0, true);
    BOOST_TEST(e.container_state("web").health == HealthStatus::Healthy);
}

BOOST_AUTO_TEST_CASE(a_probe_that_never_answers_counts_as_a_failure)
{
    auto d = running_with_check(0s);
    for (int i = 0; i < 3; ++i) {
        d.advance(30s); // probe sent
        d.advance(6s);  // timeout 5s plus a second of grace: counted as failed
    }
    BOOST_TEST(d.container_state("web").health == HealthStatus::Unhealthy);
    d.event(EventKind::HealthResult, "web", 0, true); // the late answer is ignored
    BOOST_TEST(d.container_state("web").health == HealthStatus::Unhealthy);
}

BOOST_AUTO_TEST_CASE(an_exited_container_is_no_longer_probed)
{
    auto d = running_with_check(0s);
    d.advance(30s);
    d.settle(d.event(EventKind::Exited, "web", 1));
    d.advance(10min);
    auto probes = std::count_if(d.seen.begin(), d.seen.end(),
                                [](const Action& a) { return a.kind == ActionKind::HealthProbe; });
    BOOST_TEST(probes == 1);
    BOOST_TEST(d.task.state().known == TaskStatus::Stopped);
}
