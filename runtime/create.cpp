// runtime/create.cpp — `create`: from a bundle to a container waiting before exec.
//
// The parent (this file) reads and checks everything, makes the state directory, exec.fifo and
// the cgroup, lays out the ChildPlan, then forks the stage (child.cpp) and drives the child over
// a SOCK_SEQPACKET socket: pid -> id maps, cgroup, oom_score_adj -> Go -> mounts done ->
// prestart/createRuntime hooks -> HooksDone -> Ready. Any failure on either side unwinds
// everything: the child is killed (Child), the cgroup destroyed and the state directory removed
// (CreateCleanup). The state is saved at each step that makes something (first with pid 0), so
// a create killed midway is seen and removed by list/state/delete. Runs as root on the host.
#include "runtime/create.hpp"
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <system_error>
#include <thread>
#include "base/files.hpp"
#include "base/trace.hpp"
#include "runtime/fds.hpp"
#include "runtime/hooks.hpp"
#include "runtime/netns.hpp"
#include "runtime/seccomp.hpp"
#include "runtime/spawn.hpp"
#include "runtime/state_store.hpp"

namespace berth::runtime {
namespace {

// Removes what a failed create made, in reverse: the cgroup, then the state directory. The
// child is a separate Child object declared later, so it is killed first.
struct CreateCleanup {
    std::string dir;
    std::optional<cgroups::Cgroup> cgroup;
    bool armed = true;
    ~CreateCleanup()
    {
        if (!armed)
            return;
        if (cgroup)
            (void)cgroup->destroy();
        if (!dir.empty()) {
            std::error_code ec;
            std::filesystem::remove_all(dir, ec);
        }
    }
};

// Makes the container's cgroup on a thread of its own while create() makes exec.fifo, detects
// the host's cgroups and plans the process: on a hybrid host that is a mkdir in ten v1
// hierarchies plus the resource writes, about 1 ms that needs nothing from that work
// (docs/BENCHMARKS.md, "Start time"). Started only once the container's first state is saved, so
// an existing container's cgroup is never touched and a create killed meanwhile leaves nothing
// delete cannot find; joined before the child is planned (its cgroup
// mounts) and the stage cloned (a vfork-style clone of the calling thread; the join files must
// exist by then) and, at the latest, by the destructor, which also destroys a
// cgroup nobody took (a create that failed meanwhile). Where no thread can be started, the
// cgroup is made by take(), in order, as before.
class CgroupMaker {
public:
    CgroupMaker(std::string path, std::optional<cgroups::Resources> resources)
        : path_(std::move(path)), resources_(std::move(resources))
    {
        try {
            thread_ = std::thread([this] { result_.emplace(make()); });
        } catch (const std::system_error&) { // EAGAIN: no thread for us; take() makes it
        }
    }
    CgroupMaker(const CgroupMaker&) = delete;
    CgroupMaker& operator=(const CgroupMaker&) = delete;
    ~CgroupMaker()
    {
        if (thread_.joinable())
            thread_.join();
        if (result_ && *result_)
            (void)(*result_)->destroy();
    }

    Result<cgroups::Cgroup> take()
    {
        if (thread_.joinable())
            thread_.join();
        if (!result_)
            result_.emplace(make());
        auto result = std::move(*result_);
        result_.reset();
        return result;
    }

private:
    Result<cgroups::Cgroup> make() const
    {
        return resources_ ? cgroups::Cgroup::create(path_, *resources_)
                          : cgroups::Cgroup::create(path_);
    }

    std::string path_;
    std::optional<cgroups::Resources> resources_;
    std::optional<Result<cgroups::Cgroup>> result_; // written by the thread, read after join
    std::thread thread_;
};

Result<std::string> real_path(const std::string& path, std::string_view what)
{
    char buf[PATH_MAX];
    if (!::realpath(path.c_str(), buf))
        return Error::from_errno(what, " ", berth::quoted(path));
    return std::string(buf);
}

// Turns the child's {step, errno, index} into words, naming the mount, hook or path involved.
Error describe_failure(const SyncMessage& m, const ChildPlan& plan, const Spec& spec)
{
    const auto step = static_cast<ChildStep>(m.a);
    const auto i = static_cast<std::size_t>(m.c);
    std::string what(step_name(step));
    switch (step) {
    case ChildStep::Mount:
    case ChildStep::MountTarget:
    case ChildStep::MountPropagate:
    case ChildStep::ProcMount:
        if (i < plan.mount_count)
            what = cat(what, " ", berth::quoted(cat("/", plan.mounts[i].target)));
        break;
    case ChildStep::JoinNamespace:
        if (i < plan.join_count)
            what = cat(what, " ", berth::quoted(plan.joins[i].path));
        break;
    case ChildStep::Device:
        if (i < plan.device_count)
            what = cat(what, " ", berth::quoted(cat("/", plan.devices[i].target)));
        break;
    case ChildStep::MaskPath: what = cat(what, " ", berth::quoted(plan.masked[i])); break;
    case ChildStep::ReadonlyPath: what = cat(what, " ", berth::quoted(plan.readonly[i])); break;
    case ChildStep::Sysctl:
        if (i < plan.sysctl_count)
            what = cat(what, " ", berth::quoted(plan.sysctls[i].path));
        break;
    case ChildStep::CreateHook:
        if (i < spec.hooks.create_container.size())
            return child_hook_error("createContainer", i, spec.hooks.create_container[i], m.b);
        break;
    case ChildStep::StartHook:
        if (i < spec.hooks.start_container.size())
            return child_hook_error("startContainer", i, spec.hooks.start_container[i], m.b);
        break;
    case ChildStep::Chdir:
    case ChildStep::CwdOutsideRoot: what = cat(what, " ", berth::quoted(plan.process.cwd)); break;
    case ChildStep::Exec: what = cat(what, " ", berth::quoted(plan.process.argv[0])); break;
    case ChildStep::Rlimit:
        if (i < spec.process->rlimits.size())
            what = cat(what, " ", spec.process->rlimits[i].name);
        break;
    default: break;
    }
    return Error::with_code(m.b, what);
}

Result<void> write_id_maps(pid_t pid, const Spec& spec)
{
    auto uid_map = format_id_map(spec.linux.uid_mappings);
    if (!uid_map)
        return std::move(uid_map).error().wrap("linux.uidMappings");
    auto gid_map = format_id_map(spec.linux.gid_mappings);
    if (!gid_map)
        return std::move(gid_map).error().wrap("linux.gidMappings");
    if (auto r = write_file(cat("/proc/", pid, "/uid_map"), *uid_map); !r)
        return std::move(r).error().wrap("write uid_map");
    if (auto r = write_file(cat("/proc/", pid, "/gid_map"), *gid_map); !r)
        return std::move(r).error().wrap("write gid_map");
    return {};
}

State hook_state(const store::Record& record, Status status)
{
    return store::to_state(record, status == Status::Stopped ? Status::Stopped : status);
}

// Everything the parent keeps alive while the child runs from the plan.
struct Prepared {
    Spec spec;
    std::string config_bytes;
    PlanArena arena;
    ChildPlan plan;
    std::vector<Fd> fds;               // namespace fds, console socket, fifo, cgroup join files
    std::vector<int> cgroup_tasks_fds; // plan.cgroup_tasks_fds points here
    std::optional<SeccompProgram> seccomp;
    std::vector<HookPlan> create_hooks, start_hooks;
    std::vector<int> fd_map, keep_fds; // what the plan's pointers point at
};

// The process's plan and its seccomp filter (the costly part with a full profile): nothing
// here touches the host, so create runs it while the cgroup is being made.
Result<void> plan_process(Prepared& p, const std::string& rootfs)
{
    auto& process = p.plan.process;
    if (auto r = build_process_plan(*p.spec.process, p.arena, process, rootfs); !r)
        return std::move(r).error().wrap("process");
    if (p.spec.linux.seccomp) {
        auto program = compile_seccomp(*p.spec.linux.seccomp);
        if (!program)
            return std::move(program).error();
        p.seccomp = std::move(*program);
        process.seccomp = &*p.seccomp;
        process.load_seccomp = &load_seccomp;
        process.forward_listener = p.seccomp->needs_listener;
    }
    return {};
}

// The rest of the process: console socket, stdio, fds, hooks (after plan_process).
Result<void> prepare_process(Prepared& p, const CreateOptions& co)
{
    auto& process = p.plan.process;
    if (process.terminal) {
        if (co.console_socket.empty())
            return Error::invalid("process.terminal is set but no console socket was given");
        auto socket = connect_console(co.console_socket);
        if (!socket)
            return std::move(socket).error();
        process.console_socket = socket->get();
        p.fds.push_back(std::move(*socket));
    }
    process.stdio[0] = co.stdin_fd;
    process.stdio[1] = co.stdout_fd;
    process.stdio[2] = co.stderr_fd;
    process.preserve_fds = co.preserve_fds;
    p.fd_map = co.pass_fds;
    process.fd_map = p.fd_map.data();
    process.fd_map_count = p.fd_map.size();
    p.plan.new_keyring = !co.no_new_keyring;
    p.plan.no_pivot = co.no_pivot;
    p.create_hooks = build_hook_plans(p.spec.hooks.create_container, p.arena);
    p.start_hooks = build_hook_plans(p.spec.hooks.start_container, p.arena);
    p.plan.create_hooks = p.create_hooks.data();
    p.plan.parent_hooks = !p.spec.hooks.prestart.empty() || !p.spec.hooks.create_runtime.empty();
    p.plan.create_hook_count = p.create_hooks.size();
    process.start_hooks = p.start_hooks.data();
    process.start_hook_count = p.start_hooks.size();
    return {};
}

// Forks the stage and runs the sync protocol up to Ready. Our flock on the state directory
// belongs to the open file description: a child holding a copy would keep the container locked
// until it execs, and the stage closes it with every fd not on its keep-list.
Result<Child> spawn(const Options& options, Prepared& p, store::Record& record,
                    cgroups::Cgroup& cgroup, Fd& sync)
{
    std::vector<int> keep(p.fd_map);
    for (const auto& fd : p.fds) // namespaces to join, console socket, exec.fifo
        keep.push_back(fd.get());
    keep.insert(keep.end(), std::begin(p.plan.process.stdio), std::end(p.plan.process.stdio));
    bool born_in_cgroup = false;
    auto child = spawn_stage(
        p.plan, std::move(keep), p.keep_fds, sync,
        [&](const SyncMessage& m) { return describe_failure(m, p.plan, p.spec); }, &born_in_cgroup);
    p.fds.clear(); // our copies of the fifo, namespace and console fds: the child has its own
    trace::phase("create: init cloned, stage reaped");
    if (!child)
        return child;
    record.pid = child->pid();
    // Recorded at once: if we die from here on, state/list/delete find the init and its cgroup.
    auto start_time = store::process_start_time(record.pid);
    if (!start_time)
        return std::move(start_time).error().wrap("container init exited");
    record.start_time = *start_time;
    if (auto r = store::save(options, record); !r)
        return std::move(r).error();
    if (p.plan.new_user)
        if (auto r = write_id_maps(record.pid, p.spec); !r)
            return std::move(r).error();
    // Born in the v2 cgroup (clone3 CLONE_INTO_CGROUP) unless the kernel refused; the init
    // joins the v1 hierarchies itself after Go (see Cgroup::JoinFiles).
    if (!born_in_cgroup)
        if (auto r = cgroup.add_v2(record.pid); !r)
            return std::move(r).error().wrap("join cgroup");
    if (p.spec.process->oom_score_adj)
        if (auto r = write_file(cat("/proc/", record.pid, "/oom_score_adj"),
                                std::to_string(*p.spec.process->oom_score_adj));
            !r)
            return std::move(r).error().wrap("process.oomScoreAdj");
    const auto state_json = state_to_json(hook_state(record, Status::Creating));
    const auto start_json = state_to_json(hook_state(record, Status::Created)); // startContainer
    trace::phase("create: pid saved, id maps, cgroup joined");
    if (auto r = send_sync(sync.get(), SyncType::Go); !r)
        return std::move(r).error();
    if (::send(sync.get(), state_json.data(), state_json.size(), MSG_NOSIGNAL) < 0 ||
        ::send(sync.get(), start_json.data(), start_json.size(), MSG_NOSIGNAL) < 0)
        return Error::from_errno("send state to child");
    for (;;) {
        auto m = receive_sync(sync.get());
        if (!m)
            return std::move(m).error();
        if (m->type == SyncType::Failure)
            return describe_failure(*m, p.plan, p.spec);
        if (m->type == SyncType::Ready) {
            trace::phase("create: child ready (rootfs finished, process prepared)");
            break;
        }
        if (m->type == SyncType::Seccomp) {
            if (auto r = forward_seccomp_listener(sync.get(), *p.spec.linux.seccomp, record.pid,
                                                  state_json);
                !r)
                return std::move(r).error();
            continue;
        }
        if (m->type != SyncType::Hooks)
            return Error::with_code(EPROTO, "unexpected message from child");
        trace::phase("create: child mounted the rootfs");
        if (auto r = run_hooks("prestart", p.spec.hooks.prestart, state_json); !r)
            return std::move(r).error();
        if (auto r = run_hooks("createRuntime", p.spec.hooks.create_runtime, state_json); !r)
            return std::move(r).error();
        if (auto r = send_sync(sync.get(), SyncType::HooksDone); !r)
            return std::move(r).error();
    }
    return child;
}

// As runc does: whatever the spec's device rules say, the devices every container gets
// (/dev/null, zero, full, random, urandom, tty, console, ptmx, pts, mknod of anything) stay
// usable, and so do the spec's linux.devices. Appended: in the device cgroup, later rules win.
cgroups::Resources with_default_devices(const Spec& spec)
{
    auto resources = *spec.linux.resources;
    using Rule = cgroups::DeviceRule;
    auto add = [&](char type, std::optional<std::int64_t> major, std::optional<std::int64_t> minor,
                   const char* access) {
        resources.devices.push_back(Rule{true, type, major, minor, access});
    };
    add('c', std::nullopt, std::nullopt, "m");
    add('b', std::nullopt, std::nullopt, "m");
    for (const auto& [major, minor] :
         {std::pair{1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 1}, {5, 2}, {10, 200}})
        add('c', major, minor, "rwm");
    add('c', 136, std::nullopt, "rwm");
    // linux.devices only creates nodes; access to them is what resources.devices allows, as in
    // runc (a node the rules deny stays unopenable).
    return resources;
}

Result<void> prepare(Prepared& p, const Options& options, const CreateOptions& co,
                     store::Record& record, CreateCleanup& cleanup, CgroupMaker& maker,
                     std::optional<NetnsMaker>& netns)
{
    const auto fifo = store::fifo_path(options, co.id);
    if (::mkfifo(fifo.c_str(), 0600) < 0)
        return Error::from_errno("mkfifo ", berth::quoted(fifo));
    auto fifo_fd = open_at(AT_FDCWD, fifo, O_RDONLY | O_NONBLOCK);
    if (!fifo_fd)
        return std::move(fifo_fd).error();
    p.plan.fifo_fd = fifo_fd->get();
    p.fds.push_back(std::move(*fifo_fd));
    auto host = cgroups::detect();
    if (!host)
        return std::move(host).error().wrap("detect cgroups");
    trace::phase("create: fifo made, cgroups detected");
    // The process is planned while the maker's thread makes the cgroup; its error, if any, is
    // reported where it was before (after the cgroup's and the child plan's). The child itself
    // is planned once the cgroup is made: the plan binds into the container only the
    // hierarchies where the cgroup's directory exists.
    auto process_planned = plan_process(p, record.rootfs);
    auto cgroup = maker.take();
    if (!cgroup)
        return std::move(cgroup).error().wrap(cat("cgroup ", berth::quoted(record.cgroup_path)));
    trace::phase("create: cgroup made");
    record.cgroup = cgroup->ownership();
    auto join = cgroup->open_join_files();
    cleanup.cgroup = std::move(*cgroup);
    if (!join)
        return std::move(join).error().wrap("join cgroup");
    if (join->v2_dir.valid()) {
        p.plan.cgroup.v2_fd = join->v2_dir.get();
        p.fds.push_back(std::move(join->v2_dir));
    }
    for (auto& tasks : join->v1_tasks) {
        p.cgroup_tasks_fds.push_back(tasks.get());
        p.fds.push_back(std::move(tasks));
    }
    p.plan.cgroup.tasks_fds = p.cgroup_tasks_fds.data();
    p.plan.cgroup.tasks_count = p.cgroup_tasks_fds.size();
    if (auto r = store::save(options, record); !r) // what to undo, should we die from here on
        return r;
    Fd premade_net = netns ? netns->take() : Fd();
    const int premade_net_fd = premade_net.get();
    if (premade_net.valid())
        p.fds.push_back(std::move(premade_net)); // the stage's keep-list; closed after spawn
    if (auto r = build_child_plan(p.spec, record.bundle, record.rootfs, &*host, record.cgroup_path,
                                  p.arena, p.fds, p.plan, premade_net_fd);
        !r)
        return r;
    if (!process_planned)
        return process_planned;
    return prepare_process(p, co);
}

Result<void> load_bundle(Prepared& p, const CreateOptions& co, store::Record& record)
{
    auto bundle = real_path(co.bundle, "bundle");
    if (!bundle)
        return std::move(bundle).error();
    record.bundle = *bundle;
    auto bytes = read_file(record.bundle + "/config.json", max_spec_bytes);
    if (!bytes)
        return std::move(bytes).error().wrap("bundle");
    auto spec = parse_spec(*bytes);
    if (!spec)
        return std::move(spec).error().wrap(record.bundle + "/config.json");
    if (!spec->process)
        return Error::invalid("config.json: process: required to create a container");
    const auto& root = spec->root.path;
    auto rootfs = real_path(root.front() == '/' ? root : record.bundle + "/" + root, "rootfs");
    if (!rootfs)
        return std::move(rootfs).error();
    struct stat st {};
    if (::stat(rootfs->c_str(), &st) < 0 || !S_ISDIR(st.st_mode))
        return Error::with_code(ENOTDIR, "rootfs ", berth::quoted(*rootfs));
    record.rootfs = *rootfs;
    record.oci_version = spec->oci_version;
    record.annotations = spec->annotations;
    record.hooks =
        store::Record::Hooks{!spec->hooks.poststart.empty(), !spec->hooks.poststop.empty()};
    p.spec = std::move(*spec);
    p.config_bytes = std::move(*bytes);
    return {};
}

// mkdir <root>/<id>. A directory without state.json that nobody holds locked is what a create
// killed between its mkdir and its first save left: it made nothing else, and is replaced.
Result<void> make_container_dir(const Options& options, const std::string& id)
{
    const auto dir = store::container_dir(options, id);
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (::mkdir(dir.c_str(), 0711) == 0)
            return {};
        if (errno != EEXIST)
            return Error::from_errno("mkdir ", berth::quoted(dir));
        if (attempt > 0 || path_exists(store::state_path(options, id)) ||
            store::locked(options, id))
            break;
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    return Error::with_code(EEXIST, "container ", berth::quoted(id), " already exists");
}

} // namespace

Result<Created> create_container(const Options& options, const CreateOptions& co)
{
    if (auto r = store::check_id(co.id); !r)
        return std::move(r).error();
    // Before we open any fd of our own: one could take a free number in the preserved range.
    if (auto r = check_fd_mapping(co.preserve_fds, co.pass_fds); !r)
        return std::move(r).error();
    auto p = std::make_unique<Prepared>();
    store::Record record;
    record.id = co.id;
    record.boot_id = store::current_boot_id();
    record.created_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    if (auto r = load_bundle(*p, co, record); !r)
        return std::move(r).error();
    trace::phase("create: bundle read and parsed");
    // The network namespace is made meanwhile on a thread (netns.hpp): it needs nothing from the
    // state directory or the cgroup, and a create that fails drops it with the fd.
    std::optional<NetnsMaker> netns;
    if (premade_netns_fits(p->spec))
        netns.emplace();
    auto cgroup_path = cgroup_path_for(options, p->spec.linux.cgroups_path, co.id);
    if (!cgroup_path)
        return std::move(cgroup_path).error();
    record.cgroup_path = std::move(*cgroup_path);
    if (auto r = make_directories(options.root, 0711); !r)
        return std::move(r).error().wrap("state root");
    const auto dir = store::container_dir(options, co.id);
    if (auto r = make_container_dir(options, co.id); !r)
        return std::move(r).error();
    CreateCleanup cleanup{dir, std::nullopt, true};
    auto lock = store::lock(options, co.id);
    if (!lock)
        return std::move(lock).error();
    if (auto r = store::save_config(options, co.id, p->config_bytes); !r)
        return std::move(r).error();
    // Written before anything else is made (pid 0: "creating"), so a create that dies midway
    // (SIGKILL) leaves a container that list and state show and delete removes, not a hidden one.
    if (auto r = store::save(options, record); !r)
        return std::move(r).error();
    trace::phase("create: state directory, lock, config and state saved");
    // Only now, with the state saved: a create killed from here on leaves a container that
    // delete finds, cgroup included.
    CgroupMaker maker(record.cgroup_path, p->spec.linux.resources
                                              ? std::optional(with_default_devices(p->spec))
                                              : std::nullopt);
    if (auto r = prepare(*p, options, co, record, cleanup, maker, netns); !r)
        return std::move(r).error();
    trace::phase("create: fifo, cgroup, child plan");
    Fd sync;
    auto child = spawn(options, *p, record, *cleanup.cgroup, sync);
    if (!child)
        return std::move(child).error();
    if (!co.pid_file.empty())
        if (auto r = write_file_atomic(co.pid_file, std::to_string(record.pid), 0644); !r)
            return std::move(r).error().wrap("pid file");
    cleanup.armed = false;
    trace::phase("create: done");
    return Created{store::to_state(record, Status::Created), std::move(*child), std::move(sync),
                   p->spec.process->args.front()};
}

Result<State> create(const Options& options, const CreateOptions& co)
{
    auto created = create_container(options, co);
    if (!created)
        return std::move(created).error().wrap(cat("create container ", co.id));
    created->child.release(); // the container outlives this call
    return created->state;
}

} // namespace berth::runtime
