// agent/taskdef/build_spec.cpp — build_spec: one container of a task definition plus its image's
// config -> an OCI runtime::Spec in memory. The process is merged from the image the way Docker
// merges it: an entryPoint replaces the image's Entrypoint and drops its Cmd unless a command is
// given; environment is merged by key (image, then environment files, then environment, then
// what the agent adds); user and workingDirectory override the image's.
#include "agent/taskdef/build_internal.hpp"

namespace berth::taskdef {

namespace {

using build::Build;

constexpr std::string_view default_path =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr std::string_view init_target = "/sbin/docker-init"; // where Docker mounts its init

// Sets KEY=value, replacing an earlier value of KEY in place (Docker's merge keeps the order).
void set_env(std::vector<std::string>& env, std::string_view entry)
{
    const std::string_view key = entry.substr(0, entry.find('='));
    for (auto& e : env)
        if (std::string_view(e).substr(0, e.find('=')) == key) {
            e = std::string(entry);
            return;
        }
    env.emplace_back(entry);
}

bool has_env(const std::vector<std::string>& env, std::string_view key)
{
    for (const auto& e : env)
        if (std::string_view(e).substr(0, e.find('=')) == key)
            return true;
    return false;
}

std::string hostname_of(const Build& b)
{
    if (b.task.network() == NetworkMode::Host)
        return {}; // the host's own name (its UTS namespace)
    return b.container.hostname.empty() ? b.inputs.hostname : b.container.hostname;
}

Result<std::vector<std::string>> environment(const Build& b, const std::string& home)
{
    std::vector<std::string> env;
    const std::string hostname = hostname_of(b);
    if (!hostname.empty())
        env.push_back(cat("HOSTNAME=", hostname));
    for (const auto& e : b.image.env)
        set_env(env, e);
    if (!has_env(env, "PATH"))
        set_env(env, default_path);
    for (const auto& file : b.container.environment_files) {
        auto vars = read_environment_file(file.path);
        if (!vars)
            return std::move(vars).error().wrap("environmentFiles");
        for (const auto& kv : *vars)
            set_env(env, cat(kv.name, "=", kv.value));
    }
    for (const auto& kv : b.container.environment)
        set_env(env, cat(kv.name, "=", kv.value));
    if (!has_env(env, "HOME"))
        set_env(env, cat("HOME=", home));
    for (const auto& e : b.inputs.extra_env)
        set_env(env, e);
    return env;
}

bool wants_init(const Build& b)
{
    const auto& l = b.container.linux_parameters;
    return l && l->init_process_enabled.value_or(false);
}

Result<std::vector<std::string>> arguments(const Build& b)
{
    const auto& c = b.container;
    const auto& entry = c.entry_point.empty() ? b.image.entrypoint : c.entry_point;
    std::vector<std::string> cmd;
    if (!c.command.empty())
        cmd = c.command;
    else if (c.entry_point.empty())
        cmd = b.image.cmd; // an entryPoint of the task definition drops the image's Cmd
    std::vector<std::string> args(entry);
    args.insert(args.end(), cmd.begin(), cmd.end());
    if (args.empty())
        return Error::invalid("no command: neither the container definition (entryPoint, "
                              "command) nor the image (Entrypoint, Cmd) gives one");
    if (wants_init(b)) {
        if (b.inputs.init_path.empty())
            return Error::with_code(ENOTSUP, "linuxParameters.initProcessEnabled: this node has "
                                             "no init binary (install tini)");
        args.insert(args.begin(), {std::string(init_target), "--"});
    }
    return args;
}

Result<runtime::Process> process(const Build& b)
{
    runtime::Process p;
    const std::string& user = b.container.user.empty() ? b.image.user : b.container.user;
    std::string home = "/";
    auto resolved = resolve_user(b.inputs.rootfs, user, &home);
    if (!resolved)
        return std::move(resolved).error().wrap("user");
    p.user = std::move(*resolved);
    auto args = arguments(b);
    if (!args)
        return std::move(args).error();
    p.args = std::move(*args);
    auto env = environment(b, home);
    if (!env)
        return std::move(env).error();
    p.env = std::move(*env);
    p.cwd =
        b.container.working_directory.empty() ? b.image.working_dir : b.container.working_directory;
    if (p.cwd.empty() || p.cwd.front() != '/')
        p.cwd = cat("/", p.cwd); // Docker takes the image's relative WorkingDir from /
    auto caps = build::capabilities(b);
    if (!caps)
        return std::move(caps).error();
    p.capabilities = std::move(*caps);
    auto limits = build::rlimits(b);
    if (!limits)
        return std::move(limits).error();
    p.rlimits = std::move(*limits);
    return p;
}

Result<void> add_namespace(std::vector<runtime::Namespace>& out, runtime::NamespaceType type,
                           NamespaceMode mode, const std::string& path)
{
    if (mode == NamespaceMode::Host)
        return {};
    // ipcMode/pidMode task: every container joins the namespace the agent made for the task
    // (a pid namespace must outlive each container: a container's own would die with it).
    if (mode == NamespaceMode::Task && path.empty())
        return Error::with_code(EINVAL, runtime::spec_name(type),
                                " namespace mode task: the task's namespace was not given "
                                "(SpecInputs::",
                                type == runtime::NamespaceType::Pid ? "pid" : "ipc", "_ns_path)");
    out.push_back({type, mode == NamespaceMode::Task ? path : std::string()});
    return {};
}

Result<std::vector<runtime::Namespace>> namespaces(const Build& b)
{
    using runtime::NamespaceType;
    std::vector<runtime::Namespace> out = {{NamespaceType::Mount, ""}};
    const NetworkMode mode = b.task.network();
    if (mode != NetworkMode::Host)
        out.push_back({NamespaceType::Uts, ""});
    if (mode == NetworkMode::None)
        out.push_back({NamespaceType::Network, ""});
    if (mode == NetworkMode::Bridge || mode == NetworkMode::Awsvpc) {
        if (b.inputs.netns_path.empty())
            return Error::with_code(EINVAL, internal::network_mode_name(mode),
                                    " network mode: the task's network namespace was not given "
                                    "(SpecInputs::netns_path)");
        out.push_back({NamespaceType::Network, b.inputs.netns_path});
    }
    const NamespaceMode ipc =
        b.task.ipc_mode == NamespaceMode::None ? NamespaceMode::Private : b.task.ipc_mode;
    if (auto ok = add_namespace(out, NamespaceType::Ipc, ipc, b.inputs.ipc_ns_path); !ok)
        return std::move(ok).error();
    if (auto ok = add_namespace(out, NamespaceType::Pid, b.task.pid_mode, b.inputs.pid_ns_path);
        !ok)
        return std::move(ok).error();
    return out;
}

Result<runtime::Spec> assemble(const Build& b)
{
    runtime::Spec s;
    s.oci_version = "1.0.2";
    s.root.path = b.inputs.rootfs;
    s.root.readonly = b.container.readonly_root_filesystem.value_or(false);
    auto p = process(b);
    if (!p)
        return std::move(p).error();
    s.process = std::move(*p);
    s.hostname = hostname_of(b);
    auto ns = namespaces(b);
    if (!ns)
        return std::move(ns).error();
    s.linux.namespaces = std::move(*ns);
    auto mounts = build::mounts(b);
    if (!mounts)
        return std::move(mounts).error();
    s.mounts = std::move(*mounts);
    if (wants_init(b)) {
        s.mounts.push_back(build::make_mount(std::string(init_target), "bind", b.inputs.init_path,
                                             {"bind", "ro", "nosuid", "nodev"}));
        if (auto ok = build::add_options(s.mounts.back(), "init"); !ok)
            return std::move(ok).error();
    }
    if (auto ok = build::linux_part(b, s.linux); !ok)
        return std::move(ok).error();
    s.annotations = b.image.labels;
    for (const auto& [key, value] : b.container.docker_labels)
        s.annotations[key] = value;
    return s;
}

} // namespace

Result<runtime::Spec> build_spec(const TaskDefinition& task, std::string_view container_name,
                                 const ImageRunConfig& image, const SpecInputs& inputs)
{
    const ContainerDefinition* c = task.find(container_name);
    if (c == nullptr)
        return Error::invalid("container ", berth::quoted(container_name),
                              ": not in task definition ", berth::quoted(task.family));
    if (inputs.rootfs.empty() || inputs.rootfs.front() != '/')
        return Error::invalid("container ", c->name, ": rootfs ", berth::quoted(inputs.rootfs),
                              " is not an absolute path");
    auto spec = assemble(Build{task, *c, image, inputs});
    if (!spec)
        return std::move(spec).error().wrap(cat("container ", c->name));
    return spec;
}

} // namespace berth::taskdef
