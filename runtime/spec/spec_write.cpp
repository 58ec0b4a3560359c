// runtime/spec/spec_write.cpp — a Spec back to config.json: the top level, process, root,
// mounts, hooks and annotations (linux is in spec_write_linux.cpp). Keys come in the order of
// the runtime-spec's Go structs, members the parser would read as "not set" are left out, as
// runc's omitempty does, so spec_to_json(default_spec()) is byte for byte what `runc spec` writes.
#include <algorithm>
#include <new>
#include "runtime/spec/spec_parts.hpp"

namespace berth::runtime {

using spec_parts::Ordered;

namespace {

Result<Ordered> write_capability_set(std::string_view set, const std::vector<int>& values)
{
    Ordered out = Ordered::array();
    for (std::size_t i = 0; i < values.size(); ++i) {
        auto name = capability_name(values[i]);
        if (!name)
            return std::move(name).error().wrap(cat("process.capabilities.", set, '[', i, ']'));
        out.push_back(std::move(*name));
    }
    return out;
}

Result<Ordered> write_capabilities(const Capabilities& caps)
{
    Ordered out = Ordered::object();
    const std::pair<std::string_view, const std::vector<int>*> sets[] = {
        {"bounding", &caps.bounding},       {"effective", &caps.effective},
        {"inheritable", &caps.inheritable}, {"permitted", &caps.permitted},
        {"ambient", &caps.ambient},
    };
    for (const auto& [set, values] : sets) {
        if (values->empty())
            continue;
        auto names = write_capability_set(set, *values);
        if (!names)
            return names;
        out[std::string(set)] = std::move(*names);
    }
    return out;
}

Result<Ordered> write_rlimits(const std::vector<Rlimit>& limits)
{
    Ordered out = Ordered::array();
    for (std::size_t i = 0; i < limits.size(); ++i) {
        // The resource is what takes effect; the name kept from parsing only echoes it.
        auto name = rlimit_name(limits[i].resource);
        if (!name)
            return std::move(name).error().wrap(cat("process.rlimits[", i, "].type"));
        out.push_back({{"type", *name}, {"hard", limits[i].hard}, {"soft", limits[i].soft}});
    }
    return out;
}

Ordered write_user(const User& user)
{
    Ordered out = {{"uid", user.uid}, {"gid", user.gid}};
    if (user.umask)
        out["umask"] = *user.umask;
    if (!user.additional_gids.empty())
        out["additionalGids"] = user.additional_gids;
    if (!user.username.empty())
        out["username"] = user.username;
    return out;
}

Ordered write_mount(const Mount& mount)
{
    Ordered out = {{"destination", mount.destination}};
    // The parser clears the type of a bind mount; "bind" says it again when no option does.
    const bool bind_word = std::any_of(mount.raw_options.begin(), mount.raw_options.end(),
                                       [](const auto& o) { return o == "bind" || o == "rbind"; });
    if (!mount.type.empty())
        out["type"] = mount.type;
    else if (mount.options.bind && !bind_word)
        out["type"] = "bind";
    if (!mount.source.empty())
        out["source"] = mount.source;
    if (!mount.raw_options.empty())
        out["options"] = mount.raw_options;
    return out;
}

Ordered write_hooks(const Hooks& hooks)
{
    Ordered out = Ordered::object();
    const std::pair<const char*, const std::vector<Hook>*> lists[] = {
        {"prestart", &hooks.prestart},
        {"createRuntime", &hooks.create_runtime},
        {"createContainer", &hooks.create_container},
        {"startContainer", &hooks.start_container},
        {"poststart", &hooks.poststart},
        {"poststop", &hooks.poststop},
    };
    for (const auto& [key, list] : lists) {
        if (list->empty())
            continue;
        Ordered& array = out[key] = Ordered::array();
        for (const auto& hook : *list) {
            Ordered h = {{"path", hook.path}};
            if (!hook.args.empty())
                h["args"] = hook.args;
            if (!hook.env.empty())
                h["env"] = hook.env;
            if (hook.timeout)
                h["timeout"] = *hook.timeout;
            array.push_back(std::move(h));
        }
    }
    return out;
}

Result<Ordered> write_spec(const Spec& spec)
{
    Ordered out = {{"ociVersion", spec.oci_version}};
    if (spec.process) {
        auto process = spec_parts::write_process(*spec.process);
        if (!process)
            return process;
        out["process"] = std::move(*process);
    }
    out["root"] = {{"path", spec.root.path}};
    if (spec.root.readonly)
        out["root"]["readonly"] = true;
    if (!spec.hostname.empty())
        out["hostname"] = spec.hostname;
    if (!spec.domainname.empty())
        out["domainname"] = spec.domainname;
    if (!spec.mounts.empty()) {
        auto& mounts = out["mounts"] = Ordered::array();
        for (const auto& mount : spec.mounts)
            mounts.push_back(write_mount(mount));
    }
    auto hooks = write_hooks(spec.hooks);
    if (!hooks.empty())
        out["hooks"] = std::move(hooks);
    if (!spec.annotations.empty())
        out["annotations"] = spec.annotations;
    auto linux = spec_parts::write_linux(spec.linux);
    if (!linux)
        return linux;
    out["linux"] = std::move(*linux);
    return out;
}

// runc's indentation (a tab per level). nlohmann throws on text that is not UTF-8: the one
// place it can, caught here (bad_alloc too) and turned into an error.
template <class Write>
Result<std::string> dump(std::string_view what, Write write)
{
    try {
        auto json = write();
        if (!json)
            return std::move(json).error().wrap(what);
        return json->dump(1, '\t');
    } catch (const std::bad_alloc&) {
        return Error::with_code(ENOMEM, what, ": too large to hold in memory");
    } catch (const std::exception& e) {
        return Error::invalid(what, ": ", e.what());
    }
}

} // namespace

Result<Ordered> spec_parts::write_process(const Process& process)
{
    Ordered out = Ordered::object();
    if (process.terminal)
        out["terminal"] = true;
    if (process.console_size)
        out["consoleSize"] = {{"height", process.console_size->height},
                              {"width", process.console_size->width}};
    out["user"] = write_user(process.user);
    out["args"] = process.args;
    if (!process.env.empty())
        out["env"] = process.env;
    out["cwd"] = process.cwd;
    if (process.capabilities) {
        auto caps = write_capabilities(*process.capabilities);
        if (!caps)
            return caps;
        out["capabilities"] = std::move(*caps);
    }
    if (!process.rlimits.empty()) {
        auto limits = write_rlimits(process.rlimits);
        if (!limits)
            return limits;
        out["rlimits"] = std::move(*limits);
    }
    if (process.no_new_privileges)
        out["noNewPrivileges"] = true;
    if (!process.apparmor_profile.empty())
        out["apparmorProfile"] = process.apparmor_profile;
    if (process.oom_score_adj)
        out["oomScoreAdj"] = *process.oom_score_adj;
    if (!process.selinux_label.empty())
        out["selinuxLabel"] = process.selinux_label;
    return out;
}

Result<std::string> spec_to_json(const Spec& spec)
{
    return dump("write spec", [&] { return write_spec(spec); });
}

Result<std::string> process_to_json(const Process& process)
{
    return dump("write process", [&] { return spec_parts::write_process(process); });
}

Result<Mount> make_mount(std::string destination, std::string type, std::string source,
                         std::vector<std::string> options)
{
    auto resolved = parse_mount_options(options);
    if (!resolved)
        return std::move(resolved).error().wrap(cat("mount ", berth::quoted(destination)));
    Mount mount{std::move(destination), std::move(type), std::move(source), std::move(options),
                std::move(*resolved)};
    // As parse_spec reads it: a bind mount has no type.
    if (mount.type == "bind")
        mount.options.bind = true;
    if (mount.options.bind)
        mount.type.clear();
    return mount;
}

} // namespace berth::runtime
