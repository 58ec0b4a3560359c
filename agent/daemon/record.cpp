// agent/daemon/record.cpp — between the three shapes of a task: the task definition (taskdef),
// the engine's spec and state, and the store's record that DescribeTasks shows.
#include <algorithm>
#include <nlohmann/json.hpp>
#include "agent/daemon/pure.hpp"
#include "base/strings.hpp"

namespace berth::daemon {
namespace {

using nlohmann::json;
using std::chrono::seconds;

engine::Condition condition_of(taskdef::Condition c)
{
    switch (c) {
    case taskdef::Condition::Start: return engine::Condition::Start;
    case taskdef::Condition::Complete: return engine::Condition::Complete;
    case taskdef::Condition::Success: return engine::Condition::Success;
    case taskdef::Condition::Healthy: return engine::Condition::Healthy;
    }
    return engine::Condition::Start;
}

engine::ContainerSpec container_spec(const taskdef::ContainerDefinition& c)
{
    engine::ContainerSpec out;
    out.name = c.name;
    out.image = c.image;
    out.essential = c.is_essential();
    for (const auto& d : c.depends_on)
        out.depends_on.push_back({d.container_name, condition_of(d.condition)});
    if (c.health_check) {
        engine::HealthCheckSpec h;
        h.command = c.health_check->command;
        h.interval = seconds(c.health_check->interval);
        h.timeout = seconds(c.health_check->timeout);
        h.retries = c.health_check->retries;
        h.start_period = seconds(c.health_check->start_period.value_or(0));
        out.health_check = std::move(h);
    }
    if (c.start_timeout)
        out.start_timeout = seconds(*c.start_timeout);
    if (c.stop_timeout)
        out.stop_timeout = seconds(*c.stop_timeout);
    return out;
}

} // namespace

engine::TaskSpec task_spec(const taskdef::TaskDefinition& def, const std::string& task_arn,
                           const config::Config& config)
{
    engine::TaskSpec spec;
    spec.arn = task_arn;
    for (const auto& c : def.containers)
        spec.containers.push_back(container_spec(c));
    spec.stop_timeout = config.container_stop_timeout;
    spec.cleanup_wait = config.task_cleanup_wait;
    spec.timeouts.pull = config.image_pull_timeout;
    spec.timeouts.create = config.container_create_timeout;
    spec.timeouts.start = config.container_start_timeout;
    return spec;
}

bool wants_init(const taskdef::ContainerDefinition& container)
{
    const auto& l = container.linux_parameters;
    return l && l->init_process_enabled.value_or(false);
}

bool wants_init(const taskdef::TaskDefinition& def)
{
    for (const auto& c : def.containers)
        if (wants_init(c))
            return true;
    return false;
}

std::string missing_init_detail(const std::string& init_path)
{
    return cat("linuxParameters.initProcessEnabled: this node has no init binary at ",
               quoted(init_path), " (BERTH_INIT_PATH; Debian's tini package installs it)");
}

engine::Demand task_demand(const taskdef::TaskDefinition& def)
{
    std::vector<engine::ContainerDemand> containers;
    for (const auto& c : def.containers) {
        engine::ContainerDemand d;
        d.cpu_units = static_cast<std::uint64_t>(c.cpu.value_or(0));
        if (c.memory)
            d.memory_mib = static_cast<std::uint64_t>(*c.memory);
        if (c.memory_reservation)
            d.memory_reservation_mib = static_cast<std::uint64_t>(*c.memory_reservation);
        containers.push_back(d);
    }
    auto to_u64 = [](std::optional<int> v) {
        return v ? std::optional<std::uint64_t>(static_cast<std::uint64_t>(*v)) : std::nullopt;
    };
    auto demand = engine::task_demand(to_u64(def.cpu), to_u64(def.memory), containers);
    for (const auto& c : def.containers)
        for (const auto& p : c.port_mappings) {
            const auto host = def.network() == taskdef::NetworkMode::Bridge
                                  ? p.host_port.value_or(0)
                                  : p.host_port.value_or(p.container_port);
            if (host == 0 || def.network() == taskdef::NetworkMode::Awsvpc)
                continue; // dynamic, or inside the task's own namespace
            (p.protocol == taskdef::Protocol::Tcp ? demand.tcp_ports : demand.udp_ports)
                .push_back(host);
        }
    return demand;
}

std::vector<net::PortMapping> port_mappings(const taskdef::TaskDefinition& def)
{
    std::vector<net::PortMapping> out;
    for (const auto& c : def.containers)
        for (const auto& p : c.port_mappings) {
            net::PortMapping m;
            m.container_port = p.container_port;
            m.host_port = p.host_port.value_or(0);
            m.protocol =
                p.protocol == taskdef::Protocol::Tcp ? net::Protocol::Tcp : net::Protocol::Udp;
            out.push_back(m);
        }
    return out;
}

net::Mode network_mode(const taskdef::TaskDefinition& def)
{
    switch (def.network()) {
    case taskdef::NetworkMode::Awsvpc: return net::Mode::Awsvpc;
    case taskdef::NetworkMode::Host: return net::Mode::Host;
    case taskdef::NetworkMode::None: return net::Mode::None;
    case taskdef::NetworkMode::Bridge: break;
    }
    return net::Mode::Bridge;
}

std::string task_id_of(std::string_view task_arn)
{
    const auto slash = task_arn.rfind('/');
    return std::string(slash == std::string_view::npos ? task_arn : task_arn.substr(slash + 1));
}

std::string runtime_id_of(std::string_view task_arn, std::string_view container)
{
    return cat(task_id_of(task_arn), "-", container);
}

namespace {
constexpr std::string_view pause_suffix = ".pause";
} // namespace

std::string pause_id_of(std::string_view task_id)
{
    return cat(task_id, pause_suffix);
}

std::string task_of_pause(std::string_view runtime_id)
{
    if (runtime_id.size() <= pause_suffix.size() ||
        runtime_id.substr(runtime_id.size() - pause_suffix.size()) != pause_suffix)
        return {};
    return std::string(runtime_id.substr(0, runtime_id.size() - pause_suffix.size()));
}

bool is_task_id(std::string_view name)
{
    return name.size() == 32 && std::all_of(name.begin(), name.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

std::vector<std::string> stale_task_cgroups(const std::vector<std::string>& children,
                                            const std::set<std::string>& keep)
{
    std::vector<std::string> out;
    for (const auto& name : children)
        if (is_task_id(name) && keep.count(name) == 0)
            out.push_back(name);
    return out;
}

std::string container_status_name(engine::ContainerStatus status)
{
    switch (status) {
    case engine::ContainerStatus::Running:
    case engine::ContainerStatus::ResourcesProvisioned: return "RUNNING";
    case engine::ContainerStatus::Stopped: return "STOPPED";
    default: return "PENDING";
    }
}

void update_record(store::Task& record, const engine::TaskState& state, std::int64_t now)
{
    record.last_status = std::string(engine::name_of(state.known));
    record.desired_status = std::string(engine::name_of(state.desired));
    record.stop_code = std::string(engine::name_of(state.stop_code));
    record.stopped_reason = state.stopped_reason;
    if (state.known == engine::TaskStatus::Running && record.started_at == 0)
        record.started_at = now;
    if (state.desired == engine::TaskStatus::Stopped && record.stopping_at == 0)
        record.stopping_at = now;
    if (state.known == engine::TaskStatus::Stopped && record.stopped_at == 0)
        record.stopped_at = now;
    for (std::size_t i = 0; i < record.containers.size() && i < state.containers.size(); ++i) {
        auto& c = record.containers[i];
        const auto& s = state.containers[i];
        c.last_status = container_status_name(s.known);
        c.desired_status = container_status_name(s.desired);
        c.exit_code = s.exit_code;
        c.reason = s.reason;
        c.health_status = std::string(engine::name_of(s.health));
    }
    ++record.version;
}

std::string network_bindings_json(const taskdef::ContainerDefinition& container,
                                  const std::vector<net::PortMapping>& resolved)
{
    json out = json::array();
    auto add = [&](const net::PortMapping& r) {
        out.push_back({{"bindIP", r.host_ip.empty() ? "0.0.0.0" : r.host_ip},
                       {"containerPort", r.container_port},
                       {"hostPort", r.host_port},
                       {"protocol", std::string(net::protocol_name(r.protocol))}});
    };
    // net resolves the mappings in request order: the i-th is this container's i-th, even when
    // one containerPort is mapped twice (to two host ports) or two containers map the same one.
    if (resolved.size() == container.port_mappings.size()) {
        for (const auto& r : resolved)
            add(r);
        return out.dump();
    }
    // Defensive (not net's order): fixed host ports pair first, then dynamic ones take what is
    // left with the same containerPort and protocol; each resolved mapping is used once.
    std::vector<bool> used(resolved.size(), false);
    std::vector<std::optional<std::size_t>> pick(container.port_mappings.size());
    for (const bool fixed : {true, false})
        for (std::size_t m = 0; m < container.port_mappings.size(); ++m) {
            const auto& p = container.port_mappings[m];
            const auto host = p.host_port.value_or(0);
            if ((host != 0) != fixed)
                continue;
            const auto protocol =
                p.protocol == taskdef::Protocol::Tcp ? net::Protocol::Tcp : net::Protocol::Udp;
            for (std::size_t i = 0; i < resolved.size() && !pick[m]; ++i)
                if (!used[i] && resolved[i].container_port == p.container_port &&
                    resolved[i].protocol == protocol && (!fixed || resolved[i].host_port == host)) {
                    used[i] = true;
                    pick[m] = i;
                }
        }
    for (const auto& i : pick)
        if (i)
            add(resolved[*i]);
    return out.dump();
}

std::string network_interfaces_json(const std::string& task_id, const std::string& address)
{
    json out = json::array();
    out.push_back({{"attachmentId", task_id}, {"privateIpv4Address", address}});
    return out.dump();
}

ExitReport exit_report(const runtime::ExitRecord& record)
{
    // Killed for memory, even when its reaper was not its parent (so it knows no exit status):
    // the OOM killer's SIGKILL, 137, as ECS reports it.
    if (record.oom_killed)
        return {137, "OutOfMemoryError: Container killed due to memory usage"};
    // Not its reaper's to know: a supervisor started after its own died re-adopted it and saw
    // it end (finished_ns), or none was running when it ended (its supervisor was killed).
    if (record.exit_unknown)
        return {137, record.finished_ns > 0
                         ? "exit status unknown (its supervisor was restarted)"
                         : "exit status unknown (no supervisor was running when it ended)"};
    return {record.status(), {}};
}

// A timely Provisioned sets provisioned (only Deprovisioned clears it); a timely Created
// sets exists; a timely Started makes the container RUNNING (only its exit moves it on).
bool late_provisioned(const engine::TaskState& after)
{
    return !after.provisioned;
}

bool late_created(const engine::TaskState& after, std::size_t container)
{
    return !after.containers.at(container).exists;
}

bool late_started(const engine::TaskState& after, std::size_t container)
{
    return after.containers.at(container).known != engine::ContainerStatus::Running;
}

} // namespace berth::daemon
