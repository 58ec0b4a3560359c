// agent/engine/dependencies.cpp — dependsOn, after amazon-ecs-agent's
// agent/engine/dependencygraph/graph.go (containerOrderingDependenciesIsResolved,
// hasDependencyTimedOut, the fail-fast on a SUCCESS dependency with a non-zero exit code):
//   START     the dependency has started (its process ran; a quick exit still counts)
//   COMPLETE  the dependency has exited, any exit code
//   SUCCESS   the dependency has exited with 0; another exit code fails the dependent at once
//   HEALTHY   the dependency's health check reports HEALTHY
// startTimeout is the dependency's own: for COMPLETE/SUCCESS/HEALTHY, a dependent not yet created
// fails once the dependency has run that long without meeting the condition. Departures, so that
// a task never waits forever in PENDING: a dependency that stopped without meeting its condition
// (pull failed, never started, exited before HEALTHY) fails the dependent, and so does HEALTHY on
// a container whose health check already reports UNHEALTHY (the ECS agent keeps waiting).
#include "agent/engine/machine.hpp"

namespace berth::engine {
namespace {

// Why dependency `d` (state `s`) can never satisfy `condition`, or nullopt.
std::optional<std::string> impossible(const ContainerState& s, Condition condition)
{
    const bool stopped = s.known == ContainerStatus::Stopped;
    switch (condition) {
    case Condition::Start:
        if (stopped && !s.started_at)
            return std::string("it stopped without starting");
        return std::nullopt;
    case Condition::Complete:
        if (stopped && !s.exit_code)
            return std::string("it stopped without running to completion");
        return std::nullopt;
    case Condition::Success:
        if (stopped && !s.exit_code)
            return std::string("it stopped without running to completion");
        if (stopped && *s.exit_code != 0)
            return cat("it exited with code ", *s.exit_code);
        return std::nullopt;
    case Condition::Healthy:
        if (s.health == HealthStatus::Healthy)
            return std::nullopt;
        if (stopped)
            return std::string("it stopped before it was healthy");
        if (s.health == HealthStatus::Unhealthy)
            return std::string("it is UNHEALTHY");
        return std::nullopt;
    }
    return std::nullopt;
}

bool met(const ContainerState& s, Condition condition)
{
    switch (condition) {
    case Condition::Start: return s.known == ContainerStatus::Running || s.started_at.has_value();
    case Condition::Complete: return s.known == ContainerStatus::Stopped && s.exit_code.has_value();
    case Condition::Success: return s.known == ContainerStatus::Stopped && s.exit_code == 0;
    case Condition::Healthy: return s.health == HealthStatus::Healthy;
    }
    return false;
}

} // namespace

Task::Machine::Verdict Task::Machine::dependencies(std::size_t c, Time now) const
{
    const auto& target = spec.containers[c];
    bool all_met = true;
    for (const auto& d : target.depends_on) {
        const auto i = *index_of(d.container); // create() checked every name
        const auto& s = state.containers[i];
        const auto& dep = spec.containers[i];
        auto prefix = [&] {
            return cat("DependencyError: container ", quoted(target.name), " dependsOn ",
                       quoted(d.container), " ", name_of(d.condition), ": ");
        };
        if (auto why = impossible(s, d.condition))
            return Verdict{false, prefix() + *why};
        if (met(s, d.condition))
            continue;
        all_met = false;
        const bool timed = d.condition != Condition::Start && dep.start_timeout && s.started_at;
        if (timed && state.containers[c].known < ContainerStatus::Created &&
            now >= *s.started_at + *dep.start_timeout)
            return Verdict{false, cat(prefix(), "not reached within its startTimeout of ",
                                      dep.start_timeout->count() / 1000, "s")};
    }
    return Verdict{all_met, std::nullopt};
}

// When dependency c starts, wake up at the end of its startTimeout if anyone waits on a
// condition that the timeout bounds.
void Task::Machine::arm_dependency_timer(std::size_t c)
{
    const auto& dep = spec.containers[c];
    const auto& s = state.containers[c];
    if (!dep.start_timeout || !s.started_at)
        return;
    for (const auto& other : spec.containers)
        for (const auto& d : other.depends_on)
            if (d.container == dep.name && d.condition != Condition::Start) {
                arm(TimerKind::Dependency, c, *s.started_at + *dep.start_timeout);
                return;
            }
}

} // namespace berth::engine
