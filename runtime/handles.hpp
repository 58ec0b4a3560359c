// runtime/handles.hpp — public (included by runtime.hpp): the runtime as an engine a long-lived,
// multi-threaded daemon embeds. Move-only handles own their kernel resources instead of ids that
// each call re-reads from disk: a Container owns an fd on its state directory and its init's
// ProcessHandle; a ProcessHandle owns a pidfd (and, when a supervisor is the parent, the read end
// of a pipe the supervisor closes once the exit record is on disk), so an event loop waits on
// wait_fd() and calls try_reap() without blocking a thread per process.
//
// The reaping rule. Exactly one process reaps each container process: its parent.
//  - In-process (Options::supervisor_socket empty: the CLI, tests): the caller is the parent (the
//    init is cloned with CLONE_PARENT). Its ProcessHandle::try_reap() reaps (waitid on the
//    pidfd), reads the cgroup's OOM kills, and writes the exit record before returning. Dropping
//    the handle of a live process leaves it to the caller to reap (nothing is killed).
//  - Supervised (Options::supervisor_socket names berth-supervisor's socket): the supervisor is
//    the parent and the only reaper. It writes the exit record, then closes the pipe behind
//    wait_fd(); try_reap() reads the record. Exit codes and logs outlive the caller.
// The library never reaps anything else (no waitpid(-1), no subreaper, no SIGCHLD handler);
// only run_supervisor(), berth-supervisor's own loop, reaps the orphans a subreaper inherits.
// A supervisor restarted after dying re-adopts the live inits (load, recover) and exec'd
// processes (Container::execs) it is asked to watch: not their parent, it records their end
// with ExitRecord::exit_unknown.
// Exit records: <root>/<id>/exit-init.json for the init, exit-<pid>.json for an exec'd process,
// written atomically (durably with Options::durable_state) before anything removes the cgroup.
#pragma once
#include <sys/types.h>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include "base/fd.hpp"
#include "base/result.hpp"
#include "runtime/runtime.hpp" // Options, State, ...; it includes this header at its end

namespace berth::runtime {

// How a process ended, as its reaper saw it.
struct ExitRecord {
    pid_t pid = 0;
    int exit_code = 0;        // WEXITSTATUS when it exited; 0 when a signal killed it
    int signal = 0;           // the signal that killed it, 0 when it exited
    bool core_dumped = false; // WCOREDUMP
    // Killed by SIGKILL while its cgroup counted a new OOM kill (the count at its exit above the
    // count when it started: an earlier OOM kill of another process does not label this one).
    bool oom_killed = false;
    std::int64_t finished_ns = 0; // CLOCK_REALTIME when it was reaped, since the epoch; 0 unknown
    std::string boot_id;          // /proc/sys/kernel/random/boot_id of that boot
    // Its reaper was not its parent (a restarted berth-supervisor re-adopted it, or found it gone
    // with no record): that it ended is known, how is not; exit_code, signal and core_dumped are
    // 0, oom_killed says whether its cgroup counted a new OOM kill while it was watched, and
    // finished_ns is 0 when it ended while nobody watched.
    bool exit_unknown = false;
    // As a shell reports it: the exit code, or 128 + signal.
    int status() const { return signal != 0 ? 128 + signal : exit_code; }
};
std::string exit_record_to_json(const ExitRecord& record);
// Strict and bounded (it is read back from disk); errors name the field.
Result<ExitRecord> parse_exit_record(std::string_view text);

class ProcessHandle {
public:
    enum class Reaper { Caller, Supervisor };
    ProcessHandle() = default;
    // pidfd: for pid, owned. exit_fd: Supervisor only, readable once the record is written.
    // record_path: where the exit record is (to be) written. cgroup_path: for OOM kills ("" none);
    // the kills it counts already are not this process's (read here, so make it at the start).
    ProcessHandle(pid_t pid, Fd pidfd, Reaper reaper, Fd exit_fd, std::string record_path,
                  std::string cgroup_path, bool durable);
    ProcessHandle(ProcessHandle&&) noexcept = default;
    ProcessHandle& operator=(ProcessHandle&&) noexcept = default;
    ProcessHandle(const ProcessHandle&) = delete;
    ProcessHandle& operator=(const ProcessHandle&) = delete;
    ~ProcessHandle() = default; // never kills: see the reaping rule

    bool valid() const { return pid_ > 0; }
    pid_t pid() const { return pid_; }
    int pidfd() const { return pidfd_.get(); } // for pidfd_send_signal, poll (exited)
    // What an event loop polls for POLLIN: readable once try_reap() will return a record.
    int wait_fd() const { return exit_fd_.valid() ? exit_fd_.get() : pidfd_.get(); }
    // Non-blocking: the exit record once the process ended (and was reaped), nullopt while it
    // runs. After the first record the same record is returned again.
    Result<std::optional<ExitRecord>> try_reap();
    // Blocks (poll on wait_fd) until try_reap() has the record.
    Result<ExitRecord> wait();
    // ESRCH once it exited: a signal never reaches a process that reused the pid.
    Result<void> signal(int sig) const;

private:
    Result<std::optional<ExitRecord>> reap_own_child();
    Result<void> write_record(); // reaped_ to record_path_; clears record_pending_
    Result<std::optional<ExitRecord>> read_supervisor_record();
    Result<std::optional<ExitRecord>> record_on_disk();
    pid_t pid_ = 0;
    Fd pidfd_;
    Reaper reaper_ = Reaper::Caller;
    Fd exit_fd_;
    std::string record_path_, cgroup_path_;
    bool durable_ = false;
    std::uint64_t oom_kills_before_ = 0; // the cgroup's OOM kills when this handle was made
    std::optional<ExitRecord> reaped_;
    bool record_pending_ = false; // reaped, but its record not yet written: retried by try_reap
};

class Container {
public:
    Container() = default;
    Container(Container&&) noexcept = default;
    Container& operator=(Container&&) noexcept = default;
    Container(const Container&) = delete;
    Container& operator=(const Container&) = delete;
    ~Container() = default; // the container lives on; see remove()

    // create(): through the supervisor when options.supervisor_socket is set.
    static Result<Container> create(const Options& options, const CreateOptions& co);
    // An existing container: its init handle reaps only if a supervisor watches it (then the
    // record comes from there); otherwise try_reap() reports the exit record already on disk.
    static Result<Container> load(const Options& options, const std::string& id);

    const std::string& id() const { return id_; }
    int dir_fd() const { return dir_.get(); } // <root>/<id>, O_PATH
    ProcessHandle& init() { return init_; }
    Result<void> start();
    Result<void> kill(int sig, bool all = false);
    Result<void> pause();
    Result<void> resume();
    // Another process in the container; eo.detach is ignored (the handle is the answer).
    Result<ProcessHandle> exec(const ExecOptions& eo);
    // Supervised only (EINVAL otherwise): handles on the processes a supervisor exec'd here
    // whose end is not recorded yet, e.g. after the agent or the supervisor restarted. Those
    // a dead supervisor started are re-adopted by its successor (pid, start time and boot id
    // were recorded, so a reused pid is never taken for them) and end with exit_unknown; those
    // that ended while no supervisor ran come back with that record already.
    Result<std::vector<ProcessHandle>> execs();
    // Kills (force) and reaps the init if this handle is its reaper, then removes everything.
    Result<void> remove(bool force);
    Result<State> state() const;
    Result<cgroups::Stats> stats() const;
    // The init's exit record if it is on disk.
    std::optional<ExitRecord> exit_record() const;

private:
    Container(const Options& options, std::string id, Fd dir, ProcessHandle init);
    std::shared_ptr<const Options> options_; // kept whole: every verb needs it
    std::string id_;
    Fd dir_;
    ProcessHandle init_;
};

// What recover() finds under options.root after a restart.
struct Recovered {
    struct Ended {
        std::string id;
        // nullopt: its record is unreadable. One that ended with no reaper to record it (its
        // supervisor died first) gets an exit_unknown record, oom_killed from its cgroup.
        std::optional<ExitRecord> record;
    };
    std::vector<Container> live; // created, running or paused: re-adopted handles
    std::vector<Ended> ended;    // stopped containers, kept for the caller to remove
    std::vector<std::string> removed_incomplete; // half-made (no complete state): cleaned up
};
// Every container under options.root. A directory without a complete state that no create
// holds locked (a create killed midway) is removed like `delete` would (its cgroup too) and
// named in removed_incomplete, not hidden. With a supervisor, live handles get its exit pipe.
Result<Recovered> recover(const Options& options);

// berth-supervisor's loop (runtime/supervisor.cpp): serves create/exec/watch on socket_path
// (mode 0600), or on the listening socket a service manager passed (socket activation), and
// returns an error when it fails, success only when it left idle (idle_exit: nothing to
// supervise and nothing in flight for that long; runtime/supervisor_idle.cpp says how it leaves
// without losing a request). The binary ignores SIGPIPE (watchers go away); when it blocks
// SIGCHLD (and is a subreaper) the loop reaps every orphan it inherits.
struct SupervisorSettings {
    std::string socket_path;
    Fd inherited;                      // from the service manager: served, never unlinked
    std::chrono::seconds idle_exit{0}; // 0: never leaves
};
Result<void> run_supervisor(SupervisorSettings settings);

} // namespace berth::runtime
