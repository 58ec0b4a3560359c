// runtime/run.cpp — `start` (release a created container's init into exec) and `run`
// (create + start, and in the foreground: forward signals, wait, delete).
#include <fcntl.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cerrno>
#include <optional>
#include "base/files.hpp"
#include "base/trace.hpp"
#include "runtime/create.hpp"
#include "runtime/hooks.hpp"
#include "runtime/state_store.hpp"

namespace berth::runtime {
namespace {

Result<void> start_container(const Options& options, const std::string& id)
{
    if (auto r = store::check_id(id); !r)
        return r;
    auto lock = store::lock(options, id);
    if (!lock)
        return std::move(lock).error();
    auto record = store::load(options, id);
    if (!record)
        return std::move(record).error();
    const auto status = store::observe_status(options, *record);
    if (status != Status::Created)
        return store::wrong_state(status, "created");
    trace::phase("start: locked, state loaded, status observed");
    const auto fifo = store::fifo_path(options, id);
    // O_NONBLOCK: with no reader (the init died) this fails with ENXIO instead of hanging.
    auto fd = open_at(AT_FDCWD, fifo, O_WRONLY | O_NONBLOCK);
    if (!fd) {
        if (fd.error().code == ENXIO)
            return store::wrong_state(Status::Stopped, "created"); // its init is gone
        return std::move(fd).error();
    }
    if (auto r = write_all(fd->get(), std::string_view("0", 1)); !r)
        return std::move(r).error().wrap("exec fifo");
    fd->reset();
    if (::unlink(fifo.c_str()) < 0)
        return Error::from_errno("unlink ", berth::quoted(fifo));
    trace::phase("start: fifo written and removed");
    // poststart failures are not the container's: the process already runs. Each goes to the
    // caller's warning sink (a library does not log) and the rest run, as the OCI spec says.
    // The state says whether there are any: config.json is parsed only then.
    if (!record->hooks || record->hooks->poststart)
        if (auto spec = store::load_config(options, id); spec && !spec->hooks.poststart.empty())
            run_hooks_warning("poststart", spec->hooks.poststart,
                              state_to_json(store::to_state(*record, Status::Running)),
                              options.warn);
    trace::phase("start: poststart hooks");
    return {};
}

} // namespace

Result<int> wait_foreground(Child& child, Fd& sync_fd, std::string_view program, int signal_fd,
                            std::string_view cwd)
{
    std::optional<Error> exec_error;
    int sync = sync_fd.get();
    for (;;) {
        // poll ignores a negative fd: without signal_fd only the child and sync are watched.
        pollfd fds[3] = {{child.pidfd(), POLLIN, 0}, {signal_fd, POLLIN, 0}, {sync, POLLIN, 0}};
        if (::poll(fds, sync >= 0 ? 3 : 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return Error::from_errno("poll");
        }
        if (fds[1].revents & POLLIN) {
            signalfd_siginfo info{};
            while (::read(signal_fd, &info, sizeof info) == sizeof info)
                (void)child.signal(static_cast<int>(info.ssi_signo));
        }
        if (sync >= 0 && fds[2].revents) {
            auto m = receive_sync(sync);
            if (m && m->type == SyncType::Failure)
                exec_error = describe_process_failure(*m, program, cwd);
            sync_fd.reset();
            sync = -1;
        }
        if (fds[0].revents & POLLIN)
            break;
    }
    auto status = child.wait();
    if (exec_error)
        return *exec_error;
    return status;
}

Result<void> start(const Options& options, const std::string& id)
{
    if (auto r = start_container(options, id); !r)
        return std::move(r).error().wrap(cat("start container ", id));
    return {};
}

Result<int> run(const Options& options, const CreateOptions& co, bool detach)
{
    // The caller blocked the signals it forwards before calling (berth-runtime run does): one
    // that arrives while the container starts is forwarded once it runs, not lost. The child
    // clears the blocked mask it inherits before it execs.
    auto created = create_container(options, co);
    if (!created)
        return std::move(created).error().wrap(cat("create container ", co.id));
    if (auto r = start_container(options, co.id); !r) {
        created->child = Child();
        (void)remove(options, co.id, true);
        return std::move(r).error().wrap(cat("start container ", co.id));
    }
    if (detach) {
        created->child.release();
        return 0;
    }
    auto status = wait_foreground(created->child, created->sync, created->program, co.signal_fd);
    trace::phase("run: container exited");
    auto removed = remove(options, co.id, true);
    trace::phase("run: deleted");
    if (!status)
        return std::move(status).error().wrap(cat("run container ", co.id));
    if (!removed)
        return std::move(removed).error();
    return status;
}

} // namespace berth::runtime
