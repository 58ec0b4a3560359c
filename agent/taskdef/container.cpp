// agent/taskdef/container.cpp — one containerDefinitions[] entry: the fields berth supports,
// each checked by type and range as ECS checks it; every other field refused by name.
#include <algorithm>
#include "agent/taskdef/internal.hpp"
#include "image/image.hpp"

namespace berth::taskdef::internal {

using json_read::as_array;
using json_read::Fields;
using nlohmann::json;

namespace {

using json_read::max_int32;
using json_read::parse_items;

Result<std::vector<KeyValue>> parse_environment(Fields& f)
{
    std::vector<KeyValue> out;
    const json* v = f.get("environment");
    if (v == nullptr)
        return out;
    auto items = as_array(*v, f.at("environment"));
    if (!items)
        return std::move(items).error();
    for (const auto& [item, path] : *items) {
        auto kv = Fields::of(*item, path);
        if (!kv)
            return std::move(kv).error();
        auto name = kv->required_string("name");
        if (!name)
            return std::move(name).error();
        if (name->find('=') != std::string::npos)
            return Error::invalid(kv->at("name"), ": contains '='");
        auto value = kv->string("value");
        if (!value)
            return std::move(value).error();
        if (auto done = kv->finish(); !done)
            return std::move(done).error();
        out.push_back({std::move(*name), value->value_or("")});
    }
    return out;
}

Result<std::vector<EnvironmentFile>> parse_environment_files(Fields& f)
{
    std::vector<EnvironmentFile> out;
    const json* v = f.get("environmentFiles");
    if (v == nullptr)
        return out;
    auto items = as_array(*v, f.at("environmentFiles"), 10); // ECS: up to ten files
    if (!items)
        return std::move(items).error();
    for (const auto& [item, path] : *items) {
        auto e = Fields::of(*item, path);
        if (!e)
            return std::move(e).error();
        auto type = e->required_string("type");
        if (!type)
            return std::move(type).error();
        if (*type == "s3")
            return Error::invalid(e->at("type"),
                                  ": 's3' not supported by berth (use type 'file' with a local "
                                  "path)");
        if (*type != "file")
            return Error::invalid(e->at("type"), ": ", berth::quoted(*type), " is not 'file'");
        auto value = e->required_path("value");
        if (!value)
            return std::move(value).error();
        if (!value->ends_with(".env"))
            return Error::invalid(e->at("value"), ": ", berth::quoted(*value),
                                  " does not end in .env (as ECS requires)");
        if (auto done = e->finish(); !done)
            return std::move(done).error();
        out.push_back({std::move(*value)});
    }
    return out;
}

bool is_port_name(std::string_view name)
{
    if (name.empty() || name.size() > 64 || name.front() == '-')
        return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
}

Result<PortMapping> parse_port_mapping(const json& item, const std::string& path)
{
    auto f = Fields::of(item, path);
    if (!f)
        return std::move(f).error();
    PortMapping p;
    auto container_port = f->integer("containerPort", 1, 65535);
    if (!container_port)
        return std::move(container_port).error();
    if (!*container_port)
        return Error::invalid(f->at("containerPort"), ": required");
    p.container_port = static_cast<std::uint16_t>(**container_port);
    auto host_port = f->integer("hostPort", 0, 65535);
    if (!host_port)
        return std::move(host_port).error();
    if (*host_port)
        p.host_port = static_cast<std::uint16_t>(**host_port);
    auto protocol = f->string("protocol");
    if (!protocol)
        return std::move(protocol).error();
    if (*protocol && **protocol == "udp")
        p.protocol = Protocol::Udp;
    else if (*protocol && **protocol != "tcp")
        return Error::invalid(f->at("protocol"), ": ", berth::quoted(**protocol),
                              " is not 'tcp' or 'udp'");
    auto name = f->string("name");
    if (!name)
        return std::move(name).error();
    if (*name && !is_port_name(**name))
        return Error::invalid(f->at("name"), ": ", berth::quoted(**name),
                              " is not 1..64 lowercase letters, digits, '-' or '_'");
    p.name = name->value_or("");
    if (auto done = f->finish(); !done)
        return std::move(done).error();
    return p;
}

// The array at `key`, each item through `parse`, into `out`.
template <class T, class Parse>
Result<void> parse_list(Fields& f, std::string_view key, Parse parse, std::vector<T>& out)
{
    const json* v = f.get(key);
    auto items = parse_items<T>(v, f.at(key), parse);
    if (!items)
        return std::move(items).error();
    out = std::move(*items);
    return {};
}

Result<MountPoint> parse_mount_point(const json& item, const std::string& path)
{
    auto f = Fields::of(item, path);
    if (!f)
        return std::move(f).error();
    MountPoint m;
    auto source = f->required_string("sourceVolume");
    if (!source)
        return std::move(source).error();
    auto target = f->required_path("containerPath");
    if (!target)
        return std::move(target).error();
    auto ro = f->boolean("readOnly");
    if (!ro)
        return std::move(ro).error();
    if (auto done = f->finish(); !done)
        return std::move(done).error();
    return MountPoint{std::move(*source), std::move(*target), ro->value_or(false)};
}

Result<VolumeFrom> parse_volume_from(const json& item, const std::string& path)
{
    auto f = Fields::of(item, path);
    if (!f)
        return std::move(f).error();
    auto source = f->required_string("sourceContainer");
    if (!source)
        return std::move(source).error();
    auto ro = f->boolean("readOnly");
    if (!ro)
        return std::move(ro).error();
    if (auto done = f->finish(); !done)
        return std::move(done).error();
    return VolumeFrom{std::move(*source), ro->value_or(false)};
}

Result<Dependency> parse_dependency(const json& item, const std::string& path)
{
    auto f = Fields::of(item, path);
    if (!f)
        return std::move(f).error();
    auto name = f->required_string("containerName");
    if (!name)
        return std::move(name).error();
    auto condition = f->required_string("condition");
    if (!condition)
        return std::move(condition).error();
    Dependency d{std::move(*name), Condition::Start};
    if (*condition == "START")
        d.condition = Condition::Start;
    else if (*condition == "COMPLETE")
        d.condition = Condition::Complete;
    else if (*condition == "SUCCESS")
        d.condition = Condition::Success;
    else if (*condition == "HEALTHY")
        d.condition = Condition::Healthy;
    else
        return Error::invalid(f->at("condition"), ": ", berth::quoted(*condition),
                              " is not START, COMPLETE, SUCCESS or HEALTHY");
    if (auto done = f->finish(); !done)
        return std::move(done).error();
    return d;
}

Result<void> parse_resources(Fields& f, ContainerDefinition& c)
{
    auto cpu = f.integer("cpu", 0, 262144); // cpu.shares' upper bound
    if (!cpu)
        return std::move(cpu).error();
    if (*cpu)
        c.cpu = static_cast<int>(**cpu);
    // Docker refuses less than 6 MiB; ECS passes that on.
    auto memory = f.integer("memory", 6, max_int32);
    if (!memory)
        return std::move(memory).error();
    if (*memory)
        c.memory = static_cast<int>(**memory);
    auto reservation = f.integer("memoryReservation", 6, max_int32);
    if (!reservation)
        return std::move(reservation).error();
    if (*reservation)
        c.memory_reservation = static_cast<int>(**reservation);
    if (c.memory && c.memory_reservation && *c.memory <= *c.memory_reservation)
        return Error::invalid(f.at("memory"), ": ", *c.memory,
                              " MiB must be greater than memoryReservation (",
                              *c.memory_reservation, " MiB)");
    return {};
}

Result<void> parse_identity(Fields& f, ContainerDefinition& c)
{
    auto name = f.required_string("name");
    if (!name)
        return std::move(name).error();
    if (!is_valid_name(*name))
        return Error::invalid(f.at("name"), ": ", berth::quoted(*name),
                              " is not 1..255 letters, digits, '-' or '_'");
    c.name = std::move(*name);
    auto image = f.required_string("image");
    if (!image)
        return std::move(image).error();
    if (image->size() > 1024)
        return Error::invalid(f.at("image"), ": longer than 1024 bytes");
    if (auto ref = image::parse_reference(*image); !ref)
        return std::move(ref).error().wrap(f.at("image"));
    c.image = std::move(*image);
    return {};
}

Result<void> parse_paths_and_flags(Fields& f, ContainerDefinition& c)
{
    auto user = f.string("user");
    if (!user)
        return std::move(user).error();
    c.user = user->value_or("");
    auto cwd = f.string("workingDirectory");
    if (!cwd)
        return std::move(cwd).error();
    c.working_directory = cwd->value_or("");
    if (!c.working_directory.empty() && c.working_directory.front() != '/')
        return Error::invalid(f.at("workingDirectory"), ": ", berth::quoted(c.working_directory),
                              " is not an absolute path");
    auto hostname = f.string("hostname");
    if (!hostname)
        return std::move(hostname).error();
    c.hostname = hostname->value_or("");
    if (c.hostname.size() > 253)
        return Error::invalid(f.at("hostname"), ": longer than 253 bytes");
    for (char ch : c.hostname)
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '.'))
            return Error::invalid(f.at("hostname"), ": ", berth::quoted(c.hostname),
                                  " is not a host name (letters, digits, '-', '.')");
    for (auto [key, target] : {std::pair{"essential", &c.essential},
                               {"readonlyRootFilesystem", &c.readonly_root_filesystem},
                               {"privileged", &c.privileged}}) {
        auto b = f.boolean(key);
        if (!b)
            return std::move(b).error();
        *target = *b;
    }
    for (auto [key, target] :
         {std::pair{"startTimeout", &c.start_timeout}, {"stopTimeout", &c.stop_timeout}}) {
        auto t = f.integer(key, 1, 3600); // berth's bound: an hour
        if (!t)
            return std::move(t).error();
        if (*t)
            *target = static_cast<int>(**t);
    }
    auto labels = f.string_map("dockerLabels");
    if (!labels)
        return std::move(labels).error();
    c.docker_labels = std::move(*labels);
    return {};
}

Result<void> parse_process(Fields& f, ContainerDefinition& c)
{
    auto entry = f.strings("entryPoint");
    if (!entry)
        return std::move(entry).error();
    c.entry_point = std::move(*entry);
    auto command = f.strings("command");
    if (!command)
        return std::move(command).error();
    c.command = std::move(*command);
    auto env = parse_environment(f);
    if (!env)
        return std::move(env).error();
    c.environment = std::move(*env);
    auto files = parse_environment_files(f);
    if (!files)
        return std::move(files).error();
    c.environment_files = std::move(*files);
    return {};
}

Result<void> parse_lists(Fields& f, ContainerDefinition& c)
{
    if (auto r = parse_list(f, "portMappings", parse_port_mapping, c.port_mappings); !r)
        return r;
    if (auto r = parse_list(f, "mountPoints", parse_mount_point, c.mount_points); !r)
        return r;
    if (auto r = parse_list(f, "volumesFrom", parse_volume_from, c.volumes_from); !r)
        return r;
    if (auto r = parse_list(f, "dependsOn", parse_dependency, c.depends_on); !r)
        return r;
    return parse_list(f, "ulimits", parse_ulimit, c.ulimits);
}

Result<void> parse_nested(Fields& f, ContainerDefinition& c)
{
    if (const json* v = f.get("healthCheck")) {
        auto h = parse_health_check(*v, f.at("healthCheck"));
        if (!h)
            return std::move(h).error();
        c.health_check = std::move(*h);
    }
    if (const json* v = f.get("linuxParameters")) {
        auto l = parse_linux_parameters(*v, f.at("linuxParameters"));
        if (!l)
            return std::move(l).error();
        c.linux_parameters = std::move(*l);
    }
    if (const json* v = f.get("logConfiguration")) {
        auto l = parse_log_configuration(*v, f.at("logConfiguration"));
        if (!l)
            return std::move(l).error();
        c.log_configuration = std::move(*l);
    }
    return {};
}

} // namespace

bool is_valid_name(std::string_view name)
{
    if (name.empty() || name.size() > 255)
        return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_';
    });
}

Result<ContainerDefinition> parse_container(const json& value, const std::string& path)
{
    auto f = Fields::of(value, path);
    if (!f)
        return std::move(f).error();
    ContainerDefinition c;
    for (auto step : {parse_identity, parse_resources, parse_process, parse_paths_and_flags,
                      parse_lists, parse_nested}) {
        auto r = step(*f, c);
        if (!r)
            return std::move(r).error();
    }
    if (auto done = f->finish(); !done)
        return std::move(done).error();
    return c;
}

} // namespace berth::taskdef::internal
