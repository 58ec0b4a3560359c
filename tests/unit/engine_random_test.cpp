// tests/unit/engine_random_test.cpp — the machine under arbitrary answers: for many seeded
// random runs (successes, failures, exits, health results, time passing, lost answers), then a
// stop and an honest host, the task always ends STOPPED and finished; reported task statuses
// only move forward; the same inputs always give the same actions (determinism).
#define BOOST_TEST_MODULE engine_random
#include <map>
#include <memory>
#include <random>
#include "tests/unit/engine_driver.hpp"

using namespace berth::engine;
using namespace berth::engine::testing;

namespace {

TaskSpec random_spec(std::mt19937& rng)
{
    const int n = 1 + static_cast<int>(rng() % 4);
    std::vector<ContainerSpec> cs;
    for (int i = 0; i < n; ++i) {
        auto c = container("c" + std::to_string(i), i == 0 || rng() % 3 == 0);
        if (rng() % 2 == 0) {
            c.health_check =
                HealthCheckSpec{{"CMD", "true"}, 5s, 1s, 2, std::chrono::seconds((rng() % 2) * 10)};
            c.start_timeout = std::chrono::seconds((rng() % 2) * 30);
            if (c.start_timeout->count() == 0)
                c.start_timeout.reset();
        }
        c.stop_timeout = std::chrono::seconds(rng() % 20);
        if (i > 0 && rng() % 2 == 0) { // depend on an earlier one: never a cycle
            const auto& target = cs[rng() % cs.size()];
            auto cond = static_cast<Condition>(rng() % 4);
            if (cond == Condition::Healthy && !target.health_check)
                cond = Condition::Start;
            c.depends_on.push_back({target.name, cond});
        }
        cs.push_back(std::move(c));
    }
    auto spec = task_of(std::move(cs));
    spec.cleanup_wait = 1min;
    return spec;
}

// An answer for one action: success, failure, or (nullopt) lost.
std::optional<Event> answer(const Action& a, std::mt19937& rng, bool honest)
{
    const bool ok = honest || rng() % 16 != 0;
    if (!honest && rng() % 40 == 0)
        return std::nullopt; // lost: the action's deadline must catch it
    switch (a.kind) {
    case ActionKind::Provision:
        return Event{ok ? EventKind::Provisioned : EventKind::ProvisionFailed, {}, 0, false, "x"};
    case ActionKind::PullImage:
        return Event{ok ? EventKind::PullDone : EventKind::PullFailed, a.container, 0, false, "x"};
    case ActionKind::Create:
        return Event{ok ? EventKind::Created : EventKind::CreateFailed, a.container, 0, false, "x"};
    case ActionKind::Start:
        return Event{ok ? EventKind::Started : EventKind::StartFailed, a.container, 0, false, "x"};
    case ActionKind::HealthProbe:
        return Event{EventKind::HealthResult, a.container, 0, rng() % 4 != 0, {}};
    case ActionKind::Deprovision: return Event{EventKind::Deprovisioned, {}, 0, false, {}};
    case ActionKind::Signal:
        if (honest || rng() % 2 == 0)
            return Event{
                EventKind::Exited, a.container, a.signal == SIGKILL ? 137 : 143, false, {}};
        return std::nullopt;
    default: return std::nullopt;
    }
}

// What the runtime really holds, learnt from the answers the test gave: restore()'s input.
struct Truth {
    std::map<std::string, Observed> containers;
    void saw(const Event& e)
    {
        auto& o = containers[e.container];
        o.container = e.container;
        if (e.kind == EventKind::Created)
            o.exists = true;
        if (e.kind == EventKind::Started)
            o.running = true;
        if (e.kind == EventKind::Exited && o.running) {
            o.running = false;
            o.exit_code = e.exit_code;
        }
    }
    std::vector<Observed> observed() const
    {
        std::vector<Observed> out;
        for (const auto& [name, o] : containers)
            if (!name.empty() && o.exists)
                out.push_back(o);
        return out;
    }
};

// Runs one seeded scenario, with an agent restart in the middle when `restart`; returns every
// action, for the determinism check.
Actions run(unsigned seed, bool restart)
{
    std::mt19937 rng(seed);
    const auto spec = random_spec(rng);
    auto d = std::make_unique<Driver>(spec);
    Truth truth;
    Actions pending = d->begin();
    auto feed = [&](const Event& e, Actions& next) {
        truth.saw(e);
        auto more = d->event(e.kind, e.container, e.exit_code, e.healthy, e.reason);
        next.insert(next.end(), more.begin(), more.end());
    };
    auto step = [&](bool honest) {
        Actions next;
        for (const auto& a : pending)
            if (auto e = answer(a, rng, honest))
                feed(*e, next);
        if (!honest && rng() % 40 == 0) { // a spontaneous exit of a running container
            const auto& c = spec.containers[rng() % spec.containers.size()];
            if (truth.containers[c.name].running)
                feed(Event{EventKind::Exited, c.name, static_cast<int>(rng() % 3), false, {}},
                     next);
        }
        // Time passes: to the next deadline when nothing is left to answer, else a little.
        const auto due = d->task.next_deadline();
        Duration by{-1};
        if (next.empty() && due)
            by = std::max(*due - d->now, Duration{0});
        else if (rng() % 3 == 0)
            by = std::chrono::seconds(rng() % 10);
        if (by.count() >= 0) {
            auto more = d->advance(by);
            next.insert(next.end(), more.begin(), more.end());
        }
        pending = std::move(next);
    };
    for (int i = 0; i < 30; ++i) {
        step(false);
        if (restart && i == 15) { // the agent dies: answers in flight are lost
            auto seen = d->seen;
            auto t = Task::restore(spec, d->task.state(), truth.observed(),
                                   d->now + std::chrono::seconds(5));
            BOOST_REQUIRE_MESSAGE(t.has_value(), (t ? std::string() : t.error().message()));
            d = std::make_unique<Driver>(std::move(*t), d->now + std::chrono::seconds(5));
            d->seen = std::move(seen);
            pending = d->begin();
        }
    }
    auto stopped = d->stop();
    pending.insert(pending.end(), stopped.begin(), stopped.end());
    // An honest host: signals lead to exits, nothing is lost. The machine still has to cope with
    // what the dishonest phase left (lost answers wait for their deadlines).
    for (int i = 0; i < 200 && !d->task.finished(); ++i)
        step(true);
    BOOST_TEST(d->task.state().known == TaskStatus::Stopped, "seed " << seed);
    BOOST_TEST(d->task.finished(), "seed " << seed);
    BOOST_TEST(d->task.state().stop_code != StopCode::None, "seed " << seed);
    const auto reports = task_reports(d->seen);
    BOOST_TEST(std::is_sorted(reports.begin(), reports.end()), "seed " << seed);
    BOOST_TEST((std::adjacent_find(reports.begin(), reports.end()) == reports.end()),
               "seed " << seed);
    return d->seen;
}

bool same(const Actions& a, const Actions& b)
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].kind != b[i].kind || a[i].container != b[i].container ||
            a[i].signal != b[i].signal || a[i].task_status != b[i].task_status ||
            a[i].container_status != b[i].container_status || a[i].reason != b[i].reason)
            return false;
    return true;
}

} // namespace

BOOST_AUTO_TEST_CASE(any_sequence_of_answers_then_a_stop_ends_stopped_with_statuses_moving_forward)
{
    for (unsigned seed = 1; seed <= 500; ++seed)
        run(seed, false);
}

BOOST_AUTO_TEST_CASE(an_agent_restart_in_the_middle_of_any_sequence_still_ends_stopped)
{
    for (unsigned seed = 1; seed <= 500; ++seed)
        run(seed, true);
}

BOOST_AUTO_TEST_CASE(the_same_inputs_give_the_same_actions)
{
    for (unsigned seed = 1; seed <= 20; ++seed)
        BOOST_TEST(same(run(seed, true), run(seed, true)), "seed " << seed);
}
