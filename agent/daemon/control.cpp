// agent/daemon/control.cpp — the ControlPlane seam: the API's io thread hands each call to the
// loop and waits for the answer (the loop never blocks, so the wait is short). RunTask admits
// each task against the host's capacity (engine::Ledger: failures[] RESOURCE:* as ECS reports
// them), writes it to the store, and only then starts the engine.
#include <fcntl.h>
#include <unistd.h>
#include <array>
#include <future>
#include "agent/daemon/internal.hpp"
#include "base/fd.hpp"
#include "base/log.hpp"

namespace berth::daemon {
namespace {

std::string random_id() // 32 lowercase hex digits, the shape of ECS task ids
{
    std::array<unsigned char, 16> bytes{};
    const Fd random(::open("/dev/urandom", O_RDONLY | O_CLOEXEC));
    if (!random.valid() ||
        ::read(random.get(), bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()))
        std::abort(); // no randomness: ids would collide; nothing sane to do
    std::string out;
    for (const auto b : bytes) {
        constexpr const char* hex = "0123456789abcdef";
        out += hex[b >> 4U];
        out += hex[b & 15U];
    }
    return out;
}

std::string units_text(std::optional<int> units)
{
    return units ? std::to_string(*units) : std::string();
}

} // namespace

std::unique_ptr<TaskEntry> Daemon::Impl::new_task(const api::RunTaskRequest& request,
                                                  const taskdef::TaskDefinition& def)
{
    auto task = std::make_unique<TaskEntry>();
    task->def = def;
    auto& r = task->record;
    const auto id = random_id();
    r.arn = cat("arn:aws:ecs:", options.config.region, ":", options.account_id, ":task/",
                request.cluster, "/", id);
    r.cluster = request.cluster;
    r.task_definition_arn = request.task_definition_arn;
    r.container_instance_arn = node.container_instance_arn;
    r.started_by = request.started_by;
    r.group = request.group.empty() ? cat("family:", def.family) : request.group;
    r.overrides = request.overrides;
    r.cpu = units_text(def.cpu);
    r.memory = units_text(def.memory);
    r.created_at = now_s();
    for (const auto& c : task->def.containers) {
        store::Container sc;
        sc.name = c.name;
        sc.arn = cat("arn:aws:ecs:", options.config.region, ":", options.account_id, ":container/",
                     request.cluster, "/", id, "/", random_id());
        sc.image = c.image;
        sc.runtime_id = runtime_id_of(r.arn, c.name); // written before create
        sc.network_bindings = "[]";
        sc.essential = c.is_essential();
        sc.health_check = c.health_check.has_value();
        task->containers.push_back({sc.runtime_id});
        r.containers.push_back(std::move(sc));
    }
    return task;
}

// All or nothing: every task of the call is built and admitted (what does not fit is a
// failures[] entry, as ECS reports per task), then all of them, their tags and the client
// token are written in one transaction, and only then does any of them begin. A failure
// before that releases every reservation of the call: no task of it runs, none is recorded.
Result<api::RunTaskResult> Daemon::Impl::admit(const api::RunTaskRequest& request)
{
    auto def = taskdef::parse_task_definition_text(request.task_definition.body);
    if (!def)
        return std::move(def).error().wrap("taskDefinition");
    def->revision = request.task_definition.revision;
    if (auto r = apply_overrides(*def, request.overrides); !r)
        return std::move(r).error();
    if (request.network_configuration != "{}" && def->network() != taskdef::NetworkMode::Awsvpc)
        return Error::invalid("networkConfiguration: only for networkMode awsvpc");
    // A node without its init cannot run the task, as ECS answers for an instance without an
    // attribute the task needs: a failures[] entry per task, nothing started. Checked here so
    // that it is said at once; a binary gone by create time fails that task's create instead.
    const bool init_missing =
        wants_init(*def) && ::access(options.config.init_path.c_str(), X_OK) != 0;
    if (!request.client_token.empty())
        if (auto earlier = replay(request))
            return std::move(*earlier);
    api::RunTaskResult result;
    std::vector<std::unique_ptr<TaskEntry>> admitted;
    auto release_all = [&] {
        for (const auto& t : admitted)
            ledger.release(t->record.arn);
    };
    for (int i = 0; i < request.count; ++i) {
        if (init_missing) {
            result.failures.push_back({node.container_instance_arn, "ATTRIBUTE",
                                       missing_init_detail(options.config.init_path)});
            continue;
        }
        auto task = new_task(request, *def);
        auto engine = engine::Task::create(task_spec(task->def, task->record.arn, options.config));
        if (!engine) {
            release_all();
            return std::move(engine).error().wrap("taskDefinition");
        }
        if (auto held = ledger.reserve(task->record.arn, task_demand(task->def)); !held) {
            const auto& why = held.error().context;
            result.failures.push_back(
                {node.container_instance_arn, why.substr(0, why.find(' ')), why});
            continue;
        }
        task->engine = std::move(*engine);
        update_record(task->record, task->engine->state(), now_s());
        task->record.engine_state = state_to_json(task->engine->state());
        admitted.push_back(std::move(task));
    }
    std::vector<store::Task> records;
    records.reserve(admitted.size());
    for (const auto& t : admitted)
        records.push_back(t->record);
    std::optional<store::ClientToken> token;
    if (!request.client_token.empty())
        token = store::ClientToken{request.cluster, request.client_token, fingerprint(request),
                                   result_text(records, result.failures), now_s()};
    if (auto durable =
            store.put_new_tasks(records, request.tags, token, now_s() - client_token_lifetime_s);
        !durable) {
        release_all(); // durable before anything is made: nothing of this call starts
        return std::move(durable).error().wrap("store the new tasks");
    }
    for (auto& task : admitted) {
        auto* entry = task.get();
        tasks[entry->record.arn] = std::move(task);
        apply(*entry, entry->engine->begin(now_ms()));
        result.tasks.push_back(entry->record);
    }
    return result;
}

Result<std::optional<store::Task>> Daemon::Impl::stop(const api::StopTaskRequest& request)
{
    if (auto* task = find(request.task_arn)) {
        if (task->record.cluster != request.cluster)
            return std::optional<store::Task>{};
        const auto reason = request.reason.empty() ? "Task stopped by user" : request.reason;
        apply(*task, task->engine->stop(reason, now_ms()));
        return std::optional<store::Task>(task->record);
    }
    auto stored = store.task(request.task_arn); // finished: shown as it ended
    if (!stored || !*stored || (*stored)->cluster != request.cluster)
        return stored ? std::optional<store::Task>{} : stored;
    return stored;
}

Result<api::RunTaskResult> Daemon::run_task(const api::RunTaskRequest& request)
{
    return impl_->on_loop<api::RunTaskResult>([this, request] { return impl_->admit(request); });
}

Result<std::optional<store::Task>> Daemon::stop_task(const api::StopTaskRequest& request)
{
    return impl_->on_loop<std::optional<store::Task>>(
        [this, request] { return impl_->stop(request); });
}

Result<std::vector<store::Task>> Daemon::describe_tasks(const std::string& cluster,
                                                        const std::vector<std::string>& arns)
{
    return impl_->on_loop<std::vector<store::Task>>(
        [this, cluster, arns]() -> Result<std::vector<store::Task>> {
            std::vector<store::Task> out;
            for (const auto& arn : arns) {
                auto task = impl_->store.task(arn);
                if (!task)
                    return std::move(task).error();
                if (*task && (*task)->cluster == cluster)
                    out.push_back(std::move(**task));
            }
            return out;
        });
}

Result<std::vector<store::Task>> Daemon::list_tasks(const store::TaskFilter& filter)
{
    return impl_->on_loop<std::vector<store::Task>>(
        [this, filter] { return impl_->store.tasks(filter); });
}

} // namespace berth::daemon
