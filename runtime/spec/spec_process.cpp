// runtime/spec/spec_process.cpp — the "process" object: user, args, env, cwd, capabilities,
// rlimits and the rest. Also what `exec --process process.json` reads.
#include <set>
#include "runtime/spec/spec_parts.hpp"

namespace berth::runtime::spec_parts {

using spec_json::Decoder;
using spec_json::Object;

namespace {

Result<ConsoleSize> parse_console_size(const At& at)
{
    ConsoleSize size;
    Object obj(at);
    obj.require("height", size.height);
    obj.require("width", size.width);
    if (!obj.ok())
        return std::move(obj).error();
    if (size.height > 0xffff || size.width > 0xffff) // struct winsize holds unsigned short
        return at.invalid("height and width must be at most 65535");
    return size;
}

Result<User> parse_user(const At& at)
{
    User user;
    Object obj(at);
    obj.require("uid", user.uid);
    obj.require("gid", user.gid);
    obj.read("umask", user.umask);
    obj.read("additionalGids", user.additional_gids);
    obj.refuse("username", "is for Windows; on Linux use uid and gid");
    if (!obj.ok())
        return std::move(obj).error();
    for (const auto& [name, id] : {std::pair{"uid", user.uid}, std::pair{"gid", user.gid}})
        if (id > max_user_id)
            return at.member(name, at.json).invalid("must be at most ", max_user_id, ", got ", id);
    for (std::size_t i = 0; i < user.additional_gids.size(); ++i)
        if (user.additional_gids[i] > max_user_id)
            return at.member("additionalGids", at.json)
                .element(i, at.json)
                .invalid("must be at most ", max_user_id, ", got ", user.additional_gids[i]);
    if (user.umask && *user.umask > 0777)
        return at.member("umask", at.json).invalid("must be at most 0777 (511), got ", *user.umask);
    if (user.additional_gids.size() > 65536) // NGROUPS_MAX
        return at.member("additionalGids", at.json).invalid("more than 65536 groups");
    return user;
}

Result<int> parse_capability(const At& at)
{
    auto name = Decoder<std::string>::decode(at);
    if (!name)
        return std::move(name).error();
    auto value = capability_from_name(*name);
    if (!value)
        return std::move(value).error().wrap(at.path);
    return value;
}

Result<std::vector<int>> parse_capability_set(const At& at)
{
    return spec_json::decode_array<int>(at, parse_capability);
}

Result<Capabilities> parse_capabilities(const At& at)
{
    Capabilities caps;
    Object obj(at);
    obj.read("bounding", caps.bounding, parse_capability_set);
    obj.read("effective", caps.effective, parse_capability_set);
    obj.read("inheritable", caps.inheritable, parse_capability_set);
    obj.read("permitted", caps.permitted, parse_capability_set);
    obj.read("ambient", caps.ambient, parse_capability_set);
    if (!obj.ok())
        return std::move(obj).error();
    return caps;
}

Result<Rlimit> parse_rlimit(const At& at)
{
    Rlimit limit;
    Object obj(at);
    obj.require("type", limit.name);
    obj.require("soft", limit.soft);
    obj.require("hard", limit.hard);
    if (!obj.ok())
        return std::move(obj).error();
    auto resource = rlimit_from_name(limit.name);
    if (!resource)
        return std::move(resource).error().wrap(at.member("type", at.json).path);
    limit.resource = *resource;
    if (limit.soft > limit.hard)
        return at.member("soft", at.json)
            .invalid("soft limit ", limit.soft, " is above the hard limit ", limit.hard);
    return limit;
}

Result<std::vector<Rlimit>> parse_rlimits(const At& at)
{
    auto limits = spec_json::decode_array<Rlimit>(at, parse_rlimit);
    if (!limits)
        return limits;
    std::set<int> seen;
    for (std::size_t i = 0; i < limits->size(); ++i)
        if (!seen.insert((*limits)[i].resource).second)
            return at.element(i, at.json)
                .member("type", at.json)
                .invalid("duplicate rlimit ", berth::quoted((*limits)[i].name));
    return limits;
}

Result<std::vector<std::string>> parse_args(const At& at)
{
    auto args = Decoder<std::vector<std::string>>::decode(at);
    if (args && args->empty())
        return at.invalid("must not be empty");
    if (args && args->front().empty())
        return at.element(0, at.json).invalid("the program must not be empty");
    return args;
}

Result<std::vector<std::string>> parse_env(const At& at)
{
    auto env = Decoder<std::vector<std::string>>::decode(at);
    if (!env)
        return env;
    auto checked = spec_json::check_env(at, *env);
    if (!checked)
        return std::move(checked).error();
    return env;
}

Result<std::string> parse_cwd(const At& at)
{
    auto cwd = Decoder<std::string>::decode(at);
    if (cwd && !spec_json::is_absolute(*cwd))
        return at.invalid("must be an absolute path, got ", berth::quoted(*cwd));
    return cwd;
}

Result<int> parse_oom_score_adj(const At& at)
{
    auto value = Decoder<int>::decode(at);
    if (value && (*value < -1000 || *value > 1000))
        return at.invalid("must be within -1000..1000, got ", *value);
    return value;
}

} // namespace

Result<Process> parse_process(const At& at)
{
    Process process;
    Object obj(at);
    obj.read("terminal", process.terminal);
    obj.read("consoleSize", process.console_size, parse_console_size);
    obj.require("user", process.user, parse_user);
    obj.require("args", process.args, parse_args);
    obj.refuse("commandLine", "is for Windows; on Linux use args");
    obj.read("env", process.env, parse_env);
    obj.require("cwd", process.cwd, parse_cwd);
    obj.read("capabilities", process.capabilities, parse_capabilities);
    obj.read("rlimits", process.rlimits, parse_rlimits);
    obj.read("noNewPrivileges", process.no_new_privileges);
    obj.read("oomScoreAdj", process.oom_score_adj, parse_oom_score_adj);
    obj.read("apparmorProfile", process.apparmor_profile);
    obj.read("selinuxLabel", process.selinux_label);
    // Newer runtime-spec fields berth does not implement: refused, never silently dropped.
    obj.refuse("scheduler");
    obj.refuse("ioPriority");
    obj.refuse("execCPUAffinity");
    if (!obj.ok())
        return std::move(obj).error();
    return process;
}

} // namespace berth::runtime::spec_parts
