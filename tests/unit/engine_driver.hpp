// tests/unit/engine_driver.hpp — drives an engine::Task the way the agent's event loop would:
// a clock the test moves, helpers that answer actions, and finders over the actions returned.
#pragma once
#include <algorithm>
#include <csignal>
#include <ostream>
#include <string>
#include <utility>
#include <vector>
#include <boost/test/unit_test.hpp>
#include "agent/engine/engine.hpp"

namespace berth::engine {
// Boost.Test prints values of failed checks: statuses by their ECS names.
inline std::ostream& operator<<(std::ostream& out, TaskStatus s)
{
    return out << name_of(s);
}
inline std::ostream& operator<<(std::ostream& out, ContainerStatus s)
{
    return out << name_of(s);
}
inline std::ostream& operator<<(std::ostream& out, HealthStatus s)
{
    return out << name_of(s);
}
inline std::ostream& operator<<(std::ostream& out, StopCode s)
{
    return out << name_of(s);
}
} // namespace berth::engine

namespace berth::engine::testing {

using namespace std::chrono_literals;

inline ContainerSpec container(std::string name, bool essential = true)
{
    ContainerSpec c;
    c.name = std::move(name);
    c.image = "docker.io/library/" + c.name + ":latest";
    c.essential = essential;
    return c;
}

inline TaskSpec task_of(std::vector<ContainerSpec> containers)
{
    TaskSpec t;
    t.arn = "arn:aws:ecs:us-east-1:000000000000:task/default/0123";
    t.containers = std::move(containers);
    return t;
}

using Actions = std::vector<Action>;

inline bool has(const Actions& actions, ActionKind kind, const std::string& container = {},
                int signal = 0)
{
    return std::any_of(actions.begin(), actions.end(), [&](const Action& a) {
        return a.kind == kind && (container.empty() || a.container == container) &&
               (signal == 0 || a.signal == signal);
    });
}

inline std::vector<TaskStatus> task_reports(const Actions& actions)
{
    std::vector<TaskStatus> out;
    for (const auto& a : actions)
        if (a.kind == ActionKind::ReportTask)
            out.push_back(a.task_status);
    return out;
}

struct Driver {
    Task task;
    Time now{1'000'000};
    Actions seen; // every action since the start, in order

    explicit Driver(TaskSpec spec) : task(std::move(*Task::create(std::move(spec)))) {}
    explicit Driver(Task restored, Time at) : task(std::move(restored)), now(at) {}

    Actions keep(Actions a)
    {
        seen.insert(seen.end(), a.begin(), a.end());
        return a;
    }
    Actions begin() { return keep(task.begin(now)); }
    Actions event(EventKind kind, const std::string& c = {}, int code = 0, bool ok = false,
                  std::string reason = {})
    {
        return keep(task.handle(Event{kind, c, code, ok, std::move(reason)}, now));
    }
    Actions advance(Duration d)
    {
        now += d;
        return keep(task.on_timer(now));
    }
    Actions stop(std::string reason = {}) { return keep(task.stop(std::move(reason), now)); }

    // Answers every provision, pull, create and start with success, until nothing is left to
    // answer (what a healthy host does). Returns everything that happened.
    Actions settle(Actions pending)
    {
        Actions all;
        while (!pending.empty()) {
            Actions next;
            for (const auto& a : pending) {
                all.push_back(a);
                Actions more;
                switch (a.kind) {
                case ActionKind::Provision: more = event(EventKind::Provisioned); break;
                case ActionKind::PullImage: more = event(EventKind::PullDone, a.container); break;
                case ActionKind::Create: more = event(EventKind::Created, a.container); break;
                case ActionKind::Start: more = event(EventKind::Started, a.container); break;
                case ActionKind::Deprovision: more = event(EventKind::Deprovisioned); break;
                default: break;
                }
                next.insert(next.end(), more.begin(), more.end());
            }
            pending = std::move(next);
        }
        return all;
    }
    ContainerStatus status(const std::string& name) const
    {
        for (std::size_t i = 0; i < task.spec().containers.size(); ++i)
            if (task.spec().containers[i].name == name)
                return task.state().containers[i].known;
        BOOST_FAIL("no container " + name);
        return ContainerStatus::None;
    }
    const ContainerState& container_state(const std::string& name) const
    {
        for (std::size_t i = 0; i < task.spec().containers.size(); ++i)
            if (task.spec().containers[i].name == name)
                return task.state().containers[i];
        BOOST_FAIL("no container " + name);
        return task.state().containers.front();
    }
};

} // namespace berth::engine::testing
