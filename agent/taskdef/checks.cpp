// agent/taskdef/checks.cpp — the rules between fields, as ECS applies them at registration:
// names and references, dependency order, network mode against ports and hostname, memory and
// CPU against the task's size. Each refusal names the field that breaks the rule.
#include <functional>
#include <map>
#include <set>
#include "agent/taskdef/internal.hpp"

namespace berth::taskdef::internal {

namespace {

std::string container_path(std::size_t i)
{
    return json_read::index("containerDefinitions", i);
}

Result<void> check_names(const TaskDefinition& t)
{
    std::map<std::string_view, std::size_t> seen;
    bool essential = false;
    for (std::size_t i = 0; i < t.containers.size(); ++i) {
        const auto& c = t.containers[i];
        if (auto [it, fresh] = seen.emplace(c.name, i); !fresh)
            return Error::invalid(container_path(i), ".name: ", berth::quoted(c.name),
                                  " is already the name of ", container_path(it->second));
        essential = essential || c.is_essential();
    }
    if (!essential)
        return Error::invalid("containerDefinitions: at least one container must be essential");
    std::set<std::string_view> volumes;
    for (std::size_t i = 0; i < t.volumes.size(); ++i)
        if (!volumes.insert(t.volumes[i].name).second)
            return Error::invalid(json_read::index("volumes", i),
                                  ".name: ", berth::quoted(t.volumes[i].name),
                                  " is already a volume's name");
    return {};
}

Result<void> check_references(const TaskDefinition& t, std::size_t i)
{
    const auto& c = t.containers[i];
    const std::string at = container_path(i);
    std::set<std::string_view> targets;
    for (std::size_t d = 0; d < c.depends_on.size(); ++d) {
        const auto& dep = c.depends_on[d];
        const std::string path = json_read::index(at + ".dependsOn", d) + ".containerName";
        const ContainerDefinition* target = t.find(dep.container_name);
        if (target == nullptr || target == &c)
            return Error::invalid(path, ": ", berth::quoted(dep.container_name),
                                  target ? " is the container itself"
                                         : " is not a container of this task");
        if (!targets.insert(dep.container_name).second)
            return Error::invalid(path, ": ", berth::quoted(dep.container_name),
                                  " is listed twice");
        if (dep.condition == Condition::Healthy && !target->health_check)
            return Error::invalid(path, ": condition HEALTHY needs a healthCheck on ",
                                  berth::quoted(dep.container_name));
        if ((dep.condition == Condition::Complete || dep.condition == Condition::Success) &&
            target->is_essential())
            return Error::invalid(path, ": condition ", condition_name(dep.condition),
                                  " cannot be used on essential container ",
                                  berth::quoted(dep.container_name));
    }
    for (std::size_t v = 0; v < c.volumes_from.size(); ++v) {
        const auto& from = c.volumes_from[v];
        const ContainerDefinition* source = t.find(from.source_container);
        if (source == nullptr || source == &c)
            return Error::invalid(json_read::index(at + ".volumesFrom", v),
                                  ".sourceContainer: ", berth::quoted(from.source_container),
                                  source ? " is the container itself"
                                         : " is not a container of this task");
    }
    for (std::size_t m = 0; m < c.mount_points.size(); ++m) {
        const auto& mount = c.mount_points[m];
        bool found = false;
        for (const auto& v : t.volumes)
            found = found || v.name == mount.source_volume;
        if (!found)
            return Error::invalid(json_read::index(at + ".mountPoints", m),
                                  ".sourceVolume: ", berth::quoted(mount.source_volume),
                                  " is not a volume of this task");
    }
    return {};
}

// dependsOn and volumesFrom both order container starts: a cycle could never start.
Result<void> check_cycles(const TaskDefinition& t)
{
    enum class Mark { None, Active, Done };
    std::vector<Mark> marks(t.containers.size(), Mark::None);
    auto index_of = [&](const std::string& name) {
        for (std::size_t i = 0; i < t.containers.size(); ++i)
            if (t.containers[i].name == name)
                return i;
        return t.containers.size();
    };
    std::function<bool(std::size_t)> visit = [&](std::size_t i) {
        if (marks[i] == Mark::Active)
            return false;
        if (marks[i] == Mark::Done)
            return true;
        marks[i] = Mark::Active;
        for (const auto& d : t.containers[i].depends_on)
            if (!visit(index_of(d.container_name)))
                return false;
        for (const auto& v : t.containers[i].volumes_from)
            if (!visit(index_of(v.source_container)))
                return false;
        marks[i] = Mark::Done;
        return true;
    };
    for (std::size_t i = 0; i < t.containers.size(); ++i)
        if (!visit(i))
            return Error::invalid(container_path(i),
                                  ".dependsOn: ", berth::quoted(t.containers[i].name),
                                  " is part of a cycle (dependsOn and volumesFrom)");
    return {};
}

Result<void> check_ports(const TaskDefinition& t, std::size_t i,
                         std::map<std::pair<int, Protocol>, std::string>& host_ports,
                         std::map<std::string, std::string>& names)
{
    const auto& c = t.containers[i];
    const NetworkMode mode = t.network();
    std::set<std::pair<int, Protocol>> own;
    for (std::size_t p = 0; p < c.port_mappings.size(); ++p) {
        const auto& pm = c.port_mappings[p];
        const std::string path = json_read::index(container_path(i) + ".portMappings", p);
        if (mode == NetworkMode::None)
            return Error::invalid(path, ": port mappings need a network (networkMode is none)");
        const bool shared_ns = mode == NetworkMode::Awsvpc || mode == NetworkMode::Host;
        if (shared_ns && pm.host_port && *pm.host_port != pm.container_port)
            return Error::invalid(path, ".hostPort: must equal containerPort (", pm.container_port,
                                  ") in ", network_mode_name(mode), " network mode");
        if (!own.insert({pm.container_port, pm.protocol}).second)
            return Error::invalid(path, ".containerPort: ", pm.container_port, " is mapped twice");
        const int host = shared_ns ? pm.container_port : pm.host_port.value_or(0);
        if (host != 0) {
            auto [it, fresh] = host_ports.emplace(std::pair{host, pm.protocol}, path);
            if (!fresh)
                return Error::invalid(path, ": host port ", host, " is already used by ",
                                      it->second);
        }
        if (!pm.name.empty()) {
            auto [it, fresh] = names.emplace(pm.name, path);
            if (!fresh)
                return Error::invalid(path, ".name: ", berth::quoted(pm.name),
                                      " is already used by ", it->second);
        }
    }
    return {};
}

Result<void> check_container_modes(const TaskDefinition& t, std::size_t i)
{
    const auto& c = t.containers[i];
    const std::string at = container_path(i);
    if (!c.hostname.empty() && t.network() == NetworkMode::Awsvpc)
        return Error::invalid(at, ".hostname: not supported in awsvpc network mode");
    if (!c.hostname.empty() && t.network() == NetworkMode::Host)
        return Error::invalid(at, ".hostname: not supported in host network mode (the container "
                                  "has the host's name)");
    if (c.linux_parameters && c.linux_parameters->shared_memory_size &&
        t.ipc_mode != NamespaceMode::Private)
        return Error::invalid(at,
                              ".linuxParameters.sharedMemorySize: only with a private IPC "
                              "namespace (ipcMode is ",
                              namespace_mode_name(t.ipc_mode), ")");
    std::set<std::string_view> targets;
    for (const auto& m : c.mount_points)
        if (!targets.insert(m.container_path).second)
            return Error::invalid(at, ".mountPoints: ", berth::quoted(m.container_path),
                                  " is mounted twice");
    if (c.linux_parameters)
        for (const auto& tmpfs : c.linux_parameters->tmpfs)
            if (!targets.insert(tmpfs.container_path).second)
                return Error::invalid(at, ".linuxParameters.tmpfs: ",
                                      berth::quoted(tmpfs.container_path), " is mounted twice");
    return {};
}

Result<void> check_sizes(const TaskDefinition& t)
{
    long long memory = 0, cpu = 0;
    for (std::size_t i = 0; i < t.containers.size(); ++i) {
        const auto& c = t.containers[i];
        if (!t.memory && !c.memory && !c.memory_reservation)
            return Error::invalid(container_path(i),
                                  ": memory or memoryReservation is required when the task has "
                                  "no memory");
        const int own = c.memory ? *c.memory : c.memory_reservation.value_or(0);
        if (t.memory && own > *t.memory)
            return Error::invalid(container_path(i), ".memory: ", own,
                                  " MiB is more than the task's memory (", *t.memory, " MiB)");
        memory += c.memory_reservation ? *c.memory_reservation : own;
        cpu += c.cpu.value_or(0);
    }
    if (t.memory && memory > *t.memory)
        return Error::invalid("memory: the containers reserve ", memory,
                              " MiB, more than the task's ", *t.memory, " MiB");
    if (t.cpu && cpu > *t.cpu)
        return Error::invalid("cpu: the containers ask for ", cpu,
                              " CPU units, more than the "
                              "task's ",
                              *t.cpu);
    return {};
}

} // namespace

Result<void> check_task(const TaskDefinition& t)
{
    if (auto ok = check_names(t); !ok)
        return ok;
    std::map<std::pair<int, Protocol>, std::string> host_ports;
    std::map<std::string, std::string> port_names;
    for (std::size_t i = 0; i < t.containers.size(); ++i) {
        if (auto ok = check_references(t, i); !ok)
            return ok;
        if (auto ok = check_ports(t, i, host_ports, port_names); !ok)
            return ok;
        if (auto ok = check_container_modes(t, i); !ok)
            return ok;
    }
    if (auto ok = check_cycles(t); !ok)
        return ok;
    return check_sizes(t);
}

std::string_view condition_name(Condition condition)
{
    switch (condition) {
    case Condition::Start: return "START";
    case Condition::Complete: return "COMPLETE";
    case Condition::Success: return "SUCCESS";
    case Condition::Healthy: return "HEALTHY";
    }
    return "START";
}

std::string_view network_mode_name(NetworkMode mode)
{
    switch (mode) {
    case NetworkMode::Bridge: return "bridge";
    case NetworkMode::Awsvpc: return "awsvpc";
    case NetworkMode::Host: return "host";
    case NetworkMode::None: return "none";
    }
    return "bridge";
}

std::string_view namespace_mode_name(NamespaceMode mode)
{
    switch (mode) {
    case NamespaceMode::Private: return "private";
    case NamespaceMode::Host: return "host";
    case NamespaceMode::Task: return "task";
    case NamespaceMode::None: return "none";
    }
    return "private";
}

std::string_view log_driver_name(LogDriver driver)
{
    return driver == LogDriver::Journald ? "journald" : "json-file";
}

} // namespace berth::taskdef::internal
