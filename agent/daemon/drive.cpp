// agent/daemon/drive.cpp — the loop's side of the engine: every call's snapshot is written to
// the store before the actions it returned are performed (the ECS agent's rule: state before
// the action it records), then the actions run and the task's timer is re-armed at the engine's
// next deadline. A STOPPED task waits for its cleanup as a compact record (stopped.cpp); a finished
// task (its cleanup wait over) goes to cleanup.cpp, which writes it finished only once its
// containers are removed.
#include "agent/daemon/internal.hpp"
#include "base/log.hpp"

namespace berth::daemon {

engine::Time now_ms()
{
    return std::chrono::duration_cast<engine::Time>(
        std::chrono::system_clock::now().time_since_epoch());
}

std::int64_t now_s()
{
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

TaskEntry* Daemon::Impl::find(const std::string& arn)
{
    const auto it = tasks.find(arn);
    return it == tasks.end() ? nullptr : it->second.get();
}

Result<void> Daemon::Impl::persist(TaskEntry& task)
{
    update_record(task.record, task.engine->state(), now_s());
    // A finished task keeps its snapshot until its cleanup is done (cleanup.cpp): written ""
    // only once nothing of it is left, so a crash before that resumes the removal.
    task.record.engine_state = state_to_json(task.engine->state());
    return store.put_task(task.record);
}

namespace {

// What makes something a restart must know of: not done unless the state before it is durable.
bool makes_something(engine::ActionKind kind)
{
    return kind == engine::ActionKind::Provision || kind == engine::ActionKind::Create ||
           kind == engine::ActionKind::Start;
}

} // namespace

void Daemon::Impl::release_holds(TaskEntry& task)
{
    ledger.release(task.record.arn); // idempotent
    pulls.forget(task.record.arn);
    for (auto& c : task.containers)
        if (!c.container && c.leased) { // never created: no Remove will release it
            release_lease(c.runtime_id);
            c.leased = false;
        }
}

void Daemon::Impl::apply(TaskEntry& task, const std::vector<engine::Action>& actions)
{
    const auto durable = persist(task);
    task.stored = static_cast<bool>(durable);
    if (!durable)
        log::error(durable.error(),
                   "CANNOT WRITE TASK STATE: its Provision/Create/Start actions are not performed "
                   "(they time out in the engine); stops and removals go on",
                   {{"task", task.record.arn}});
    // STOPPED comes after Deprovision (or without Provision ever succeeding: then no
    // Deprovision runs), so the task's reservation and never-used leases go here at the latest.
    const bool stopped = task.engine->state().known == engine::TaskStatus::Stopped;
    if (stopped)
        release_holds(task);
    const std::string arn = task.record.arn;
    for (const auto& action : actions) {
        if (!durable && makes_something(action.kind))
            continue;
        if (action.kind == engine::ActionKind::Remove && task.engine->finished())
            continue; // the whole task's cleanup below removes every container
        perform(task, action);
        if (find(arn) == nullptr)
            return;
    }
    if (task.engine->finished()) {
        log::info("task finished, removing its containers", {{"task", arn}});
        if (task.timer)
            task.timer->cancel();
        begin_cleanup(task);
        // Later callbacks look the task up by ARN and find nothing: erasing is safe here, but
        // the caller may still hold the reference, so the erase runs after it returns.
        asio::post(io, [this, arn] { tasks.erase(arn); });
        return;
    }
    arm_timer(task);
    if (stopped) {
        // Kept compact from now on if nothing of it is in flight (stopped.cpp); posted, as the
        // erase above: the caller may still hold the entry.
        asio::post(io, [this, arn] { compact(arn); });
        note_if_idle();
    }
}

void Daemon::Impl::deliver(const std::string& arn, const engine::Event& event)
{
    auto* task = find(arn);
    if (task == nullptr)
        return; // finished meanwhile
    apply(*task, task->engine->handle(event, now_ms()));
}

void Daemon::Impl::arm_timer(TaskEntry& task)
{
    const auto deadline = task.engine->next_deadline();
    if (!deadline)
        return;
    if (!task.timer)
        task.timer = std::make_unique<asio::system_timer>(io);
    task.timer->expires_at(std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(*deadline)));
    task.timer->async_wait([this, arn = task.record.arn](const boost::system::error_code& ec) {
        if (ec)
            return; // cancelled: re-armed or finished
        if (auto* t = find(arn))
            apply(*t, t->engine->on_timer(now_ms()));
    });
}

} // namespace berth::daemon
