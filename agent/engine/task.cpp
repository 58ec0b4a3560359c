// agent/engine/task.cpp — engine::Task: spec validation, the public calls, and restore() after an
// agent restart. Validation mirrors what the ECS agent refuses before running a task
// (dependencygraph.ValidDependencies: every dependsOn resolvable in some order, i.e. no cycle and
// no unknown name); restore mirrors engine.synchronizeState (statuses only move forward; a
// container the runtime lost is STOPPED as vanished; exit codes learnt from the runtime).
#include <algorithm>
#include <set>
#include <utility>
#include "agent/engine/machine.hpp"

namespace berth::engine {
namespace {

Result<void> check_names(const TaskSpec& spec)
{
    if (spec.containers.empty())
        return Error::invalid("task ", quoted(spec.arn), ": containerDefinitions is empty");
    std::set<std::string_view> names;
    bool essential = false;
    for (std::size_t i = 0; i < spec.containers.size(); ++i) {
        const auto& c = spec.containers[i];
        if (c.name.empty())
            return Error::invalid("containerDefinitions[", i, "].name is empty");
        if (!names.insert(c.name).second)
            return Error::invalid("containerDefinitions[", i, "].name ", quoted(c.name),
                                  " is used twice");
        essential = essential || c.essential;
    }
    if (!essential)
        return Error::invalid("containerDefinitions: at least one container must be essential");
    return {};
}

Result<void> check_health(const ContainerSpec& c)
{
    const auto& h = *c.health_check;
    if (h.command.empty())
        return Error::invalid("container ", quoted(c.name), ": healthCheck.command is empty");
    if (h.interval.count() <= 0 || h.timeout.count() <= 0 || h.retries < 1 ||
        h.start_period.count() < 0)
        return Error::invalid("container ", quoted(c.name),
                              ": healthCheck interval and timeout must be positive, retries >= 1,"
                              " startPeriod >= 0");
    return {};
}

Result<void> check_dependencies(const TaskSpec& spec)
{
    auto find = [&](std::string_view name) -> const ContainerSpec* {
        for (const auto& c : spec.containers)
            if (c.name == name)
                return &c;
        return nullptr;
    };
    for (const auto& c : spec.containers) {
        if (c.health_check)
            if (auto ok = check_health(c); !ok)
                return ok;
        for (const auto& d : c.depends_on) {
            const auto* target = find(d.container);
            if (target == nullptr)
                return Error::invalid("container ", quoted(c.name), ": dependsOn names unknown ",
                                      "container ", quoted(d.container));
            if (target == &c)
                return Error::invalid("container ", quoted(c.name), ": dependsOn itself");
            if (d.condition == Condition::Healthy && !target->health_check)
                return Error::invalid("container ", quoted(c.name), ": dependsOn ",
                                      quoted(d.container),
                                      " HEALTHY, but that container has no healthCheck");
        }
    }
    // ValidDependencies: repeatedly resolve a container whose dependencies are all resolved.
    std::set<std::string_view> resolved;
    while (resolved.size() < spec.containers.size()) {
        bool moved = false;
        for (const auto& c : spec.containers) {
            if (resolved.count(c.name) != 0)
                continue;
            const bool ready =
                std::all_of(c.depends_on.begin(), c.depends_on.end(),
                            [&](const auto& d) { return resolved.count(d.container); });
            if (ready) {
                resolved.insert(c.name);
                moved = true;
            }
        }
        if (!moved)
            return Error::invalid("task ", quoted(spec.arn), ": dependsOn forms a cycle");
    }
    return {};
}

// One observed fact applied to a restored container; statuses only move forward.
void adopt(Task::Machine& m, std::size_t c, const Observed& seen, Time now)
{
    auto& s = m.state.containers[c];
    if (s.known == ContainerStatus::Stopped)
        return;
    if (seen.exists && seen.running) {
        s.exists = true;
        if (s.known < ContainerStatus::Running) {
            s.created_at = s.created_at.value_or(now);
            s.started_at = s.started_at.value_or(now);
            m.set_container(c, ContainerStatus::Running);
        }
        return;
    }
    if (seen.exists && seen.exit_code) {
        s.exists = true;
        m.on_exit(c, seen.exit_code, seen.reason, now);
        if (seen.finished_at)
            s.finished_at = *seen.finished_at;
        return;
    }
    if (seen.exists) { // created, never started (a crash between create and start)
        s.exists = true;
        if (s.known < ContainerStatus::Created) {
            s.created_at = s.created_at.value_or(now);
            m.set_container(c, ContainerStatus::Created);
        }
        return;
    }
    if (s.known >= ContainerStatus::Created) // ECS: ContainerVanishedError
        m.on_exit(c, std::nullopt, "ContainerVanished: the runtime no longer knows this container",
                  now);
}

} // namespace

Task::Task(std::unique_ptr<Machine> machine) : m_(std::move(machine))
{
}
Task::Task(Task&&) noexcept = default;
Task& Task::operator=(Task&&) noexcept = default;
Task::~Task() = default;

Result<Task> Task::create(TaskSpec spec)
{
    if (auto ok = check_names(spec); !ok)
        return std::move(ok).error();
    if (auto ok = check_dependencies(spec); !ok)
        return std::move(ok).error();
    auto m = std::make_unique<Machine>();
    m->state.containers.resize(spec.containers.size());
    m->term_sent.assign(spec.containers.size(), false);
    m->spec = std::move(spec);
    return Task(std::move(m));
}

Result<Task> Task::restore(TaskSpec spec, TaskState saved, const std::vector<Observed>& seen,
                           Time now)
{
    if (saved.containers.size() != spec.containers.size())
        return Error::invalid("restore task ", quoted(spec.arn), ": the saved state has ",
                              saved.containers.size(), " containers, the definition ",
                              spec.containers.size());
    auto task = create(std::move(spec));
    if (!task)
        return std::move(task).error().wrap("restore task");
    auto& m = *task->m_;
    m.state = std::move(saved);
    for (const auto& o : seen) {
        auto c = m.index_of(o.container);
        if (!c)
            return Error::invalid("restore task ", quoted(m.spec.arn), ": observed container ",
                                  quoted(o.container), " is not in the task");
        adopt(m, *c, o, now);
    }
    // Running containers whose record said running but which nobody reported: the runtime's
    // view is the truth, and a container it does not mention is gone.
    for (std::size_t c = 0; c < m.spec.containers.size(); ++c) {
        const bool mentioned = std::any_of(seen.begin(), seen.end(), [&](const Observed& o) {
            return o.container == m.spec.containers[c].name;
        });
        if (!mentioned)
            adopt(m, c, Observed{m.spec.containers[c].name, false, false, std::nullopt}, now);
    }
    return task;
}

std::vector<Action> Task::begin(Time now)
{
    auto& m = *m_;
    for (std::size_t c = 0; c < m.spec.containers.size(); ++c) {
        const auto& s = m.state.containers[c];
        if (s.known == ContainerStatus::Running && m.spec.containers[c].health_check)
            m.arm(TimerKind::Probe, c, now + m.spec.containers[c].health_check->interval);
        if (s.known == ContainerStatus::Running)
            m.arm_dependency_timer(c);
    }
    if (m.state.known == TaskStatus::Stopped && m.state.stopped_at)
        m.arm(TimerKind::Cleanup, whole_task, *m.state.stopped_at + m.spec.cleanup_wait);
    m.progress(now);
    return std::exchange(m.out, {});
}

std::vector<Action> Task::handle(const Event& event, Time now)
{
    m_->on_event(event, now);
    m_->progress(now);
    return std::exchange(m_->out, {});
}

std::vector<Action> Task::on_timer(Time now)
{
    m_->on_timers(now);
    m_->progress(now);
    return std::exchange(m_->out, {});
}

std::vector<Action> Task::stop(std::string reason, Time now)
{
    m_->fail_task(StopCode::UserInitiated,
                  reason.empty() ? std::string("Task stopped by user") : std::move(reason), now);
    m_->progress(now);
    return std::exchange(m_->out, {});
}

std::optional<Time> Task::next_deadline() const
{
    std::optional<Time> next;
    for (const auto& t : m_->timers)
        if (!next || t.due < *next)
            next = t.due;
    for (const auto& f : m_->flights)
        if (!next || f.deadline < *next)
            next = f.deadline;
    return next;
}

const TaskSpec& Task::spec() const
{
    return m_->spec;
}
const TaskState& Task::state() const
{
    return m_->state;
}
bool Task::finished() const
{
    return m_->removed;
}

} // namespace berth::engine
