// agent/engine/events.cpp — what each answer and timer changes. After amazon-ecs-agent:
// agent/api/task/task.go updateTaskDesiredStatusUnsafe (the task's desired status becomes
// STOPPED as soon as an essential container is stopped, and every container's desired status
// follows the task's); agent/engine/task_manager.go handleContainerChange (a status only moves
// forward: an answer at or below the known status is redundant) and handleEventError (a container
// that cannot be pulled, created or started is STOPPED with its error, CannotPullContainerError,
// CannotCreateContainerError, CannotStartContainerError); an action that does not answer in time
// fails like the ECS agent's DockerTimeoutError. Health follows Docker's rules, which the ECS
// agent reports: a probe every interval, `retries` consecutive failures make UNHEALTHY, one
// success makes HEALTHY, failures during startPeriod do not count.
#include <algorithm>
#include <csignal>
#include "agent/engine/machine.hpp"

namespace berth::engine {
namespace {

constexpr Duration kill_retry = std::chrono::seconds(10);

std::string seconds(Duration d)
{
    return cat(d.count() / 1000, "s");
}

} // namespace

void Task::Machine::on_exit(std::size_t c, std::optional<int> code, std::string reason, Time now)
{
    auto& s = state.containers[c];
    s.exit_code = code;
    s.finished_at = now;
    disarm(TimerKind::Kill, c);
    disarm(TimerKind::Probe, c);
    take_flight(ActionKind::HealthProbe, c);
    s.desired = ContainerStatus::Stopped;
    set_container(c, ContainerStatus::Stopped, std::move(reason));
    if (spec.containers[c].essential)
        fail_task(StopCode::EssentialContainerExited, "Essential container in task exited", now);
}

void Task::Machine::on_health(std::size_t c, bool healthy, Time now)
{
    auto& s = state.containers[c];
    const auto& h = *spec.containers[c].health_check;
    if (s.known != ContainerStatus::Running)
        return;
    const auto before = s.health;
    const bool starting = s.started_at && now < *s.started_at + h.start_period;
    if (healthy) {
        s.failed_probes = 0;
        s.health = HealthStatus::Healthy;
    } else if (!starting && ++s.failed_probes >= h.retries) {
        s.health = HealthStatus::Unhealthy;
    }
    if (s.health != before)
        report_container(c);
    arm(TimerKind::Probe, c, now + h.interval);
}

namespace {

void start_failed(Task::Machine& m, std::size_t c, std::string reason, Time now)
{
    m.state.containers[c].desired = ContainerStatus::Stopped;
    m.set_container(c, ContainerStatus::Stopped, reason);
    if (m.spec.containers[c].essential)
        m.fail_task(StopCode::TaskFailedToStart, std::move(reason), now);
}

} // namespace

void Task::Machine::on_event(const Event& e, Time now)
{
    const bool task_wide = e.kind == EventKind::Provisioned ||
                           e.kind == EventKind::ProvisionFailed ||
                           e.kind == EventKind::Deprovisioned;
    const auto found = task_wide ? std::optional<std::size_t>(whole_task) : index_of(e.container);
    if (!found)
        return; // not ours: an answer for a container this task does not have
    const auto c = *found;
    switch (e.kind) {
    case EventKind::Provisioned:
        if (take_flight(ActionKind::Provision, c))
            state.provisioned = true;
        return;
    case EventKind::ProvisionFailed:
        if (take_flight(ActionKind::Provision, c)) // Provision cleans up after its own failure
            fail_task(StopCode::TaskFailedToStart, "ResourceInitializationError: " + e.reason, now);
        return;
    case EventKind::Deprovisioned:
        if (take_flight(ActionKind::Deprovision, c))
            state.provisioned = false;
        return;
    case EventKind::PullDone:
        if (take_flight(ActionKind::PullImage, c) &&
            state.containers[c].known < ContainerStatus::Pulled)
            set_container(c, ContainerStatus::Pulled);
        return;
    case EventKind::PullFailed:
        if (take_flight(ActionKind::PullImage, c))
            start_failed(*this, c, "CannotPullContainerError: " + e.reason, now);
        return;
    case EventKind::Created:
        if (take_flight(ActionKind::Create, c) &&
            state.containers[c].known < ContainerStatus::Created) {
            state.containers[c].created_at = now;
            set_container(c, ContainerStatus::Created);
        }
        return;
    case EventKind::CreateFailed:
        if (take_flight(ActionKind::Create, c))
            start_failed(*this, c, "CannotCreateContainerError: " + e.reason, now);
        return;
    case EventKind::Started:
        if (!take_flight(ActionKind::Start, c) ||
            state.containers[c].known != ContainerStatus::Created)
            return;
        state.containers[c].started_at = now;
        set_container(c, ContainerStatus::Running);
        if (spec.containers[c].health_check)
            arm(TimerKind::Probe, c, now + spec.containers[c].health_check->interval);
        arm_dependency_timer(c);
        return;
    case EventKind::StartFailed:
        if (take_flight(ActionKind::Start, c))
            start_failed(*this, c, "CannotStartContainerError: " + e.reason, now);
        return;
    case EventKind::Exited:
        // A start whose answer was lost still ran the process: the exit is the proof.
        take_flight(ActionKind::Start, c);
        if (state.containers[c].known >= ContainerStatus::Created &&
            state.containers[c].known != ContainerStatus::Stopped) {
            if (!state.containers[c].started_at)
                state.containers[c].started_at = now;
            on_exit(c, e.exit_code, e.reason, now); // "OutOfMemoryError: ..." when OOM-killed
        }
        return;
    case EventKind::HealthResult:
        if (take_flight(ActionKind::HealthProbe, c))
            on_health(c, e.healthy, now);
        return;
    }
}

namespace {

// The failure an unanswered action stands for, fed back through on_event.
std::optional<Event> timeout_event(const Task::Machine& m, ActionKind kind, std::size_t c)
{
    const auto& t = m.spec.timeouts;
    const std::string name = c == whole_task ? std::string() : m.spec.containers[c].name;
    switch (kind) {
    case ActionKind::Provision:
        return Event{EventKind::ProvisionFailed, name, 0, false,
                     "timed out after " + seconds(t.provision)};
    case ActionKind::PullImage:
        return Event{EventKind::PullFailed, name, 0, false, "timed out after " + seconds(t.pull)};
    case ActionKind::Create:
        return Event{EventKind::CreateFailed, name, 0, false,
                     "DockerTimeoutError: could not transition to created; timed out after " +
                         seconds(t.create)};
    case ActionKind::Start:
        return Event{EventKind::StartFailed, name, 0, false,
                     "DockerTimeoutError: could not transition to running; timed out after " +
                         seconds(t.start)};
    case ActionKind::HealthProbe:
        return Event{EventKind::HealthResult, name, 0, false, "health probe timed out"};
    default: return std::nullopt; // Deprovision: progress() sends it again
    }
}

} // namespace

void Task::Machine::on_timers(Time now)
{
    std::vector<Flight> late;
    for (const auto& f : flights)
        if (f.deadline <= now)
            late.push_back(f);
    for (const auto& f : late) {
        if (auto e = timeout_event(*this, f.kind, f.container))
            on_event(*e, now);
        else
            take_flight(f.kind, f.container);
    }
    std::vector<Timer> due;
    for (const auto& t : timers)
        if (t.due <= now)
            due.push_back(t);
    std::erase_if(timers, [&](const Timer& t) { return t.due <= now; });
    for (const auto& t : due) {
        const auto c = t.container;
        switch (t.kind) {
        case TimerKind::Kill:
            if (state.containers[c].known != ContainerStatus::Stopped) {
                Action a{ActionKind::Signal};
                a.signal = SIGKILL;
                send(std::move(a), c, Time{0});
                // Sent again until the exit is seen: a lost signal must not leave the task
                // STOPPING for ever (the ECS agent retries a failed stop the same way).
                arm(TimerKind::Kill, c, now + kill_retry);
            }
            break;
        case TimerKind::Probe: {
            const auto& s = state.containers[c];
            if (s.known != ContainerStatus::Running || s.desired != ContainerStatus::Running ||
                in_flight(ActionKind::HealthProbe, c))
                break;
            const auto& h = *spec.containers[c].health_check;
            Action a{ActionKind::HealthProbe};
            a.timeout = h.timeout;
            // The prober enforces `timeout`; the deadline only catches a lost answer.
            send(std::move(a), c, now + h.timeout + std::chrono::seconds(1));
            break;
        }
        case TimerKind::Dependency: break; // progress() re-checks the dependents
        case TimerKind::Cleanup:
            for (std::size_t i = 0; i < spec.containers.size(); ++i)
                if (state.containers[i].exists)
                    send(Action{ActionKind::Remove}, i, Time{0});
            removed = true;
            break;
        }
    }
}

} // namespace berth::engine
