// runtime/spec/spec_hooks.cpp — the "hooks" object: six lists of programs the runtime runs at
// points of the container's life.
#include "runtime/spec/spec_parts.hpp"

namespace berth::runtime::spec_parts {

using spec_json::Object;

namespace {

Result<Hook> parse_hook(const At& at)
{
    Hook hook;
    Object obj(at);
    obj.require("path", hook.path);
    obj.read("args", hook.args);
    obj.read("env", hook.env);
    obj.read("timeout", hook.timeout);
    if (!obj.ok())
        return std::move(obj).error();
    if (!spec_json::is_absolute(hook.path))
        return at.member("path", at.json)
            .invalid("must be an absolute path, got ", berth::quoted(hook.path));
    auto env = spec_json::check_env(at.member("env", at.json), hook.env);
    if (!env)
        return std::move(env).error();
    if (hook.timeout && *hook.timeout <= 0)
        return at.member("timeout", at.json)
            .invalid("must be greater than zero, got ", *hook.timeout);
    return hook;
}

Result<std::vector<Hook>> parse_hook_list(const At& at)
{
    return spec_json::decode_array<Hook>(at, parse_hook);
}

} // namespace

Result<Hooks> parse_hooks(const At& at)
{
    Hooks hooks;
    Object obj(at);
    obj.read("prestart", hooks.prestart, parse_hook_list);
    obj.read("createRuntime", hooks.create_runtime, parse_hook_list);
    obj.read("createContainer", hooks.create_container, parse_hook_list);
    obj.read("startContainer", hooks.start_container, parse_hook_list);
    obj.read("poststart", hooks.poststart, parse_hook_list);
    obj.read("poststop", hooks.poststop, parse_hook_list);
    if (!obj.ok())
        return std::move(obj).error();
    return hooks;
}

} // namespace berth::runtime::spec_parts
