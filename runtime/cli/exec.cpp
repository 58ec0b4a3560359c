// runtime/cli/exec.cpp — `exec <id> <command...>` or `exec --process process.json <id>`: the
// process comes from process.json, or (as runc) from the container's config.json process (the
// copy frozen at create) with the command line's args and overrides.
#include "base/files.hpp"
#include "runtime/cli/log_output.hpp"
#include "runtime/cli/signals.hpp"
#include "runtime/cli/verbs.hpp"

namespace berth::cli {
namespace {

const Flag exec_flags[] = {
    {"console-socket", 0, true,
     "path to an AF_UNIX socket which will receive a file descriptor referencing the master "
     "end of the console's pseudoterminal"},
    {"cwd", 0, true, "current working directory in the container"},
    {"env", 'e', true, "set environment variables"},
    {"tty", 't', false, "allocate a pseudo-TTY"},
    {"user", 'u', true, "UID (format: <uid>[:<gid>])"},
    {"additional-gids", 'g', true, "additional gids"},
    {"process", 'p', true, "path to the process.json"},
    {"detach", 'd', false, "detach from the container's process"},
    {"pid-file", 0, true, "specify the file to write the process id to"},
    {"process-label", 0, true, "set the asm process label for the process"},
    {"apparmor", 0, true, "set the apparmor profile for the process"},
    {"no-new-privs", 0, false, "set the no new privileges value for the process"},
    {"cap", 'c', true, "add a capability to the bounding set for the process"},
    {"preserve-fds", 0, true, "pass N additional file descriptors to the container"},
    {"cgroup", 0, true, "run the process in an (existing) sub-cgroup (not supported)"},
    {"ignore-paused", 0, false, "allow exec in a paused container"},
};

// A uid or gid from the command line; above runtime::max_user_id is refused, as runc does:
// setresuid would read 4294967295 as "unchanged" and leave the process root.
Result<std::uint32_t> parse_id(const std::string& text, std::string_view what)
{
    const auto id = parse_int<std::uint32_t>(text);
    if (!id)
        return Error::invalid("parsing ", quoted(text), " as int for ", what, " failed");
    if (*id > runtime::max_user_id)
        return Error::invalid(what, " ", *id, " is out of range: at most ", runtime::max_user_id);
    return *id;
}

Result<void> apply_user(const std::string& text, runtime::User& user)
{
    const auto parts = split(text, ':');
    if (parts.size() > 2)
        return Error::invalid("invalid --user ", quoted(text), ": want <uid>[:<gid>]");
    auto uid = parse_id(std::string(parts[0]), "uid");
    if (!uid)
        return std::move(uid).error();
    user.uid = *uid;
    if (parts.size() == 2) {
        auto gid = parse_id(std::string(parts[1]), "gid");
        if (!gid)
            return std::move(gid).error();
        user.gid = *gid;
    }
    return {};
}

Result<void> add_capabilities(const std::vector<std::string>& names, runtime::Process& process)
{
    if (names.empty())
        return {};
    if (!process.capabilities)
        process.capabilities.emplace();
    auto& caps = *process.capabilities;
    for (const auto& name : names) {
        auto cap = runtime::capability_from_name(name);
        if (!cap)
            return std::move(cap).error().wrap("--cap");
        for (auto* set : {&caps.bounding, &caps.effective, &caps.permitted, &caps.ambient})
            set->push_back(*cap);
    }
    return {};
}

// runc's getProcess(): the container's own process, overridden by the command line.
Result<runtime::Process> process_from_flags(const Options& options, const Parsed& parsed)
{
    const auto& positionals = parsed.positionals();
    // The config frozen at create: the bundle's config.json may have changed since.
    auto spec = runtime::stored_config(options, positionals[0]);
    if (!spec)
        return std::move(spec).error();
    runtime::Process process = spec->process.value_or(runtime::Process{});
    process.args.assign(positionals.begin() + 1, positionals.end());
    if (process.args.empty())
        return Error::invalid("args must not be empty");
    if (parsed.has("cwd")) {
        process.cwd = parsed.value("cwd");
        if (process.cwd.empty() || process.cwd.front() != '/') // runc requires it too
            return Error::invalid("--cwd must be an absolute path, got ", quoted(process.cwd));
    }
    if (parsed.has("apparmor"))
        process.apparmor_profile = parsed.value("apparmor");
    if (parsed.has("process-label"))
        process.selinux_label = parsed.value("process-label");
    auto caps = add_capabilities(parsed.all("cap"), process);
    if (!caps)
        return std::move(caps).error();
    for (const auto& env : parsed.all("env"))
        process.env.push_back(env);
    process.terminal = parsed.flag("tty");
    if (parsed.has("no-new-privs"))
        process.no_new_privileges = parsed.flag("no-new-privs");
    if (parsed.has("user")) {
        auto user = apply_user(parsed.value("user"), process.user);
        if (!user)
            return std::move(user).error();
    }
    for (const auto& text : parsed.all("additional-gids")) {
        auto gid = parse_id(text, "additional gid");
        if (!gid)
            return std::move(gid).error().wrap("--additional-gids");
        process.user.additional_gids.push_back(*gid);
    }
    return process;
}

Result<runtime::Process> process_from_file(const std::string& path)
{
    auto text = read_file(path, runtime::max_spec_bytes);
    if (!text)
        return std::move(text).error();
    auto process = runtime::parse_process(*text);
    if (!process)
        return std::move(process).error().wrap(quoted(path));
    return process;
}

} // namespace

int exec_main(const Options& options, Args args)
{
    static const VerbSpec verb{"exec",
                               "<container-id> <command> [command options]",
                               "execute new process inside the container",
                               exec_flags,
                               1,
                               -1};
    auto parsed_or_code = parse_verb(verb, args);
    if (auto* code = std::get_if<int>(&parsed_or_code))
        return *code;
    const auto& parsed = std::get<Parsed>(parsed_or_code);
    if (parsed.has("cgroup"))
        return fail("exec --cgroup is not supported");
    runtime::ExecOptions exec;
    auto process = parsed.has("process") ? process_from_file(parsed.value("process"))
                                         : process_from_flags(options, parsed);
    if (!process)
        return fail(cat("exec failed: ", process.error().message()));
    exec.process = std::move(*process);
    exec.console_socket = absolute_path(parsed.value("console-socket"));
    exec.pid_file = absolute_path(parsed.value("pid-file"));
    exec.detach = parsed.flag("detach");
    if (!parse_count(parsed.value("preserve-fds", "0"), exec.preserve_fds))
        return fail(
            cat("invalid value ", quoted(parsed.value("preserve-fds")), " for flag -preserve-fds"));
    std::optional<ForwardedSignals> signals; // the foreground process gets our signals
    if (!exec.detach) {
        signals.emplace();
        exec.signal_fd = signals->fd();
    }
    auto status = runtime::exec(options, parsed.positionals()[0], exec);
    if (!status)
        return fail(cat("exec failed: ", status.error().message()));
    return *status;
}

} // namespace berth::cli
