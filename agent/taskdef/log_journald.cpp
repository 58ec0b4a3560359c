// agent/taskdef/log_journald.cpp — logDriver "journald": its options as Docker's journald driver
// takes them (tag, labels, labels-regex, env, env-regex; anything else refused by name), the tag
// template, and the journal fields of one container (taskdef.hpp: journald_fields).
#include <regex>
#include "agent/taskdef/internal.hpp"
#include "base/strings.hpp"

namespace berth::taskdef {
namespace {

// Docker's default tag: the container's short id ({{.ID}}).
constexpr std::string_view default_tag = "{{.ID}}";

// The fields of Docker's tag template berth has (daemon/logger/loggerutils.ParseLogTag).
const std::string* tag_value(std::string_view name, const LogTagValues& v)
{
    if (name == "ID")
        return &v.id;
    if (name == "FullID")
        return &v.full_id;
    if (name == "Name")
        return &v.name;
    if (name == "ImageName")
        return &v.image_name;
    if (name == "DaemonName")
        return &v.daemon_name;
    return nullptr;
}

// Docker's sanitizeKeyMod: a-z upper-cased, anything not [A-Z0-9] becomes '_', leading '_'s go.
std::string journal_key(std::string_view key)
{
    std::string out;
    for (const char c : key) {
        char k = c;
        if (k >= 'a' && k <= 'z')
            k = static_cast<char>(k - 'a' + 'A');
        else if (!((k >= 'A' && k <= 'Z') || (k >= '0' && k <= '9')))
            k = '_';
        if (!(out.empty() && k == '_'))
            out += k;
    }
    return out;
}

std::vector<std::string> split_commas(std::string_view text)
{
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto comma = text.find(',', start);
        if (comma == std::string_view::npos)
            comma = text.size();
        out.emplace_back(text.substr(start, comma - start));
        start = comma + 1;
    }
    return out;
}

// The one place std::regex is built: its exceptions end here.
std::optional<std::regex> compile(const std::string& pattern)
{
    try {
        return std::regex(pattern, std::regex::ECMAScript);
    } catch (const std::regex_error&) {
        return std::nullopt;
    }
}

// The driver's own fields, which a label or variable must not replace.
bool reserved(std::string_view key)
{
    return key == "MESSAGE" || key == "PRIORITY" || key.starts_with("CONTAINER_PARTIAL_");
}

void add_matching(std::map<std::string, std::string>& extra,
                  const std::map<std::string, std::string>& from, const LogConfiguration& config,
                  const char* list_key, const char* regex_key)
{
    if (auto it = config.options.find(list_key); it != config.options.end() && !it->second.empty())
        for (const auto& name : split_commas(it->second))
            if (auto v = from.find(name); v != from.end())
                extra[journal_key(name)] = v->second;
    if (auto it = config.options.find(regex_key); it != config.options.end() && !it->second.empty())
        if (auto re = compile(it->second))
            for (const auto& [name, value] : from)
                if (std::regex_search(name, *re)) // Go's MatchString: a match anywhere
                    extra[journal_key(name)] = value;
}

} // namespace

Result<std::string> expand_log_tag(std::string_view text, const LogTagValues& values)
{
    std::string out;
    std::size_t at = 0;
    while (at < text.size()) {
        const auto open = text.find("{{", at);
        if (open == std::string_view::npos) {
            out.append(text.substr(at));
            break;
        }
        out.append(text.substr(at, open - at));
        const auto close = text.find("}}", open);
        if (close == std::string_view::npos)
            return Error::invalid("tag ", berth::quoted(text), ": \"{{\" without \"}}\"");
        auto field = text.substr(open + 2, close - open - 2);
        while (!field.empty() && field.front() == ' ')
            field.remove_prefix(1);
        while (!field.empty() && field.back() == ' ')
            field.remove_suffix(1);
        const auto* value = field.starts_with('.') ? tag_value(field.substr(1), values) : nullptr;
        if (value == nullptr)
            return Error::invalid("tag ", berth::quoted(text), ": ", berth::quoted(field),
                                  " is not supported by berth ({{.ID}}, {{.FullID}}, {{.Name}}, "
                                  "{{.ImageName}}, {{.DaemonName}})");
        out += *value;
        at = close + 2;
    }
    return out;
}

Result<std::vector<std::string>> journald_fields(const ContainerDefinition& container,
                                                 const JournaldContext& context)
{
    const LogConfiguration none;
    const auto& config = container.log_configuration ? *container.log_configuration : none;
    const LogTagValues values{context.runtime_id, context.runtime_id, container.name,
                              container.image, "berth"};
    auto tag_option = config.options.find("tag");
    auto tag = expand_log_tag(
        tag_option != config.options.end() ? tag_option->second : std::string(default_tag), values);
    if (!tag)
        return std::move(tag).error().wrap(
            cat("containerDefinitions ", container.name, ": logConfiguration.options"));
    const auto last_slash = context.task_arn.rfind('/');
    const auto task_id =
        context.task_arn.substr(last_slash == std::string::npos ? 0 : last_slash + 1);
    std::map<std::string, std::string> fields = {
        {"CONTAINER_ID", context.runtime_id}, {"CONTAINER_ID_FULL", context.runtime_id},
        {"CONTAINER_NAME", container.name},   {"CONTAINER_TAG", *tag},
        {"SYSLOG_IDENTIFIER", *tag},          {"IMAGE_NAME", container.image},
        {"TASK_ARN", context.task_arn},       {"TASK_ID", task_id},
        {"TASK_FAMILY", context.family},      {"TASK_REVISION", context.revision},
    };
    if (!context.cluster.empty())
        fields["ECS_CLUSTER"] = context.cluster;
    std::map<std::string, std::string> env;
    for (const auto& e : context.env)
        if (const auto eq = e.find('='); eq != std::string::npos)
            env[e.substr(0, eq)] = e.substr(eq + 1);
    std::map<std::string, std::string> extra;
    add_matching(extra, context.labels, config, "labels", "labels-regex");
    add_matching(extra, env, config, "env", "env-regex");
    // As Docker: the extra attributes win over the fixed fields; a key journald would refuse
    // after sanitizing (empty, a leading digit, over 64 bytes) is left out, not sent to fail.
    for (auto& [key, value] : extra)
        if (!key.empty() && key.size() <= 64 && !(key.front() >= '0' && key.front() <= '9') &&
            !reserved(key))
            fields[key] = std::move(value);
    std::vector<std::string> out;
    out.reserve(fields.size());
    for (const auto& [key, value] : fields)
        out.push_back(cat(key, "=", value));
    return out;
}

} // namespace berth::taskdef

namespace berth::taskdef::internal {

Result<void> check_journald_option(const std::string& key, const std::string& value,
                                   const std::string& path)
{
    if (key == "tag") {
        const LogTagValues sample{"id", "full", "name", "image", "berth"};
        if (auto r = expand_log_tag(value, sample); !r)
            return std::move(r).error().wrap(path);
        return {};
    }
    if (key == "labels-regex" || key == "env-regex") {
        if (!compile(value))
            return Error::invalid(path, ": ", berth::quoted(value), " is not a regular expression");
        return {};
    }
    if (key == "labels" || key == "env")
        return {};
    return Error::invalid(path, ": not supported by the journald driver "
                                "(tag, labels, labels-regex, env, env-regex)");
}

} // namespace berth::taskdef::internal
