// agent/daemon/container_work.cpp — a container's blocking steps, on a worker thread: rootfs,
// spec, bundle, runtime create; health probes. Every step that fails undoes the ones before it
// (the Rootfs handle unmounts on destruction), so a failed create leaks no mount.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <filesystem>
#include "agent/daemon/containers.hpp"
#include "agent/daemon/journal_fields.hpp"
#include "base/fd.hpp"
#include "base/files.hpp"

namespace berth::daemon {
namespace {

// A leftover rootfs of the same id (a create cut short by a crash) is unmounted first: the
// engine re-sends Create only for a container the runtime does not know.
std::unique_ptr<image::Rootfs> fresh_rootfs(const image::Store& images,
                                            const image::ImageRecord& image, const std::string& id,
                                            Error& error)
{
    if (auto old = image::Rootfs::adopt(images, id)) {
        auto dropped = std::move(*old); // its destructor unmounts and removes
    }
    auto rootfs = image::Rootfs::mount(images, image, id);
    if (!rootfs) {
        error = std::move(rootfs).error();
        return nullptr;
    }
    return std::make_unique<image::Rootfs>(std::move(*rootfs));
}

Result<taskdef::ImageRunConfig> image_run_config(const image::Store& images,
                                                 const image::ImageRecord& image)
{
    auto text = read_file(images.blob_path(image.config_digest));
    if (!text)
        return std::move(text).error().wrap(cat("image config of ", image.reference));
    return taskdef::parse_image_run_config(*text);
}

// The task network's /etc files (net writes them per task), bound over the image's.
Result<void> add_network_files(runtime::Spec& spec, const std::string& files_dir)
{
    if (files_dir.empty())
        return {};
    for (const char* name : {"resolv.conf", "hosts", "hostname"}) {
        const auto destination = cat("/etc/", name);
        bool taken = false;
        for (const auto& m : spec.mounts)
            taken = taken || m.destination == destination;
        if (taken)
            continue;
        auto mount = runtime::make_mount(destination, "bind", cat(files_dir, "/", name),
                                         {"rbind", "rprivate"});
        if (!mount)
            return std::move(mount).error();
        spec.mounts.push_back(std::move(*mount));
    }
    return {};
}

Result<runtime::Spec> make_spec(const image::Store& images, const runtime::Options& rt,
                                const CreateInput& in, const std::string& rootfs)
{
    auto image_config = image_run_config(images, in.image);
    if (!image_config)
        return std::move(image_config).error();
    taskdef::SpecInputs inputs;
    inputs.rootfs = rootfs;
    inputs.volume_paths = in.volume_paths;
    inputs.netns_path = in.netns_path;
    inputs.hostname = in.hostname;
    inputs.cgroups_path = container_cgroups_path(rt, task_id_of(in.task_arn), in.runtime_id);
    inputs.extra_env = in.extra_env;
    inputs.ipc_ns_path = in.ipc_ns_path;
    inputs.pid_ns_path = in.pid_ns_path;
    inputs.shared_shm_dir = in.shared_shm_dir;
    // Checked here, where it is used: RunTask refused the task if it was missing then, but it
    // may have gone since (a package removed), and the runtime's bind mount would only say
    // ENOENT about a path inside the container.
    if (::access(in.init_path.c_str(), X_OK) == 0)
        inputs.init_path = in.init_path;
    else if (const auto* c = in.def.find(in.container); c && wants_init(*c))
        return Error::with_code(ENOENT, missing_init_detail(in.init_path));
    auto spec = taskdef::build_spec(in.def, in.container, *image_config, inputs);
    if (!spec)
        return std::move(spec).error();
    if (auto r = add_network_files(*spec, in.files_dir); !r)
        return std::move(r).error();
    return spec;
}

} // namespace

Result<Made> create_container(const image::Store& images, const runtime::Options& rt,
                              const CreateInput& in)
{
    Error error;
    auto rootfs = fresh_rootfs(images, in.image, in.runtime_id, error);
    if (!rootfs)
        return error.wrap("rootfs");
    auto spec = make_spec(images, rt, in, rootfs->path());
    if (!spec)
        return std::move(spec).error().wrap("spec");
    auto json = runtime::spec_to_json(*spec);
    if (!json)
        return std::move(json).error().wrap("spec");
    std::error_code ec;
    std::filesystem::remove_all(in.bundle_dir, ec);
    if (auto r = make_directories(in.bundle_dir, 0700); !r)
        return std::move(r).error().wrap("bundle");
    if (auto r = write_file_atomic(in.bundle_dir + "/config.json", *json, 0600); !r)
        return std::move(r).error().wrap("bundle");
    if (auto r = make_directories(std::filesystem::path(in.log_path).parent_path(), 0700); !r)
        return std::move(r).error().wrap("log directory");
    auto co = create_options(in.def, in.container, in.runtime_id, in.bundle_dir, in.log_path);
    if (!co)
        return std::move(co).error();
    if (logs_to_journald(in.def, in.container)) {
        if (auto r = use_journald(*co, in.def, in.container, *spec,
                                  {in.task_arn, in.cluster, in.task_definition_arn});
            !r)
            return std::move(r).error();
        auto marker = write_file_atomic(journald_marker_path(in.log_path),
                                        cat("CONTAINER_ID_FULL=", in.runtime_id, "\n"), 0600);
        if (!marker)
            return std::move(marker).error().wrap("journald marker for berth logs");
    }
    auto container = runtime::Container::create(rt, *co);
    std::filesystem::remove_all(in.bundle_dir, ec); // the runtime froze its own copy
    if (!container)
        return std::move(container).error().wrap(cat("runtime create ", in.runtime_id));
    // From here the rootfs belongs to a container that exists: kept at once, on this worker,
    // so that an answer dropped on the floor (the loop stopped, SIGTERM) never unmounts and
    // deletes a live container's writable layer. Remove adopts and unmounts it.
    rootfs->keep();
    Made made;
    made.container = std::make_shared<runtime::Container>(std::move(*container));
    return made;
}

Result<void> remove_leftover(const image::Store& images, const runtime::Options& rt,
                             const Leftover& leftover)
{
    const auto& id = leftover.runtime_id;
    auto removed =
        leftover.container ? leftover.container->remove(true) : runtime::remove(rt, id, true);
    if (!removed && removed.error().code != ENOENT)
        return std::move(removed).error().wrap(cat("remove container ", quoted(id)));
    if (auto r = image::Rootfs::remove(images, id); !r && r.error().code != ENOENT)
        return std::move(r).error().wrap(cat("remove the rootfs of ", quoted(id)));
    std::error_code ec;
    if (!leftover.bundle_dir.empty())
        std::filesystem::remove_all(leftover.bundle_dir, ec);
    if (!leftover.log_path.empty())
        remove_logs(leftover.log_path);
    return {};
}

bool is_log_file_of(std::string_view file, std::string_view log_name)
{
    if (file.substr(0, log_name.size()) != log_name)
        return false;
    const auto rest = file.substr(log_name.size());
    if (rest.empty() || rest == ".journald") // logDriver journald's marker (journal_fields.hpp)
        return true;
    if (rest.size() < 2 || rest[0] != '.')
        return false;
    return std::all_of(rest.begin() + 1, rest.end(), [](char c) { return c >= '0' && c <= '9'; });
}

void remove_logs(const std::string& log_path)
{
    // Every rotated file, however many max-file kept (up to 1000), not a fixed .1-.9: listed.
    const std::filesystem::path path(log_path);
    const auto dir = path.parent_path();
    const auto name = path.filename().string();
    std::error_code ec;
    std::vector<std::filesystem::path> doomed;
    for (auto it = std::filesystem::directory_iterator(dir, ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
        if (is_log_file_of(it->path().filename().string(), name))
            doomed.push_back(it->path());
    for (const auto& p : doomed)
        std::filesystem::remove(p, ec);
}

Result<bool> run_probe(const runtime::Options& rt, runtime::Container& container,
                       const std::vector<std::string>& command, std::chrono::milliseconds timeout)
{
    if (command.size() < 2)
        return Error::invalid("healthCheck.command: too short");
    auto config = runtime::stored_config(rt, container.id());
    if (!config || !config->process)
        return config ? Error::invalid("container has no process") : config.error();
    runtime::ExecOptions eo;
    eo.process = *config->process;
    eo.process.terminal = false;
    if (command[0] == "CMD-SHELL")
        eo.process.args = {"/bin/sh", "-c", command[1]};
    else
        eo.process.args.assign(command.begin() + 1, command.end());
    const Fd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
    eo.stdin_fd = eo.stdout_fd = eo.stderr_fd = null.get();
    auto process = container.exec(eo);
    if (!process)
        return std::move(process).error();
    pollfd p{process->wait_fd(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) {
        (void)process->signal(SIGKILL);
        (void)process->wait();
        return false;
    }
    auto record = process->wait();
    if (!record)
        return std::move(record).error();
    return record->status() == 0;
}

} // namespace berth::daemon
