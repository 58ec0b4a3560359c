// agent/taskdef/to_json.cpp — a TaskDefinition in the DescribeTaskDefinition shape: what the
// request gave, plus the defaults ECS fills in (essential, cpu 0, empty lists, health check
// timings, protocol, hostPort in awsvpc/host). from_json() reads this output back.
#include <nlohmann/json.hpp>
#include "agent/taskdef/internal.hpp"

namespace berth::taskdef {

using nlohmann::json;

namespace {

json key_values(const std::vector<KeyValue>& list)
{
    json out = json::array();
    for (const auto& kv : list)
        out.push_back({{"name", kv.name}, {"value", kv.value}});
    return out;
}

json port_mappings(const ContainerDefinition& c, NetworkMode mode)
{
    json out = json::array();
    for (const auto& p : c.port_mappings) {
        json j = {{"containerPort", p.container_port},
                  {"protocol", p.protocol == Protocol::Udp ? "udp" : "tcp"}};
        if (mode == NetworkMode::Awsvpc || mode == NetworkMode::Host)
            j["hostPort"] = p.container_port;
        else if (p.host_port)
            j["hostPort"] = *p.host_port;
        if (!p.name.empty())
            j["name"] = p.name;
        out.push_back(std::move(j));
    }
    return out;
}

json linux_parameters(const LinuxParameters& l)
{
    json j = json::object();
    if (!l.cap_add.empty() || !l.cap_drop.empty())
        j["capabilities"] = {{"add", l.cap_add}, {"drop", l.cap_drop}};
    if (l.init_process_enabled)
        j["initProcessEnabled"] = *l.init_process_enabled;
    if (l.shared_memory_size)
        j["sharedMemorySize"] = *l.shared_memory_size;
    if (!l.tmpfs.empty()) {
        j["tmpfs"] = json::array();
        for (const auto& t : l.tmpfs) {
            json one = {{"containerPath", t.container_path}, {"size", t.size_mib}};
            if (!t.mount_options.empty())
                one["mountOptions"] = t.mount_options;
            j["tmpfs"].push_back(std::move(one));
        }
    }
    if (!l.devices.empty()) {
        j["devices"] = json::array();
        for (const auto& d : l.devices) {
            json one = {{"hostPath", d.host_path}, {"containerPath", d.container_path}};
            if (!d.permissions.empty())
                one["permissions"] = d.permissions;
            j["devices"].push_back(std::move(one));
        }
    }
    return j;
}

void optional_fields(const ContainerDefinition& c, json& j)
{
    if (c.memory)
        j["memory"] = *c.memory;
    if (c.memory_reservation)
        j["memoryReservation"] = *c.memory_reservation;
    if (!c.entry_point.empty())
        j["entryPoint"] = c.entry_point;
    if (!c.command.empty())
        j["command"] = c.command;
    if (!c.environment_files.empty()) {
        j["environmentFiles"] = json::array();
        for (const auto& f : c.environment_files)
            j["environmentFiles"].push_back({{"value", f.path}, {"type", "file"}});
    }
    if (!c.depends_on.empty()) {
        j["dependsOn"] = json::array();
        for (const auto& d : c.depends_on)
            j["dependsOn"].push_back({{"containerName", d.container_name},
                                      {"condition", internal::condition_name(d.condition)}});
    }
    if (c.health_check) {
        const auto& h = *c.health_check;
        j["healthCheck"] = {{"command", h.command},
                            {"interval", h.interval},
                            {"timeout", h.timeout},
                            {"retries", h.retries}};
        if (h.start_period)
            j["healthCheck"]["startPeriod"] = *h.start_period;
    }
    for (auto [key, value] :
         {std::pair{"startTimeout", c.start_timeout}, {"stopTimeout", c.stop_timeout}})
        if (value)
            j[key] = *value;
    for (auto [key, value] : {std::pair{"user", &c.user},
                              {"workingDirectory", &c.working_directory},
                              {"hostname", &c.hostname}})
        if (!value->empty())
            j[key] = *value;
    for (auto [key, value] : {std::pair{"readonlyRootFilesystem", c.readonly_root_filesystem},
                              {"privileged", c.privileged}})
        if (value)
            j[key] = *value;
    if (!c.ulimits.empty()) {
        j["ulimits"] = json::array();
        for (const auto& u : c.ulimits)
            j["ulimits"].push_back(
                {{"name", u.name}, {"softLimit", u.soft}, {"hardLimit", u.hard}});
    }
    if (c.linux_parameters)
        j["linuxParameters"] = linux_parameters(*c.linux_parameters);
    if (!c.docker_labels.empty())
        j["dockerLabels"] = c.docker_labels;
    if (c.log_configuration)
        j["logConfiguration"] = {
            {"logDriver", internal::log_driver_name(c.log_configuration->driver)},
            {"options", c.log_configuration->options}};
}

json container(const ContainerDefinition& c, NetworkMode mode)
{
    json j = {{"name", c.name},
              {"image", c.image},
              {"cpu", c.cpu.value_or(0)},
              {"essential", c.is_essential()},
              {"portMappings", port_mappings(c, mode)},
              {"environment", key_values(c.environment)},
              {"mountPoints", json::array()},
              {"volumesFrom", json::array()}};
    for (const auto& m : c.mount_points)
        j["mountPoints"].push_back({{"sourceVolume", m.source_volume},
                                    {"containerPath", m.container_path},
                                    {"readOnly", m.read_only}});
    for (const auto& v : c.volumes_from)
        j["volumesFrom"].push_back(
            {{"sourceContainer", v.source_container}, {"readOnly", v.read_only}});
    optional_fields(c, j);
    return j;
}

json volume(const Volume& v)
{
    json j = {{"name", v.name}};
    if (v.host_source_path)
        j["host"] = {{"sourcePath", *v.host_source_path}};
    else if (!v.docker)
        j["host"] = json::object();
    if (v.docker) {
        json d = {{"scope", v.docker->scope == VolumeScope::Shared ? "shared" : "task"},
                  {"driver", v.docker->driver}};
        if (v.docker->autoprovision)
            d["autoprovision"] = *v.docker->autoprovision;
        if (!v.docker->labels.empty())
            d["labels"] = v.docker->labels;
        j["dockerVolumeConfiguration"] = std::move(d);
    }
    return j;
}

} // namespace

json to_json(const TaskDefinition& task)
{
    json j = json::object();
    if (!task.arn.empty())
        j["taskDefinitionArn"] = task.arn;
    j["family"] = task.family;
    if (task.revision > 0)
        j["revision"] = task.revision;
    j["containerDefinitions"] = json::array();
    for (const auto& c : task.containers)
        j["containerDefinitions"].push_back(container(c, task.network()));
    j["networkMode"] = internal::network_mode_name(task.network());
    j["volumes"] = json::array();
    for (const auto& v : task.volumes)
        j["volumes"].push_back(volume(v));
    if (!task.status.empty())
        j["status"] = task.status;
    j["requiresAttributes"] = json::array();
    j["placementConstraints"] = json::array();
    j["compatibilities"] = {"EC2", "EXTERNAL"};
    if (!task.requires_compatibilities.empty())
        j["requiresCompatibilities"] = task.requires_compatibilities;
    if (task.cpu)
        j["cpu"] = std::to_string(*task.cpu);
    if (task.memory)
        j["memory"] = std::to_string(*task.memory);
    if (task.pid_mode != NamespaceMode::Private)
        j["pidMode"] = internal::namespace_mode_name(task.pid_mode);
    if (task.ipc_mode != NamespaceMode::Private)
        j["ipcMode"] = internal::namespace_mode_name(task.ipc_mode);
    if (task.registered_at)
        j["registeredAt"] = *task.registered_at;
    if (task.deregistered_at)
        j["deregisteredAt"] = *task.deregistered_at;
    return j;
}

} // namespace berth::taskdef
