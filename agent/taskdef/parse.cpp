// agent/taskdef/parse.cpp — parse_task_definition and from_json: the top-level fields, then each
// container and volume, then the rules between fields (checks.cpp).
#include <nlohmann/json.hpp>
#include "agent/taskdef/internal.hpp"

namespace berth::taskdef {

using json_read::as_array;
using json_read::Fields;
using nlohmann::json;

namespace {

Result<std::optional<NamespaceMode>> parse_namespace_mode(Fields& f, std::string_view key,
                                                          bool none_allowed)
{
    auto text = f.string(key);
    if (!text)
        return std::move(text).error();
    if (!*text)
        return std::optional<NamespaceMode>{};
    if (**text == "host")
        return std::optional(NamespaceMode::Host);
    if (**text == "task")
        return std::optional(NamespaceMode::Task);
    if (**text == "none" && none_allowed)
        return std::optional(NamespaceMode::None);
    return Error::invalid(f.at(key), ": ", berth::quoted(**text),
                          none_allowed ? " is not 'host', 'task' or 'none'"
                                       : " is not 'host' or 'task'");
}

Result<void> parse_modes(Fields& f, TaskDefinition& t)
{
    auto mode = f.string("networkMode");
    if (!mode)
        return std::move(mode).error();
    if (*mode) {
        if (**mode == "bridge")
            t.network_mode = NetworkMode::Bridge;
        else if (**mode == "awsvpc")
            t.network_mode = NetworkMode::Awsvpc;
        else if (**mode == "host")
            t.network_mode = NetworkMode::Host;
        else if (**mode == "none")
            t.network_mode = NetworkMode::None;
        else
            return Error::invalid(f.at("networkMode"), ": ", berth::quoted(**mode),
                                  " is not bridge, awsvpc, host or none");
    }
    auto pid = parse_namespace_mode(f, "pidMode", false);
    if (!pid)
        return std::move(pid).error();
    t.pid_mode = pid->value_or(NamespaceMode::Private);
    auto ipc = parse_namespace_mode(f, "ipcMode", true);
    if (!ipc)
        return std::move(ipc).error();
    t.ipc_mode = ipc->value_or(NamespaceMode::Private);
    return {};
}

Result<void> parse_sizes(Fields& f, TaskDefinition& t)
{
    auto cpu = f.string("cpu");
    if (!cpu)
        return std::move(cpu).error();
    if (*cpu) {
        auto units = internal::parse_task_cpu(**cpu, f.at("cpu"));
        if (!units)
            return std::move(units).error();
        t.cpu = *units;
    }
    auto memory = f.string("memory");
    if (!memory)
        return std::move(memory).error();
    if (*memory) {
        auto mib = internal::parse_task_memory(**memory, f.at("memory"));
        if (!mib)
            return std::move(mib).error();
        t.memory = *mib;
    }
    return {};
}

Result<void> parse_compatibilities(Fields& f, TaskDefinition& t)
{
    auto list = f.strings("requiresCompatibilities", 4);
    if (!list)
        return std::move(list).error();
    for (std::size_t i = 0; i < list->size(); ++i) {
        const auto& c = (*list)[i];
        if (c == "FARGATE")
            return Error::invalid(json_read::index(f.at("requiresCompatibilities"), i),
                                  ": 'FARGATE' not supported by berth (EC2, EXTERNAL)");
        if (c != "EC2" && c != "EXTERNAL")
            return Error::invalid(json_read::index(f.at("requiresCompatibilities"), i), ": ",
                                  berth::quoted(c), " is not EC2 or EXTERNAL");
    }
    t.requires_compatibilities = std::move(*list);
    return {};
}

Result<void> parse_tags(Fields& f, TaskDefinition& t)
{
    const json* v = f.get("tags");
    if (v == nullptr)
        return {};
    auto items = as_array(*v, f.at("tags"), 50); // ECS: at most 50 tags
    if (!items)
        return std::move(items).error();
    for (const auto& [item, path] : *items) {
        auto tag = Fields::of(*item, path);
        if (!tag)
            return std::move(tag).error();
        auto key = tag->required_string("key");
        if (!key)
            return std::move(key).error();
        if (key->size() > 128)
            return Error::invalid(tag->at("key"), ": longer than 128 characters");
        auto value = tag->string("value");
        if (!value)
            return std::move(value).error();
        if (*value && (*value)->size() > 256)
            return Error::invalid(tag->at("value"), ": longer than 256 characters");
        if (auto done = tag->finish(); !done)
            return std::move(done).error();
        t.tags.push_back({std::move(*key), value->value_or("")});
    }
    return {};
}

Result<void> parse_parts(Fields& f, TaskDefinition& t)
{
    const json* containers = f.get("containerDefinitions");
    if (containers == nullptr)
        return Error::invalid("containerDefinitions: required");
    auto items = as_array(*containers, "containerDefinitions", 10); // ECS: at most 10
    if (!items)
        return std::move(items).error();
    if (items->empty())
        return Error::invalid("containerDefinitions: at least one container is required");
    for (const auto& [item, path] : *items) {
        auto c = internal::parse_container(*item, path);
        if (!c)
            return std::move(c).error();
        t.containers.push_back(std::move(*c));
    }
    if (const json* volumes = f.get("volumes")) {
        auto vitems = as_array(*volumes, "volumes");
        if (!vitems)
            return std::move(vitems).error();
        for (const auto& [item, path] : *vitems) {
            auto v = internal::parse_volume(*item, path);
            if (!v)
                return std::move(v).error();
            t.volumes.push_back(std::move(*v));
        }
    }
    return {};
}

// Fields DescribeTaskDefinition adds; only from_json reads them.
Result<void> parse_server_fields(Fields& f, TaskDefinition& t)
{
    auto arn = f.string("taskDefinitionArn");
    if (!arn)
        return std::move(arn).error();
    t.arn = arn->value_or("");
    auto revision = f.integer("revision", 1, json_read::max_int32);
    if (!revision)
        return std::move(revision).error();
    t.revision = static_cast<int>(revision->value_or(0));
    auto status = f.string("status");
    if (!status)
        return std::move(status).error();
    t.status = status->value_or("");
    if (!t.status.empty() && t.status != "ACTIVE" && t.status != "INACTIVE" &&
        t.status != "DELETE_IN_PROGRESS")
        return Error::invalid(f.at("status"), ": ", berth::quoted(t.status), " is not a status");
    for (auto [key, target] :
         {std::pair{"registeredAt", &t.registered_at}, {"deregisteredAt", &t.deregistered_at}}) {
        const json* v = f.get(key);
        if (v == nullptr)
            continue;
        if (!v->is_number())
            return Error::invalid(f.at(key), ": expected epoch seconds");
        *target = v->get<double>();
    }
    // Derived from the rest: read so finish() accepts them, rebuilt by to_json.
    f.get("compatibilities");
    f.get("requiresAttributes");
    return {};
}

Result<TaskDefinition> parse(const json& value, bool described)
{
    auto f = Fields::of(value, "");
    if (!f)
        return std::move(f).error();
    TaskDefinition t;
    auto family = f->required_string("family");
    if (!family)
        return std::move(family).error();
    if (!internal::is_valid_name(*family))
        return Error::invalid("family: ", berth::quoted(*family),
                              " is not 1..255 letters, digits, '-' or '_'");
    t.family = std::move(*family);
    for (auto step : {parse_modes, parse_sizes, parse_compatibilities, parse_tags, parse_parts}) {
        auto r = step(*f, t);
        if (!r)
            return std::move(r).error();
    }
    if (described)
        if (auto r = parse_server_fields(*f, t); !r)
            return std::move(r).error();
    if (auto done = f->finish(); !done)
        return std::move(done).error();
    if (auto ok = internal::check_task(t); !ok)
        return std::move(ok).error();
    return t;
}

} // namespace

const ContainerDefinition* TaskDefinition::find(std::string_view container_name) const
{
    for (const auto& c : containers)
        if (c.name == container_name)
            return &c;
    return nullptr;
}

Result<TaskDefinition> parse_task_definition(const json& register_request)
{
    return parse(register_request, false);
}

Result<TaskDefinition> parse_task_definition_text(std::string_view register_request_text)
{
    if (register_request_text.size() > max_task_definition_bytes)
        return Error::invalid("task definition: larger than ", max_task_definition_bytes, " bytes");
    // The one place nlohmann's parser is called: its exceptions end here. Depth is bounded by
    // the size cap; parse errors carry a byte offset.
    json document = json::parse(register_request_text, nullptr, false);
    if (document.is_discarded())
        return Error::invalid("task definition: not valid JSON");
    return parse(document, false);
}

namespace {

void drop_foreign_journald_options(json& log, std::size_t index, std::vector<std::string>& warnings)
{
    auto options = log.find("options");
    if (options == log.end() || !options->is_object())
        return;
    for (auto it = options->begin(); it != options->end();) {
        if (it.value().is_string() && internal::check_journald_option(it.key(), it.value(), "")) {
            ++it;
            continue;
        }
        warnings.push_back(cat("containerDefinitions[", index, "].logConfiguration.options.",
                               it.key(),
                               ": not a journald option; dropped from this stored "
                               "definition"));
        it = options->erase(it);
    }
}

} // namespace

Result<TaskDefinition> parse_stored_task_definition_text(std::string_view register_request_text,
                                                         std::vector<std::string>& warnings)
{
    if (register_request_text.size() > max_task_definition_bytes)
        return Error::invalid("task definition: larger than ", max_task_definition_bytes, " bytes");
    json document = json::parse(register_request_text, nullptr, false);
    if (document.is_discarded())
        return Error::invalid("task definition: not valid JSON");
    // An earlier berth registered logDriver journald and wrote json-file logs for it, with
    // json-file's options: those options are dropped so that its tasks are restored instead of
    // left unwatched (their running containers keep the json-file log their supervisor has).
    auto containers = document.find("containerDefinitions");
    if (document.is_object() && containers != document.end() && containers->is_array()) {
        std::size_t index = 0;
        for (auto& c : *containers) {
            auto log = c.is_object() ? c.find("logConfiguration") : c.end();
            if (log != c.end() && log->is_object() && log->value("logDriver", json()) == "journald")
                drop_foreign_journald_options(*log, index, warnings);
            ++index;
        }
    }
    return parse(document, false);
}

Result<TaskDefinition> from_json(const json& described)
{
    return parse(described, true);
}

} // namespace berth::taskdef
