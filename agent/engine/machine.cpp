// agent/engine/machine.cpp — driving a task toward its desired status. Follows the ECS agent's
// task manager: the task's known status is derived from its containers' (task.go
// updateTaskKnownStatus: the earliest container status, a STOPPED container not holding it back
// while the task runs); a container moves only when its dependsOn are resolved
// (dependencygraph.DependenciesAreResolved); on the way down a container is stopped only after
// the containers depending on it have stopped (verifyShutdownOrder), with SIGTERM then SIGKILL
// after its stopTimeout (docker stop); containers never created are simply marked STOPPED.
#include <algorithm>
#include <csignal>
#include <utility>
#include "agent/engine/machine.hpp"

namespace berth::engine {
namespace {

// The ECS lifecycle status that a set of container statuses means while the task runs.
TaskStatus forward_status(const std::vector<ContainerState>& containers)
{
    auto earliest = ContainerStatus::Stopped;
    for (const auto& c : containers)
        if (c.known != ContainerStatus::Stopped)
            earliest = std::min(earliest, c.known);
    if (earliest < ContainerStatus::Created)
        return TaskStatus::Pending;
    if (earliest == ContainerStatus::Created)
        return TaskStatus::Activating;
    return TaskStatus::Running;
}

} // namespace

std::optional<std::size_t> Task::Machine::index_of(std::string_view name) const
{
    for (std::size_t i = 0; i < spec.containers.size(); ++i)
        if (spec.containers[i].name == name)
            return i;
    return std::nullopt;
}

bool Task::Machine::in_flight(ActionKind kind, std::size_t c) const
{
    return std::any_of(flights.begin(), flights.end(),
                       [&](const Flight& f) { return f.kind == kind && f.container == c; });
}

bool Task::Machine::take_flight(ActionKind kind, std::size_t c)
{
    auto it = std::find_if(flights.begin(), flights.end(),
                           [&](const Flight& f) { return f.kind == kind && f.container == c; });
    if (it == flights.end())
        return false;
    flights.erase(it);
    return true;
}

void Task::Machine::send(Action action, std::size_t c, Time deadline)
{
    if (c != whole_task)
        action.container = spec.containers[c].name;
    if (deadline.count() != 0)
        flights.push_back(Flight{action.kind, c, deadline});
    out.push_back(std::move(action));
}

void Task::Machine::arm(TimerKind kind, std::size_t c, Time due)
{
    disarm(kind, c);
    timers.push_back(Timer{kind, c, due});
}

void Task::Machine::disarm(TimerKind kind, std::size_t c)
{
    std::erase_if(timers, [&](const Timer& t) { return t.kind == kind && t.container == c; });
}

Duration Task::Machine::stop_timeout(std::size_t c) const
{
    return spec.containers[c].stop_timeout.value_or(spec.stop_timeout);
}

void Task::Machine::report_container(std::size_t c)
{
    const auto& s = state.containers[c];
    Action a{ActionKind::ReportContainer,
             {},
             {},
             0,
             Duration{0},
             state.known,
             s.known,
             s.exit_code,
             s.health,
             s.reason,
             StopCode::None};
    send(std::move(a), c, Time{0});
}

void Task::Machine::set_container(std::size_t c, ContainerStatus status, std::string reason)
{
    auto& s = state.containers[c];
    if (!reason.empty() && s.reason.empty())
        s.reason = std::move(reason);
    if (s.known == status)
        return;
    s.known = status;
    if (status == ContainerStatus::Created)
        s.exists = true;
    report_container(c);
}

void Task::Machine::set_task(TaskStatus status)
{
    if (state.known == status)
        return;
    state.known = status;
    Action a{ActionKind::ReportTask,
             {},
             {},
             0,
             Duration{0},
             status,
             ContainerStatus::None,
             std::nullopt,
             HealthStatus::Unknown,
             {},
             StopCode::None};
    if (status == TaskStatus::Stopped) {
        a.reason = state.stopped_reason;
        a.stop_code = state.stop_code;
    }
    send(std::move(a), whole_task, Time{0});
}

// The first reason to stop wins (the ECS backend keeps the first stoppedReason too).
void Task::Machine::fail_task(StopCode code, std::string reason, Time /*now*/)
{
    if (state.desired == TaskStatus::Stopped)
        return;
    state.desired = TaskStatus::Stopped;
    state.stop_code = code;
    state.stopped_reason = std::move(reason);
    for (auto& c : state.containers)
        c.desired = ContainerStatus::Stopped;
}

namespace {

struct Forward { // desired RUNNING: pull, create, start as dependencies allow
    Task::Machine& m;
    Time now;

    void container(std::size_t c)
    {
        const auto& s = m.state.containers[c];
        const auto& t = m.spec.timeouts;
        if (s.desired != ContainerStatus::Running)
            return;
        if (s.known < ContainerStatus::Pulled) {
            if (!m.in_flight(ActionKind::PullImage, c)) {
                Action a{ActionKind::PullImage};
                a.image = m.spec.containers[c].image;
                m.send(std::move(a), c, now + t.pull);
            }
            return;
        }
        const bool create = s.known == ContainerStatus::Pulled;
        const bool start = s.known == ContainerStatus::Created;
        const auto kind = create ? ActionKind::Create : ActionKind::Start;
        if ((!create && !start) || m.in_flight(kind, c))
            return;
        auto verdict = m.dependencies(c, now);
        if (verdict.failure) {
            m.set_container(c, ContainerStatus::Stopped, *verdict.failure);
            m.state.containers[c].desired = ContainerStatus::Stopped;
            m.fail_task(StopCode::TaskFailedToStart, *verdict.failure, now);
            return;
        }
        if (verdict.resolved)
            m.send(Action{kind}, c, now + (create ? t.create : t.start));
    }

    void run()
    {
        if (!m.state.provisioned) {
            if (!m.in_flight(ActionKind::Provision, whole_task))
                m.send(Action{ActionKind::Provision}, whole_task, now + m.spec.timeouts.provision);
            return;
        }
        for (std::size_t c = 0; c < m.spec.containers.size(); ++c) {
            container(c);
            if (m.state.desired != TaskStatus::Running)
                return;
        }
        const auto status = forward_status(m.state.containers);
        if (status > m.state.known)
            m.set_task(status);
    }
};

struct Down { // desired STOPPED: stop containers in reverse dependency order, then deprovision
    Task::Machine& m;
    Time now;

    // verifyShutdownOrder: every container that depends on c has stopped.
    bool dependents_stopped(std::size_t c) const
    {
        const auto& name = m.spec.containers[c].name;
        for (std::size_t o = 0; o < m.spec.containers.size(); ++o)
            for (const auto& d : m.spec.containers[o].depends_on)
                if (d.container == name && m.state.containers[o].known != ContainerStatus::Stopped)
                    return false;
        return true;
    }

    void container(std::size_t c)
    {
        const auto known = m.state.containers[c].known;
        if (known == ContainerStatus::Stopped)
            return;
        if (known < ContainerStatus::Created) {
            if (m.in_flight(ActionKind::Create, c))
                return;                              // it may exist when the answer comes
            m.take_flight(ActionKind::PullImage, c); // its answer is now stale
            m.set_container(c, ContainerStatus::Stopped);
            return;
        }
        if (known == ContainerStatus::Created) {
            if (!m.in_flight(ActionKind::Start, c))
                m.set_container(c, ContainerStatus::Stopped); // no process to signal
            return;
        }
        if (m.term_sent[c] || !dependents_stopped(c))
            return;
        Action a{ActionKind::Signal};
        a.signal = SIGTERM;
        m.send(std::move(a), c, Time{0});
        m.term_sent[c] = true;
        m.arm(TimerKind::Kill, c, now + m.stop_timeout(c));
    }

    void run()
    {
        if (m.state.known < TaskStatus::Deactivating) {
            if (m.state.known >= TaskStatus::Activating)
                m.set_task(TaskStatus::Deactivating); // berth has no load balancer to leave
            m.set_task(TaskStatus::Stopping);
        }
        // Repeat: a container stopping may release the shutdown order of another.
        for (bool again = true; again;) {
            again = false;
            for (std::size_t c = 0; c < m.spec.containers.size(); ++c) {
                const auto before = m.state.containers[c].known;
                container(c);
                again = again || before != m.state.containers[c].known;
            }
        }
        const bool all_stopped =
            std::all_of(m.state.containers.begin(), m.state.containers.end(),
                        [](const auto& s) { return s.known == ContainerStatus::Stopped; });
        if (!all_stopped || m.state.known == TaskStatus::Stopped ||
            m.in_flight(ActionKind::Provision, whole_task))
            return;
        if (m.state.provisioned) {
            m.set_task(TaskStatus::Deprovisioning);
            if (!m.in_flight(ActionKind::Deprovision, whole_task))
                m.send(Action{ActionKind::Deprovision}, whole_task,
                       now + m.spec.timeouts.provision);
            return;
        }
        m.state.stopped_at = now;
        m.set_task(TaskStatus::Stopped);
        m.arm(TimerKind::Cleanup, whole_task, now + m.spec.cleanup_wait);
    }
};

} // namespace

void Task::Machine::progress(Time now)
{
    if (state.desired == TaskStatus::Running)
        Forward{*this, now}.run();
    if (state.desired == TaskStatus::Stopped)
        Down{*this, now}.run();
}

} // namespace berth::engine
